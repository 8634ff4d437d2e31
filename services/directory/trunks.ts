// SIP trunks toward the phone company and the outbound routes that choose one by the dialled number.
import { prepared } from './prepared.js';
import { TableRepository } from './table-repository.js';
import type { Database } from '../storage/index.js';
import { RelaisError, NotFoundError } from '../shared/index.js';

export type TrunkTransport = 'udp' | 'tcp';

export interface Trunk {
  id: number;
  name: string;
  host: string;
  port: number;
  transport: TrunkTransport;
  /** Register to the provider (false: IP-authenticated peer). */
  register: boolean;
  username: string | null;
  authUsername: string | null;
  secret: string | null;
  realm: string | null;
  fromDomain: string | null;
  callerId: string | null;
  /** Sources accepted for inbound calls on an IP-authenticated trunk (addresses or CIDR). */
  allowedIps: string[];
  expires: number;
  enabled: boolean;
}

export type TrunkInput = Partial<Omit<Trunk, 'id' | 'name' | 'host'>> & { name: string; host: string };

export interface OutboundRoute {
  id: number;
  name: string;
  /** Prefix pattern: digits, +, *, # match themselves, X any digit, N 2-9, Z 1-9; a trailing "." means "and one or more characters after". */
  pattern: string;
  /** Digits removed from the front before sending. */
  strip: number;
  /** Prepended after stripping. */
  prepend: string;
  trunkId: number;
  /** Lower is tried first. */
  priority: number;
}

export type OutboundRouteInput = Partial<Omit<OutboundRoute, 'id' | 'trunkId' | 'pattern' | 'name'>> & { name: string; pattern: string; trunkId: number };

interface TrunkRow {
  id: number;
  name: string;
  host: string;
  port: number;
  transport: TrunkTransport;
  register: number;
  username: string | null;
  auth_username: string | null;
  secret: string | null;
  realm: string | null;
  from_domain: string | null;
  caller_id: string | null;
  allowed_ips: string;
  expires: number;
  enabled: number;
}

interface RouteRow {
  id: number;
  name: string;
  pattern: string;
  strip: number;
  prepend: string;
  trunk_id: number;
  priority: number;
}

export const ROUTE_PATTERN_RE = /^[0-9+*#XNZ]*\.?$/;
const HOST_RE = /^[A-Za-z0-9.-]+$|^\[[0-9a-fA-F:]+\]$/;

/** Does the dialled number match the route pattern? (see OutboundRoute.pattern) */
export function routeMatches(pattern: string, dialled: string): boolean {
  const open = pattern.endsWith('.');
  const body = open ? pattern.slice(0, -1) : pattern;
  if (open ? dialled.length <= body.length : dialled.length !== body.length) return false;
  for (let i = 0; i < body.length; i++) {
    const p = body[i]!;
    const d = dialled[i];
    if (d === undefined) return false;
    if (p === 'X' ? !/[0-9]/.test(d) : p === 'N' ? !/[2-9]/.test(d) : p === 'Z' ? !/[1-9]/.test(d) : p !== d) return false;
  }
  return true;
}

/** The number to send on the trunk: strip, then prepend. */
export function applyRoute(route: Pick<OutboundRoute, 'strip' | 'prepend'>, dialled: string): string {
  return route.prepend + dialled.slice(route.strip);
}

function toTrunk(r: TrunkRow): Trunk {
  return {
    id: r.id,
    name: r.name,
    host: r.host,
    port: r.port,
    transport: r.transport,
    register: r.register === 1,
    username: r.username,
    authUsername: r.auth_username,
    secret: r.secret,
    realm: r.realm,
    fromDomain: r.from_domain,
    callerId: r.caller_id,
    allowedIps: JSON.parse(r.allowed_ips) as string[],
    expires: r.expires,
    enabled: r.enabled === 1,
  };
}

function toRoute(r: RouteRow): OutboundRoute {
  return { id: r.id, name: r.name, pattern: r.pattern, strip: r.strip, prepend: r.prepend, trunkId: r.trunk_id, priority: r.priority };
}

/** A trunk with every setting the input leaves out at its default (port 5060, UDP, registering, 600 s): the one place they are written. */
export function trunkWithDefaults(input: TrunkInput): Omit<Trunk, 'id'> {
  return {
    name: input.name,
    host: input.host,
    port: input.port ?? 5060,
    transport: input.transport ?? 'udp',
    register: input.register ?? true,
    username: input.username ?? null,
    authUsername: input.authUsername ?? null,
    secret: input.secret ?? null,
    realm: input.realm ?? null,
    fromDomain: input.fromDomain ?? null,
    callerId: input.callerId ?? null,
    allowedIps: input.allowedIps ?? [],
    expires: input.expires ?? 600,
    enabled: input.enabled ?? true,
  };
}

export class TrunkRepository extends TableRepository<TrunkRow, Trunk> {
  constructor(db: Database) {
    super(db, { table: 'trunks', what: 'trunk' });
  }

  protected toEntity(r: TrunkRow): Trunk {
    return toTrunk(r);
  }




  findByName(name: string): Trunk | undefined {
    return this.findOne('name', name);
  }

  private check(t: Omit<Trunk, 'id'>): void {
    if (!t.name.trim()) throw new RelaisError('trunk.name_missing', 'a trunk needs a name', { field: 'name' });
    if (!HOST_RE.test(t.host)) throw new RelaisError('trunk.host_invalid', `host "${t.host}" is not a host name or address`, { field: 'host' });
    if (!Number.isInteger(t.port) || t.port < 1 || t.port > 65535) throw new RelaisError('trunk.port_invalid', `port ${t.port} is out of range (1-65535)`, { field: 'port' });
    if (t.transport !== 'udp' && t.transport !== 'tcp') throw new RelaisError('trunk.transport_invalid', `transport "${String(t.transport)}" is not udp or tcp`, { field: 'transport' });
    if (t.register && (!t.username || !t.secret)) throw new RelaisError('trunk.credentials_missing', `trunk "${t.name}" registers, so it needs a username and a secret`, { field: 'username' });
    if (!Number.isInteger(t.expires) || t.expires < 60 || t.expires > 86400) throw new RelaisError('trunk.expires_invalid', `expires ${t.expires} must be 60-86400 seconds`, { field: 'expires' });
  }

  private values(t: Omit<Trunk, 'id'>): unknown[] {
    return [t.name, t.host, t.port, t.transport, t.register ? 1 : 0, t.username, t.authUsername, t.secret, t.realm, t.fromDomain, t.callerId, JSON.stringify(t.allowedIps), t.expires, t.enabled ? 1 : 0];
  }

  create(input: TrunkInput): Trunk {
    const t = trunkWithDefaults(input);
    this.check(t);
    if (this.findByName(t.name)) throw new RelaisError('trunk.exists', `trunk "${t.name}" already exists`, { field: 'name', status: 409 });
    const info = prepared(this.db, `INSERT INTO trunks (name, host, port, transport, register, username, auth_username, secret, realm, from_domain,
                  caller_id, allowed_ips, expires, enabled) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
      .run(...this.values(t));
    return this.require(Number(info.lastInsertRowid));
  }

  update(id: number, patch: Partial<Omit<Trunk, 'id'>>): Trunk {
    const t = { ...this.require(id), ...patch };
    this.check(t);
    const other = this.findByName(t.name);
    if (other && other.id !== id) throw new RelaisError('trunk.exists', `trunk "${t.name}" already exists`, { field: 'name', status: 409 });
    prepared(this.db, `UPDATE trunks SET name = ?, host = ?, port = ?, transport = ?, register = ?, username = ?, auth_username = ?, secret = ?,
                  realm = ?, from_domain = ?, caller_id = ?, allowed_ips = ?, expires = ?, enabled = ? WHERE id = ?`)
      .run(...this.values(t), id);
    return this.require(id);
  }


  /** Every route, in the order they are tried (priority, then id). */
  routes(trunkId?: number): OutboundRoute[] {
    const rows = (trunkId === undefined
      ? prepared(this.db, 'SELECT * FROM outbound_routes ORDER BY priority, id').all()
      : prepared(this.db, 'SELECT * FROM outbound_routes WHERE trunk_id = ? ORDER BY priority, id').all(trunkId)) as RouteRow[];
    return rows.map(toRoute);
  }

  createRoute(input: OutboundRouteInput): OutboundRoute {
    if (!ROUTE_PATTERN_RE.test(input.pattern) || input.pattern === '') {
      throw new RelaisError('route.pattern_invalid', `route pattern "${input.pattern}" may hold digits, + * #, X N Z and a trailing "."`, { field: 'pattern' });
    }
    const strip = input.strip ?? 0;
    if (!Number.isInteger(strip) || strip < 0 || strip > 20) throw new RelaisError('route.strip_invalid', `strip ${strip} must be 0-20`, { field: 'strip' });
    const prepend = input.prepend ?? '';
    if (!/^[0-9+*#]*$/.test(prepend)) throw new RelaisError('route.prepend_invalid', `prepend "${prepend}" may hold only digits, + * #`, { field: 'prepend' });
    this.require(input.trunkId);
    const info = prepared(this.db, 'INSERT INTO outbound_routes (name, pattern, strip, prepend, trunk_id, priority) VALUES (?, ?, ?, ?, ?, ?)')
      .run(input.name, input.pattern, strip, prepend, input.trunkId, input.priority ?? 0);
    return toRoute(prepared(this.db, 'SELECT * FROM outbound_routes WHERE id = ?').get(Number(info.lastInsertRowid)) as RouteRow);
  }

  deleteRoute(id: number): void {
    const info = prepared(this.db, 'DELETE FROM outbound_routes WHERE id = ?').run(id);
    if (info.changes === 0) throw new NotFoundError('route', id);
  }

  /** The first route (by priority) whose pattern matches the dialled number, on an enabled trunk. */
  routeFor(dialled: string): { route: OutboundRoute; trunk: Trunk; send: string } | undefined {
    for (const route of this.routes()) {
      if (!routeMatches(route.pattern, dialled)) continue;
      const trunk = this.get(route.trunkId);
      if (!trunk || !trunk.enabled) continue;
      return { route, trunk, send: applyRoute(route, dialled) };
    }
    return undefined;
  }
}
