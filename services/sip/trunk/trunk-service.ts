// SIP trunks: registrations to providers, inbound INVITEs matched to a trunk and a DID, outbound route selection.
import dns from 'node:dns';
import net from 'node:net';
import { TypedEmitter, errorMessage, type Clock, type Logger, type Module, type ModuleHealth } from '../../shared/index.js';
import type { Extension, InboundNumber, Trunk, TrunkRepository } from '../../directory/index.js';

/** What the trunk layer reads of the directory (the repositories fit; narrow so tests and other callers can fake it). */
export interface TrunkLookups {
  trunks: { list(): Trunk[]; routeFor: TrunkRepository['routeFor'] };
  numbers: { list(): InboundNumber[]; findByDid(did: string): InboundNumber | undefined };
  extensions: { findByNumber(number: string): Extension | undefined };
}
import type { SipRequest, SipResponse } from '../message/index.js';
import type { BindingSource } from '../registrar/index.js';
import { parseAddressRule, ruleMatches, type AddressRule } from './ip-match.js';
import { TrunkRegistration, type TrunkRegistrationStatus, type TrunkRequestOptions } from './trunk-registration.js';

/** The part of SipStack trunks need. */
export interface TrunkSipHost {
  request(opts: TrunkRequestOptions): Promise<SipResponse>;
  /** Contact header value for a flow, e.g. `<sip:user@192.0.2.1:5060>` (SipStack.contactFor). */
  contactFor(transport: 'udp' | 'tcp', user?: string): string;
}

export interface TrunkServiceOptions {
  trunks: TrunkLookups['trunks'];
  numbers: TrunkLookups['numbers'];
  extensions: TrunkLookups['extensions'];
  clock: Clock;
  logger: Logger;
  /** Host name → addresses (default: DNS lookup); tests and loopback setups inject their own. */
  resolve?: (host: string) => Promise<string[]>;
  baseBackoffMs?: number;
  maxBackoffMs?: number;
}

export interface TrunkStatus {
  id: number;
  name: string;
  enabled: boolean;
  register: boolean;
  /** 'ip' for IP-authenticated peers (nothing to register). */
  registration: TrunkRegistrationStatus | 'ip';
  addresses: string[];
}

export interface InboundMatch {
  trunkName: string;
  trunkId: number;
  /** How the trunk was recognised. */
  by: 'allowed-ip' | 'registration' | 'host';
  /** The dialled DID as written (Request-URI user, or To user when the Request-URI is our registration contact). */
  dialled: string | undefined;
  /** The inbound number (numbers table) the call is for, if configured. */
  number: InboundNumber | undefined;
}

/** Where an outbound call goes (shape of the call layer's OutboundRoute, plus what the console may show). */
export interface OutboundRouteResult {
  uri: string;
  target: { address: string; port: number; transport: 'udp' | 'tcp' };
  auth?: { username: string; password: string };
  /** Caller ID to present: a number the caller's user is assigned to, the trunk default, or "anonymous". */
  callerId: string;
  trunkName: string;
  trunkId: number;
  routeName: string;
  /** Number sent to the provider (after strip/prepend). */
  send: string;
  /** Domain for the From header toward this provider. */
  fromDomain: string;
}

export interface TrunkEvents {
  [event: string]: unknown[];
  status: [{ trunk: string; status: TrunkRegistrationStatus }];
}

interface TrunkEntry {
  trunk: Trunk;
  rules: AddressRule[];
  addresses: string[];
  registration: TrunkRegistration | undefined;
  /**
   * "address port" → whether the allowed_ips rules match (node:net BlockList builds a SocketAddress per check, the
   * largest cost of recognising a trunk call). Lives as long as the entry: a changed trunk gets a new entry.
   */
  ruleHits?: Map<string, boolean>;
}

/** Bound on ruleHits per trunk (a scan from many addresses must not grow it without end). */
const MAX_RULE_HITS = 4096;

async function dnsResolve(host: string): Promise<string[]> {
  const h = host.replace(/^\[|\]$/g, '');
  if (net.isIP(h)) return [h];
  const all = await dns.promises.lookup(h, { all: true });
  return all.map((a) => a.address);
}

function stripPlus(n: string): string {
  if (n.startsWith('+')) return n.slice(1);
  if (n.startsWith('00')) return n.slice(2);
  return n;
}

export class TrunkService extends TypedEmitter<TrunkEvents> implements Module {
  readonly name = 'trunks';
  private readonly opts: TrunkServiceOptions;
  private readonly log: Logger;
  private sip: TrunkSipHost | undefined;
  private entries: TrunkEntry[] = [];
  private running = false;

  constructor(opts: TrunkServiceOptions) {
    super();
    this.opts = opts;
    this.log = opts.logger.child({ module: 'trunks' });
  }

  attach(sip: TrunkSipHost): void {
    this.sip = sip;
  }

  async start(): Promise<void> {
    this.running = true;
    await this.reload();
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.entries.map((e) => e.registration?.stop(false)));
    this.entries = [];
  }

  health(): ModuleHealth {
    const statuses = this.status();
    const down = statuses.filter((s) => s.enabled && s.registration !== 'ip' && s.registration.state !== 'registered');
    return {
      status: !this.running ? 'down' : down.length > 0 ? 'degraded' : 'ok',
      detail: { trunks: statuses.map((s) => ({ name: s.name, state: s.registration === 'ip' ? 'ip' : s.registration.state })) },
    };
  }

  status(): TrunkStatus[] {
    return this.entries.map((e) => ({
      id: e.trunk.id,
      name: e.trunk.name,
      enabled: e.trunk.enabled,
      register: e.trunk.register,
      registration: e.registration ? e.registration.status() : 'ip',
      addresses: e.addresses,
    }));
  }

  /**
   * Reads the trunks again (after a site import or an edit): registrations of removed or changed trunks stop
   * (un-REGISTER), new ones start. Registrations run in the background; this resolves once addresses are known.
   */
  async reload(): Promise<void> {
    const old = new Map(this.entries.map((e) => [e.trunk.id, e]));
    const next: TrunkEntry[] = [];
    for (const trunk of this.opts.trunks.list()) {
      const prev = old.get(trunk.id);
      const unchanged = prev && JSON.stringify(prev.trunk) === JSON.stringify(trunk);
      if (unchanged) {
        next.push(prev);
        old.delete(trunk.id);
        continue;
      }
      const rules: AddressRule[] = [];
      for (const ip of trunk.allowedIps) {
        try {
          rules.push(parseAddressRule(ip));
        } catch (err) {
          this.log.warn('trunk allowed IP ignored', { trunk: trunk.name, error: errorMessage(err) });
        }
      }
      let addresses: string[] = [];
      try {
        addresses = await (this.opts.resolve ?? dnsResolve)(trunk.host);
      } catch (err) {
        this.log.warn('trunk host does not resolve', { trunk: trunk.name, host: trunk.host, error: errorMessage(err) });
      }
      next.push({ trunk, rules, addresses, registration: undefined });
    }
    for (const gone of old.values()) await gone.registration?.stop(true);
    for (const e of next) {
      if (e.registration || !this.running) continue;
      if (!e.trunk.enabled || !e.trunk.register) continue;
      const sip = this.sip;
      if (!sip) {
        this.log.warn('trunk not registered: no SIP stack attached', { trunk: e.trunk.name });
        continue;
      }
      e.registration = new TrunkRegistration(e.trunk, {
        clock: this.opts.clock,
        logger: this.log,
        host: {
          request: (o) => sip.request(o),
          contactUri: (transport, user) => sip.contactFor(transport, user).replace(/^<|>$/g, ''),
        },
        ...(this.opts.baseBackoffMs !== undefined ? { baseBackoffMs: this.opts.baseBackoffMs } : {}),
        ...(this.opts.maxBackoffMs !== undefined ? { maxBackoffMs: this.opts.maxBackoffMs } : {}),
        onChange: (status) => this.emit('status', { trunk: e.trunk.name, status }),
      });
      void e.registration.start();
    }
    this.entries = next;
  }

  /** The registration of a trunk by name (tests, console). */
  registration(name: string): TrunkRegistration | undefined {
    return this.entries.find((e) => e.trunk.name === name)?.registration;
  }

  /** Whether `address` is one of the enabled trunks' providers (allowed_ips or registration address): flood budget. */
  isPeerAddress(address: string): boolean {
    for (const e of this.entries) {
      if (!e.trunk.enabled) continue;
      if (e.addresses.includes(address) || e.rules.some((r) => r.list.has(address))) return true;
    }
    return false;
  }

  /**
   * The trunk an inbound request came from. An IP-authenticated peer is recognised by its source (allowed_ips);
   * a registered trunk by the provider's address plus either its SIP port or a Request-URI naming the contact we
   * registered (so phones on the provider's network, or on loopback in tests, are not mistaken for it).
   */
  matchInbound(req: { msg: SipRequest; source: BindingSource }): InboundMatch | undefined {
    // Asked twice per new call (the caller screen, then call control): the second time answers from here.
    const memo = this.matched.get(req.msg);
    if (memo && memo.entries === this.entries) return memo.match;
    const match = this.matchInboundOnce(req);
    this.matched.set(req.msg, { entries: this.entries, match });
    return match;
  }

  private readonly matched = new WeakMap<SipRequest, { entries: TrunkEntry[]; match: InboundMatch | undefined }>();

  private matchInboundOnce(req: { msg: SipRequest; source: BindingSource }): InboundMatch | undefined {
    const { address, port } = req.source;
    let ruriUser: string | undefined;
    let toUser: string | undefined;
    try {
      ruriUser = req.msg.ruri.user;
    } catch {
      ruriUser = undefined;
    }
    try {
      toUser = req.msg.to().uri.user;
    } catch {
      toUser = undefined;
    }
    for (const e of this.entries) {
      if (!e.trunk.enabled) continue;
      let by: InboundMatch['by'] | undefined;
      if (this.rulesMatch(e, address, port)) by = 'allowed-ip';
      else if (e.trunk.register && e.addresses.includes(address)) {
        const contactUser = e.registration?.contactUser ?? e.trunk.username ?? undefined;
        if (contactUser !== undefined && ruriUser === contactUser) by = 'registration';
        else if (port === e.trunk.port) by = 'host';
      }
      if (!by) continue;
      // A call to our registration contact carries the DID in To (RFC 3261 §8.1.1.2: To is the logical recipient).
      const dialled = by === 'registration' ? (toUser !== ruriUser ? toUser : ruriUser) : (ruriUser ?? toUser);
      return { trunkName: e.trunk.name, trunkId: e.trunk.id, by, dialled, number: this.findNumber(dialled, toUser) };
    }
    return undefined;
  }

  private rulesMatch(e: TrunkEntry, address: string, port: number): boolean {
    if (e.rules.length === 0) return false;
    const key = `${address} ${port}`;
    const hits = (e.ruleHits ??= new Map());
    let hit = hits.get(key);
    if (hit === undefined) {
      hit = e.rules.some((r) => ruleMatches(r, address, port));
      if (hits.size >= MAX_RULE_HITS) hits.clear();
      hits.set(key, hit);
    }
    return hit;
  }

  private findNumber(...candidates: Array<string | undefined>): InboundNumber | undefined {
    for (const c of candidates) {
      if (!c) continue;
      const direct = this.opts.numbers.findByDid(c);
      if (direct) return direct;
    }
    // Providers differ in how they write a number (+33…, 0033…, 33…): compare without the international prefix.
    // The DIDs that strip to w are "+w", "00w" and w itself when it has no prefix to strip; each is looked up by
    // its unique column (the directory's read cache answers), and of several the first by id wins, as in a scan.
    let best: InboundNumber | undefined;
    for (const c of candidates) {
      if (!c) continue;
      const w = stripPlus(c);
      for (const did of stripPlus(w) === w ? [`+${w}`, `00${w}`, w] : [`+${w}`, `00${w}`]) {
        const n = this.opts.numbers.findByDid(did);
        if (n && (best === undefined || n.id < best.id)) best = n;
      }
    }
    return best;
  }

  /**
   * Picks the outbound route for a dialled number (first matching route by priority on an enabled trunk) and the
   * caller ID: docs/product.md §7, "only a number's assigned users may present it as caller ID on outbound calls".
   */
  routeOutbound(dialled: string, callerExtension: string): OutboundRouteResult | undefined {
    const found = this.opts.trunks.routeFor(dialled);
    if (!found) return undefined;
    const { route, trunk, send } = found;
    const entry = this.entries.find((e) => e.trunk.id === trunk.id);
    const address = entry?.addresses[0] ?? trunk.host.replace(/^\[|\]$/g, '');
    const domain = trunk.fromDomain ?? trunk.realm ?? trunk.host;
    const hostPart = trunk.port === 5060 ? trunk.host : `${trunk.host}:${trunk.port}`;
    const result: OutboundRouteResult = {
      uri: `sip:${send}@${hostPart}${trunk.transport === 'tcp' ? ';transport=tcp' : ''}`,
      target: { address, port: trunk.port, transport: trunk.transport },
      callerId: this.presentable(callerExtension, trunk),
      trunkName: trunk.name,
      trunkId: trunk.id,
      routeName: route.name,
      send,
      fromDomain: domain,
    };
    const auth = credentialsOf(trunk);
    if (auth) result.auth = auth;
    return result;
  }

  /**
   * The credentials of the enabled trunk at `address` (its resolved host, or its allowed_ips): what answers that
   * provider's digest challenge to an in-dialog request, e.g. a BYE (RFC 3261 §22). Never another trunk's.
   */
  credentialsFor(address: string, port: number): { username: string; password: string } | undefined {
    for (const e of this.entries) {
      if (!e.trunk.enabled) continue;
      if (!e.addresses.includes(address) && !this.rulesMatch(e, address, port)) continue;
      const auth = credentialsOf(e.trunk);
      if (auth) return auth;
    }
    return undefined;
  }

  /** The caller ID an extension may present on a trunk. */
  presentable(callerExtension: string, trunk: Trunk): string {
    const ext = this.opts.extensions.findByNumber(callerExtension);
    const userId = ext?.userId ?? null;
    const numbers = this.opts.numbers.list();
    if (userId !== null) {
      const mine = numbers.filter((n) => n.userIds.includes(userId));
      const onTrunk = mine.find((n) => n.trunkId === trunk.id) ?? mine.find((n) => n.trunkId === null) ?? mine[0];
      if (onTrunk) return onTrunk.did;
    }
    if (trunk.callerId) {
      const known = numbers.find((n) => n.did === trunk.callerId || stripPlus(n.did) === stripPlus(trunk.callerId!));
      if (!known || (userId !== null && known.userIds.includes(userId))) return trunk.callerId;
    }
    return 'anonymous';
  }
}

function credentialsOf(trunk: Trunk): { username: string; password: string } | undefined {
  const username = trunk.authUsername ?? trunk.username;
  return trunk.secret && username ? { username, password: trunk.secret } : undefined;
}
