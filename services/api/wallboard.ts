// The wallboard (docs/console.md "Wallboard"): a TV's full-screen queue view, reachable with a read-only token and no
// login. GET /api/wallboard and the WebSocket /api/wallboard/events take only a wallboard token and give only the
// queues' state (waiting, longest wait, agents' states, answered/abandoned/service level today); nothing else of the
// API accepts that token.
import http from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { UserRepository } from '../directory/index.js';
import type { EventBus } from '../events/index.js';
import type { QueueService } from '../queue/index.js';
import { RelaisError, errorMessage, type Clock, type Logger, type TimerHandle } from '../shared/index.js';
import { checkSocketOrigin, refuseUpgrade } from './socket-upgrade.js';
import type { WallboardToken, WallboardTokenRepository } from './wallboard-tokens.js';

export const WALLBOARD_EVENTS_PATH = '/api/wallboard/events';

export interface WallboardAgent {
  name: string;
  state: string;
  loggedIn: boolean;
  paused: boolean;
}

export interface WallboardQueue {
  id: number;
  name: string;
  availability: string;
  waiting: number;
  longestWaitSeconds: number;
  /** When the caller waiting longest arrived (ms), so the TV counts on by itself; null when nobody waits. */
  oldestWaitingSince: number | null;
  agents: WallboardAgent[];
  answered: number;
  abandoned: number;
  /** 0-1, null when no call ended waiting today. */
  serviceLevel: number | null;
  serviceLevelSeconds: number;
}

export interface WallboardState {
  at: number;
  /** Start of the counted day (the box's midnight). */
  since: number;
  queues: WallboardQueue[];
}

export interface WallboardDeps {
  tokens: WallboardTokenRepository;
  service: QueueService;
  users: UserRepository;
  bus: EventBus;
  clock: Clock;
  logger: Logger;
}

/** Event types after which the board is sent again (coalesced). */
const REFRESH_ON = new Set(['queue.changed', 'agent.changed', 'call.ended']);

export class Wallboard {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 1024 });
  private readonly byToken = new Map<number, Set<WebSocket>>();
  private readonly log: Logger;

  constructor(private readonly d: WallboardDeps) {
    this.log = d.logger.child({ module: 'wallboard' });
  }

  /** The token of a request: `?token=` (a TV's URL) or `Authorization: Bearer rwb_…`; 401 otherwise. */
  tokenOf(query: string | null | undefined, authorization: string | undefined): WallboardToken {
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '')?.[1];
    const secret = query ?? bearer;
    if (!secret) throw new RelaisError('wallboard.token_missing', 'open the wallboard with its token: /wallboard?token=rwb_… (an administrator makes one on the console Wallboard page)', { status: 401 });
    const token = this.d.tokens.verify(secret);
    if (!token) throw new RelaisError('wallboard.token_invalid', 'this wallboard token is unknown or was revoked; ask an administrator for a new one', { status: 401 });
    return token;
  }

  state(): WallboardState {
    const now = this.d.clock.now();
    const midnight = new Date(now);
    midnight.setHours(0, 0, 0, 0);
    const since = midnight.getTime();
    const { service, users } = this.d;
    const queues = service.engine.views().map((v): WallboardQueue => {
      const s = service.stats(v.id, since);
      const oldest = v.waiting.filter((w) => w.kind === 'call').reduce<number | null>((m, w) => (m === null || w.since < m ? w.since : m), null);
      return {
        id: v.id,
        name: v.name,
        availability: v.availability,
        waiting: s.waiting,
        longestWaitSeconds: Math.round(s.longestWaitMs / 1000),
        oldestWaitingSince: oldest,
        agents: v.participants.map((p) => {
          const u = users.get(p.userId);
          return { name: u?.name || u?.username || `#${p.userId}`, state: p.state, loggedIn: p.loggedIn, paused: p.paused };
        }),
        answered: s.answered,
        abandoned: s.abandoned,
        serviceLevel: s.serviceLevel,
        serviceLevelSeconds: service.engine.queue(v.id)?.serviceLevelSeconds ?? 20,
      };
    });
    return { at: now, since, queues };
  }

  /** A revoked token's boards close at once. */
  revoked(tokenId: number): void {
    for (const ws of this.byToken.get(tokenId) ?? []) ws.close(4001, 'wallboard token revoked');
  }

  count(): number {
    let n = 0;
    for (const s of this.byToken.values()) n += s.size;
    return n;
  }

  close(): void {
    for (const set of this.byToken.values()) for (const ws of set) ws.close(1001, 'server stopping');
    this.byToken.clear();
    this.wss.close();
  }

  /** For ApiServer.onUpgrade(WALLBOARD_EVENTS_PATH). */
  readonly handleUpgrade = (req: http.IncomingMessage, socket: Duplex, head: Buffer): void => {
    socket.on('error', () => socket.destroy());
    let token: WallboardToken;
    try {
      // A page of another site may not read the board (cross-site WebSocket hijacking), like /api/events.
      checkSocketOrigin(req.headers.origin, req.headers.host, "read this appliance's wallboard");
      token = this.tokenOf(new URL(req.url ?? '/', 'http://relais').searchParams.get('token'), req.headers.authorization);
    } catch (err) {
      refuseUpgrade(socket, err);
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.attach(ws, token));
  };

  private attach(ws: WebSocket, token: WallboardToken): void {
    const { bus, clock } = this.d;
    let pending: TimerHandle | undefined;
    const push = (): void => {
      pending = undefined;
      if (ws.readyState !== ws.OPEN) return;
      // Revoked while open (another process, a restore): the next push notices.
      if (!this.d.tokens.list().some((t) => t.id === token.id)) {
        ws.close(4001, 'wallboard token revoked');
        return;
      }
      ws.send(JSON.stringify({ type: 'wallboard', state: this.state() }));
    };
    const unsubscribe = bus.subscribe((e) => {
      if (REFRESH_ON.has(e.type) && pending === undefined) pending = clock.setTimeout(push, 200);
    });
    // Today's figures and the agents' timers move without events too: a fresh board every 15 s.
    let periodic: TimerHandle | undefined;
    const every = (): void => {
      push();
      periodic = clock.setTimeout(every, 15_000);
    };
    let set = this.byToken.get(token.id);
    if (!set) this.byToken.set(token.id, (set = new Set()));
    set.add(ws);
    every();
    ws.on('message', () => {
      /* the board only listens */
    });
    ws.on('error', (err) => this.log.debug('wallboard socket error', { error: errorMessage(err) }));
    ws.on('close', () => {
      unsubscribe();
      clock.clearTimeout(pending);
      clock.clearTimeout(periodic);
      const s = this.byToken.get(token.id);
      s?.delete(ws);
      if (s?.size === 0) this.byToken.delete(token.id);
    });
  }
}
