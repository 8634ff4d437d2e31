// GET /api/events (WebSocket): authenticated like the API; a snapshot of the live state, then every event as it happens.
import http from 'node:http';
import type { Duplex } from 'node:stream';
import type Koa from 'koa';
import { WebSocketServer, type WebSocket } from 'ws';
import type { User, UserRepository } from '../directory/index.js';
import { EVENT_AUDIENCE, type EventBus, type RelaisEvent } from '../events/index.js';
import { errorMessage, type Clock, type Logger, type TimerHandle } from '../shared/index.js';
import type { ApiState, Authenticator } from './auth.js';
import type { Right } from '../directory/index.js';
import { publicUser } from './routes/session.js';
import { checkSocketOrigin, refuseUpgrade } from './socket-upgrade.js';

export const EVENTS_PATH = '/api/events';

/** What a subscriber gets first (and again after each reconnect). */
export interface HelloMessage {
  type: 'hello';
  /** Changes at each start of Relais: sequence numbers of another epoch mean nothing. */
  epoch: string;
  /** The sequence number the snapshot is current at; events follow from seq + 1. */
  seq: number;
  user: ReturnType<typeof publicUser>;
  snapshot: Record<string, unknown>;
  /** Events after the client's ?since= (config changes, alerts it missed while away), when still kept. */
  missed: RelaisEvent[];
  /** True when ?since= was given but some events after it are no longer kept (only the snapshot is exact). */
  gap: boolean;
}

export interface EventSocketOptions {
  bus: EventBus;
  auth: Authenticator;
  users: UserRepository;
  app: Koa<ApiState>;
  clock: Clock;
  logger: Logger;
  /** A subscriber this far behind (bytes queued) is dropped; it reconnects and gets a fresh snapshot (default 1 MB). */
  maxBufferedBytes?: number;
  /** Keep-alive ping and session check interval (default 25 s). */
  pingMs?: number;
}

/** Whether a user may see what an audience covers. */
export function mayReceive(user: User, audience: Right | 'admin' | null, users: Pick<UserRepository, 'hasRight'>): boolean {
  if (audience === null) return true;
  if (audience === 'admin') return user.role === 'admin';
  return users.hasRight(user, audience);
}

export class EventSocketServer {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 4096 });
  private readonly log: Logger;
  private readonly clients = new Set<WebSocket>();
  /** Sockets opened with a session, by session token: a logout closes them at once. */
  private readonly bySession = new Map<string, Set<WebSocket>>();

  constructor(private readonly opts: EventSocketOptions) {
    this.log = opts.logger.child({ module: 'events' });
    opts.auth.sessions.onEnd((s) => {
      for (const ws of this.bySession.get(s.token) ?? []) ws.close(4001, 'session ended');
    });
  }

  /** For ApiServer.onUpgrade. */
  readonly handleUpgrade = (req: http.IncomingMessage, socket: Duplex, head: Buffer): void => {
    socket.on('error', () => socket.destroy());
    void this.accept(req, socket, head);
  };

  count(): number {
    return this.clients.size;
  }

  close(): void {
    for (const ws of this.clients) ws.close(1001, 'server stopping');
    this.clients.clear();
    this.wss.close();
  }

  private async accept(req: http.IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const ctx = this.opts.app.createContext(req, new http.ServerResponse(req)) as Koa.ParameterizedContext<ApiState>;
    let user: User;
    try {
      checkSocketOrigin(req.headers.origin, ctx.host, "subscribe to this appliance's events");
      user = await this.opts.auth.identify(ctx);
    } catch (err) {
      refuseUpgrade(socket, err);
      return;
    }
    const url = new URL(req.url ?? '/', 'http://relais');
    const sinceRaw = url.searchParams.get('since');
    const since = sinceRaw !== null && /^\d{1,15}$/.test(sinceRaw) && url.searchParams.get('epoch') === this.opts.bus.epoch ? Number(sinceRaw) : undefined;
    this.wss.handleUpgrade(req, socket, head, (ws) => this.attach(ws, user, ctx.state.sessionToken, since));
  }

  private attach(ws: WebSocket, first: User, sessionToken: string | undefined, since: number | undefined): void {
    const { bus, users } = this.opts;
    let user = first;
    const may = (audience: Right | 'admin' | null): boolean => mayReceive(user, audience, users);
    const maxBuffered = this.opts.maxBufferedBytes ?? 1024 * 1024;
    const send = (msg: unknown): void => {
      if (ws.readyState !== ws.OPEN) return;
      if (ws.bufferedAmount > maxBuffered) {
        // Too slow to follow: better a fresh snapshot after reconnecting than an ever-growing queue in our memory.
        ws.close(1013, 'too far behind; reconnect');
        return;
      }
      ws.send(JSON.stringify(msg));
    };
    // Subscribe first, queue until the hello is out: nothing published between the snapshot and the first delta is lost.
    const queued: RelaisEvent[] = [];
    let ready = false;
    const unsubscribe = bus.subscribe((e) => {
      if (!ready) queued.push(e);
      else if (may(EVENT_AUDIENCE[e.type] ?? 'admin')) send(e);
    });
    const seq = bus.lastSeq();
    const missed = since === undefined ? [] : bus.since(since);
    const hello: HelloMessage = {
      type: 'hello',
      epoch: bus.epoch,
      seq,
      user: publicUser(user),
      snapshot: bus.snapshot(may),
      missed: (missed ?? []).filter((e) => e.seq <= seq && may(EVENT_AUDIENCE[e.type] ?? 'admin')),
      gap: since !== undefined && missed === undefined,
    };
    send(hello);
    ready = true;
    for (const e of queued) if (e.seq > seq && may(EVENT_AUDIENCE[e.type] ?? 'admin')) send(e);
    this.clients.add(ws);
    if (sessionToken !== undefined) {
      let set = this.bySession.get(sessionToken);
      if (!set) this.bySession.set(sessionToken, (set = new Set()));
      set.add(ws);
    }

    // The socket lives as long as the session and the user: a logout, an expiry or a deletion closes it.
    let alive = true;
    let timer: TimerHandle | undefined;
    const check = (): void => {
      const fresh = users.get(user.id);
      if (!fresh || (sessionToken !== undefined && !this.opts.auth.sessions.isLive(sessionToken))) {
        ws.close(4001, 'session ended');
        return;
      }
      user = fresh;
      if (!alive) {
        ws.terminate();
        return;
      }
      alive = false;
      ws.ping();
      timer = this.opts.clock.setTimeout(check, this.opts.pingMs ?? 25_000);
    };
    timer = this.opts.clock.setTimeout(check, this.opts.pingMs ?? 25_000);
    ws.on('pong', () => (alive = true));
    ws.on('message', () => {
      /* nothing to say to the server yet; ignored */
    });
    ws.on('error', (err) => this.log.debug('event socket error', { error: errorMessage(err) }));
    ws.on('close', () => {
      this.opts.clock.clearTimeout(timer);
      unsubscribe();
      this.clients.delete(ws);
      if (sessionToken !== undefined) {
        const set = this.bySession.get(sessionToken);
        set?.delete(ws);
        if (set?.size === 0) this.bySession.delete(sessionToken);
      }
    });
  }
}
