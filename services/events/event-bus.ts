// The appliance's live event bus: modules publish typed events; the console's WebSocket fans them out with a snapshot.
import type { Clock } from '../shared/index.js';
import type { Right } from '../directory/index.js';

/** A party of a call as the console shows it. */
export interface CallPartyView {
  number: string;
  displayName: string;
  isExtension: boolean;
}

/** A call in progress (or just ended) as the console shows it. */
export interface CallView {
  id: string;
  direction: string;
  state: string;
  caller: CallPartyView;
  callee: CallPartyView;
  startedAt: number;
  answeredAt: number | null;
  endedAt: number | null;
  cause: string | null;
  did: string | null;
}

/** A phone's registration (one contact of one extension). */
export interface RegistrationView {
  extension: string;
  contact: string;
  address: string;
  transport: string;
  userAgent: string | null;
  expiresAt: number;
}

export interface TrunkStatusView {
  trunk: string;
  state: string;
  detail?: string | undefined;
}

/**
 * Every event type and its payload. Modules add theirs here (queues, agents, callbacks, voicemail …) so publishers
 * and the console share one definition.
 */
export interface RelaisEventMap {
  'call.started': CallView;
  'call.ringing': CallView;
  'call.answered': CallView;
  'call.ended': CallView;
  'registration.added': RegistrationView;
  'registration.removed': RegistrationView & { reason: 'unregistered' | 'expired' };
  'trunk.status': TrunkStatusView;
  /** A change made through the API or the site file: what changed (resource, id), by whom. */
  'config.changed': { resource: string; id: string | null; action: string; by: string | null };
  'system.alert': { level: 'info' | 'warning' | 'critical'; code: string; message: string };
  /** A health sample (CPU, memory, temperature, disk, uptime) every few seconds. */
  'system.health': { at: number; cpu: number; memUsed: number; memTotal: number; temperature: number | null; diskUsed: number; diskTotal: number; uptimeS: number };
  'voicemail.new': { id: number; extension: string | null; number: string | null; caller: string };
  'queue.changed': { queue: string; detail: Record<string, unknown> };
  'agent.changed': { user: string; queue: string | null; state: string };
  'callback.changed': { id: number; state: string };
  /** Front panel: an LED changed pattern (board/). */
  'board.led': { led: string; pattern: string };
  /** The reset button did something: announce-ip, confirming, factory-reset, cancelled. */
  'board.button': { action: string; heldMs: number; addresses?: string[] };
  /** Firmware update (services/update): progress of the upload, then of RAUC's install. */
  'update.progress': { phase: 'upload' | 'install'; percent: number; message: string };
  /** Firmware update state changes and outcomes (installed, failed, confirmed, rolled-back). */
  'update.state': { state: string; version?: string; slot?: string; error?: { code: string; message: string } };
  /** Desk phones (docs/provisioning.md): a MAC seen for the first time, given an extension, a file request. */
  'phone.seen': { mac: string; via: string; vendor: string | null };
  'phone.assigned': { mac: string; extension: string };
  'phone.fetched': { mac: string | null; ip: string; via: string; file: string; status: number; secrets: boolean };
}

export type RelaisEventType = keyof RelaisEventMap;

/** One event on the wire: a sequence number (per process start), when, what. */
export interface RelaisEvent<K extends RelaisEventType = RelaisEventType> {
  seq: number;
  at: number;
  type: K;
  data: RelaisEventMap[K];
}

/**
 * Who may receive an event type: null = any logged-in user, a right (admins have all), or 'admin'.
 * Types not listed need an administrator (safe default for what a module adds later).
 */
export const EVENT_AUDIENCE: { [K in RelaisEventType]: Right | 'admin' | null } = {
  'call.started': null,
  'call.ringing': null,
  'call.answered': null,
  'call.ended': null,
  'registration.added': null,
  'registration.removed': null,
  'trunk.status': 'trunks',
  'config.changed': null,
  'system.alert': null,
  'system.health': null,
  'voicemail.new': null,
  'queue.changed': 'queues',
  'phone.seen': 'phones',
  'phone.assigned': 'phones',
  'phone.fetched': 'phones',
  'agent.changed': 'queues',
  'callback.changed': 'callbacks',
  'board.led': 'admin',
  'board.button': 'admin',
  'update.progress': 'admin',
  'update.state': 'admin',
};

/** A part of the live state a new (or reconnecting) subscriber gets before the deltas: calls, registrations, trunks … */
export interface SnapshotSource {
  /** Name of the snapshot key, e.g. "calls". */
  readonly key: string;
  /** Who may see it (as EVENT_AUDIENCE). */
  readonly audience: Right | 'admin' | null;
  read(): unknown;
}

export type EventListener = (e: RelaisEvent) => void;

export interface EventBusOptions {
  clock: Clock;
  /** Events kept for subscribers that reconnect with ?since= (default 1000). */
  history?: number;
}

export class EventBus {
  private seq = 0;
  private readonly listeners = new Set<EventListener>();
  private readonly ring: RelaisEvent[] = [];
  private readonly historySize: number;
  private readonly sources = new Map<string, SnapshotSource>();
  /** A random id per process start (the wall clock only makes it unique, nothing reads it as time): a sequence number from another run is not comparable. */
  readonly epoch = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;

  constructor(private readonly opts: EventBusOptions) {
    this.historySize = opts.history ?? 1000;
  }

  publish<K extends RelaisEventType>(type: K, data: RelaisEventMap[K]): RelaisEvent<K> {
    const e: RelaisEvent<K> = { seq: ++this.seq, at: this.opts.clock.now(), type, data };
    this.ring.push(e as RelaisEvent);
    if (this.ring.length > this.historySize) this.ring.shift();
    for (const l of this.listeners) {
      try {
        l(e as RelaisEvent);
      } catch {
        /* a broken subscriber must not stop the others */
      }
    }
    return e;
  }

  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  subscriberCount(): number {
    return this.listeners.size;
  }

  /** The last sequence number published. */
  lastSeq(): number {
    return this.seq;
  }

  /** Events after `since`, or undefined when some of them are no longer kept (the caller relies on the snapshot). */
  since(since: number): RelaisEvent[] | undefined {
    if (since >= this.seq) return [];
    const first = this.ring[0];
    if (!first || first.seq > since + 1) return undefined;
    return this.ring.filter((e) => e.seq > since);
  }

  addSnapshotSource(source: SnapshotSource): void {
    this.sources.set(source.key, source);
  }

  /** The current state for a subscriber allowed by `may`. */
  snapshot(may: (audience: Right | 'admin' | null) => boolean): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const s of this.sources.values()) if (may(s.audience)) out[s.key] = s.read();
    return out;
  }
}
