// The one WebSocket subscription of the console (/api/events): a snapshot, then deltas, applied to one live state;
// after a drop it reconnects with since/epoch and starts again from the new snapshot (nothing missed).
import type { HealthSample } from './system.js';

export interface CallParty {
  number: string;
  displayName: string;
  isExtension: boolean;
}

export interface LiveCall {
  id: string;
  direction: string;
  state: string;
  caller: CallParty;
  callee: CallParty;
  startedAt: number;
  answeredAt: number | null;
  endedAt: number | null;
  cause: string | null;
  did: string | null;
}

export interface LiveRegistration {
  extension: string;
  contact: string;
  address: string;
  transport: string;
  userAgent: string | null;
  expiresAt: number;
}

export interface LiveTrunk {
  trunk: string;
  state: string;
  detail?: string;
}

export interface LiveEvent {
  seq: number;
  at: number;
  type: string;
  data: Record<string, unknown>;
}

export interface LiveState {
  connected: boolean;
  calls: Map<string, LiveCall>;
  registrations: LiveRegistration[];
  trunks: LiveTrunk[];
  system: HealthSample[];
}

type Listener = (state: LiveState, event: LiveEvent | null) => void;

interface Hello {
  type: 'hello';
  epoch: string;
  seq: number;
  snapshot: { calls?: LiveCall[]; registrations?: LiveRegistration[]; trunks?: LiveTrunk[]; system?: HealthSample[] };
  missed: LiveEvent[];
}

const regKey = (r: { extension: string; contact: string }): string => `${r.extension} ${r.contact}`;

class LiveConnection {
  readonly state: LiveState = { connected: false, calls: new Map(), registrations: [], trunks: [], system: [] };
  private readonly listeners = new Set<Listener>();
  private ws: WebSocket | undefined;
  private epoch = '';
  private seq = 0;
  private retryMs = 500;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private stopped = true;

  /** Listens to every change; returns the unsubscribe. Opens the socket with the first listener. */
  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    listener(this.state, null);
    if (this.stopped) this.start();
    return () => this.listeners.delete(listener);
  }

  start(): void {
    this.stopped = false;
    this.connect();
  }

  /** Closes the socket (logout). */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.ws?.close();
    this.ws = undefined;
    this.state.connected = false;
  }

  private connect(): void {
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const resume = this.epoch ? `?since=${this.seq}&epoch=${encodeURIComponent(this.epoch)}` : '';
    const ws = new WebSocket(`${proto}//${location.host}/api/events${resume}`);
    this.ws = ws;
    ws.onmessage = (m) => this.onMessage(JSON.parse(String(m.data)) as Hello | LiveEvent);
    ws.onclose = (e) => {
      if (this.ws !== ws) return;
      this.state.connected = false;
      this.emit(null);
      // 4001: the session ended; the app goes back to the login page and stops us.
      if (this.stopped || e.code === 4001) return;
      this.timer = setTimeout(() => this.connect(), this.retryMs);
      this.retryMs = Math.min(this.retryMs * 2, 10_000);
    };
  }

  private onMessage(m: Hello | LiveEvent): void {
    if (m.type === 'hello') {
      const h = m as Hello;
      this.epoch = h.epoch;
      this.seq = h.seq;
      this.retryMs = 500;
      const s = this.state;
      s.connected = true;
      s.calls = new Map((h.snapshot.calls ?? []).map((c) => [c.id, c]));
      s.registrations = h.snapshot.registrations ?? [];
      s.trunks = h.snapshot.trunks ?? [];
      s.system = h.snapshot.system ?? [];
      this.emit(null);
      for (const e of h.missed) this.emit(e);
      return;
    }
    const e = m as LiveEvent;
    this.seq = e.seq;
    this.apply(e);
    this.emit(e);
  }

  private apply(e: LiveEvent): void {
    const s = this.state;
    if (e.type.startsWith('call.')) {
      const c = e.data as unknown as LiveCall;
      if (e.type === 'call.ended') s.calls.delete(c.id);
      else s.calls.set(c.id, c);
    } else if (e.type === 'registration.added') {
      const r = e.data as unknown as LiveRegistration;
      s.registrations = [...s.registrations.filter((x) => regKey(x) !== regKey(r)), r];
    } else if (e.type === 'registration.removed') {
      const r = e.data as unknown as LiveRegistration;
      s.registrations = s.registrations.filter((x) => regKey(x) !== regKey(r));
    } else if (e.type === 'trunk.status') {
      const t = e.data as unknown as LiveTrunk;
      s.trunks = [...s.trunks.filter((x) => x.trunk !== t.trunk), t];
    } else if (e.type === 'system.health') {
      s.system = [...s.system.slice(-119), e.data as unknown as HealthSample];
    }
  }

  private emit(e: LiveEvent | null): void {
    for (const l of this.listeners) l(this.state, e);
  }
}

/** The console's single live connection. */
export const live = new LiveConnection();
