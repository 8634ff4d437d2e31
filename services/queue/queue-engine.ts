// The ACD engine: callers waiting in queues, participants' state, fair dispatch by strategy, timeouts, wrap-up.
// Pure logic on an injected clock: ringing and live agent state come through the AgentRinger / AgentLiveState ports.
import { TypedEmitter, type Clock, type TimerHandle } from '../shared/index.js';
import { conditionMatches } from '../directory/scenario-model.js';
import { pickAgents, type Candidate } from './strategies.js';
import type { AgentState, ConditionJudge, EntryKind, Participant, QueueAvailability, QueueConfig, QueueEntry, QueueEvent, QueueOutcome } from './model.js';

/** What the engine needs to know about a participant's phones and calls, asked at each decision (never cached). */
export interface AgentLiveState {
  /** At least one registered phone. */
  isRegistered(userId: number): boolean;
  /** In a call now (any live dialog, queue call or not). */
  isInCall(userId: number): boolean;
}

export interface RingRequest {
  entry: QueueEntry;
  queue: QueueConfig;
  userIds: number[];
  ringTimeMs: number;
}

export type RingResult = { answered: number } | { unanswered: number[] };

export interface RingHandle {
  /** Settles once: one winner, or nobody answered (the ringer CANCELs / BYEs every other leg itself). */
  readonly result: Promise<RingResult>;
  /** Stop ringing (caller left, timeout). Safe to call twice. */
  cancel(): void;
}

/** Rings participants for a waiting entry: the live wiring plugs the call ring engine in here. */
export interface AgentRinger {
  ring(req: RingRequest): RingHandle;
}

export interface EnqueueInput {
  queueId: number;
  kind?: EntryKind;
  callId?: string | null;
  callbackId?: number | null;
  caller: string;
  language?: string | null;
  /** Wall-clock ms; default now. A callback keeps its origin's arrival (its place). */
  arrivedAt?: number;
  priority?: number;
  notBefore?: number;
}

export interface Enqueued {
  /** null when the caller was not queued (closed, exceptional closure, nobody logged in). */
  entryId: string | null;
  outcome: Promise<QueueOutcome>;
}

export interface QueueEngineOptions {
  clock: Clock;
  live: AgentLiveState;
  ringer: AgentRinger;
  /** [0, 1); default Math.random. */
  random?: () => number;
  /** Judges opening hours; default: the conditions alone in the box's time zone. */
  conditions?: ConditionJudge;
}

export interface ParticipantView {
  userId: number;
  loggedIn: boolean;
  paused: boolean;
  pauseReason: string | null;
  state: AgentState;
}

export interface WaitingView {
  entryId: string;
  kind: EntryKind;
  caller: string;
  callId: string | null;
  callbackId: number | null;
  /** Wall-clock ms of arrival. */
  since: number;
  position: number;
  ringing: boolean;
}

export interface QueueView {
  id: number;
  name: string;
  shortNumber: string;
  strategy: QueueConfig['strategy'];
  availability: QueueAvailability;
  participants: ParticipantView[];
  waiting: WaitingView[];
  /** Entries put through to a participant and not ended yet. */
  connected: { entryId: string; caller: string; userId: number }[];
}

type EntryStatus = 'waiting' | 'ringing' | 'connected';

interface EntryRuntime {
  entry: QueueEntry;
  status: EntryStatus;
  joinedMono: number;
  tried: Set<number>;
  ring: RingHandle | null;
  ringingUsers: number[];
  ringGuard: TimerHandle | undefined;
  maxWaitTimer: TimerHandle | undefined;
  notBeforeTimer: TimerHandle | undefined;
  /** Monotonic ms before which a new round of rings does not start (every free participant was tried). */
  roundPauseUntil: number;
  roundTimer: TimerHandle | undefined;
  connectedTo: number | null;
  connectedMono: number;
  resolve: (o: QueueOutcome) => void;
}

interface AgentRuntime {
  /** Monotonic ms until which the agent is in wrap-up. */
  wrapUntil: number;
  wrapTimer: TimerHandle | undefined;
  unanswered: number;
  ringingFor: string | null;
  connectedEntry: string | null;
}

/** Extra time the engine grants the ringer beyond the ring time before it gives up on its answer itself. */
const RING_GUARD_MS = 5_000;
/** A connected entry whose agent shows no live call for this long has ended (reconciliation). */
const STALE_CONNECTED_MS = 3_000;
const RECENT = 20;
/**
 * Pause between two rounds of rings for one caller, when every free participant was rung without an answer: a
 * participant whose phone fails at once is not rung again in a tight loop.
 */
export const ROUND_PAUSE_MS = 3_000;

export class QueueEngine {
  readonly observer = new TypedEmitter<{ event: [QueueEvent] }>();
  private readonly clock: Clock;
  private readonly live: AgentLiveState;
  private readonly ringer: AgentRinger;
  private readonly random: () => number;
  private readonly conditions: ConditionJudge;
  private queues = new Map<number, QueueConfig>();
  private readonly entries = new Map<string, EntryRuntime>();
  /** Waiting and ringing entries in fair order (arrival, then priority, then seq). */
  private order: EntryRuntime[] = [];
  private readonly agents = new Map<number, AgentRuntime>();
  /** round_robin memory: list position rung last, per queue. */
  private readonly lastPosition = new Map<number, number>();
  private readonly recentWaits = new Map<number, number[]>();
  private readonly recentHandles = new Map<number, number[]>();
  /** The agent state last published, per queue then user (nested maps: no key string built per reconcile). */
  private readonly lastStates = new Map<number, Map<number, AgentState>>();
  private seq = 0;
  private reconciling = false;
  private again = false;
  private closed = false;

  constructor(opts: QueueEngineOptions) {
    this.clock = opts.clock;
    this.live = opts.live;
    this.ringer = opts.ringer;
    this.random = opts.random ?? Math.random;
    this.conditions = opts.conditions ?? { matches: (c, at) => conditionMatches(c, at) };
  }

  // ---- configuration -------------------------------------------------------------------------------------------

  /**
   * Applies the queues as configured now (live: the next decision uses them). Callers keep waiting; a queue that
   * disappeared times its callers out. Participants keep the engine's own last-call memory when it is newer.
   */
  configure(queues: readonly QueueConfig[]): void {
    const next = new Map<number, QueueConfig>();
    for (const q of queues) {
      const old = this.queues.get(q.id);
      const participants = q.participants.map((p) => {
        const o = old?.participants.find((x) => x.userId === p.userId);
        if (!o) return { ...p };
        return { ...p, lastReceivedAt: maxNullable(p.lastReceivedAt, o.lastReceivedAt), callsTaken: Math.max(p.callsTaken, o.callsTaken) };
      });
      next.set(q.id, { ...q, participants });
    }
    this.queues = next;
    for (const es of [...this.order]) if (!next.has(es.entry.queueId)) this.timeout(es, 'no_agent', { type: 'hangup' }, null);
    this.reconcile();
  }

  queue(queueId: number): QueueConfig | undefined {
    return this.queues.get(queueId);
  }

  queueByName(name: string): QueueConfig | undefined {
    for (const q of this.queues.values()) if (q.name === name) return q;
    return undefined;
  }

  queueByShortNumber(short: string): QueueConfig | undefined {
    for (const q of this.queues.values()) if (q.shortNumber === short) return q;
    return undefined;
  }

  /** Closed = switched closed or outside opening hours (distribute falls through); exceptional closure wins. */
  availability(queueId: number, at: number = this.clock.now()): QueueAvailability {
    const q = this.queues.get(queueId);
    if (!q) return 'closed';
    if (q.exceptionalClosure) return 'exceptional_closure';
    if (q.closed) return 'closed';
    if (q.openingHours !== null && !q.openingHours.some((c) => this.conditions.matches(c, new Date(at)))) return 'closed';
    return 'open';
  }

  // ---- callers -------------------------------------------------------------------------------------------------

  enqueue(input: EnqueueInput): Enqueued {
    const q = this.queues.get(input.queueId);
    const kind = input.kind ?? 'call';
    if (!q) return { entryId: null, outcome: Promise.resolve({ type: 'closed' }) };
    if (kind === 'call') {
      const avail = this.availability(q.id);
      if (avail === 'closed') return { entryId: null, outcome: Promise.resolve({ type: 'closed' }) };
      if (avail === 'exceptional_closure') return { entryId: null, outcome: Promise.resolve({ type: 'exceptional_closure', action: q.closureAction }) };
    }
    const now = this.clock.now();
    const entry: QueueEntry = {
      id: `q${q.id}-${++this.seq}`,
      kind,
      queueId: q.id,
      callId: input.callId ?? null,
      callbackId: input.callbackId ?? null,
      caller: input.caller,
      language: input.language ?? null,
      arrivedAt: input.arrivedAt ?? now,
      priority: input.priority ?? 0,
      notBefore: input.notBefore ?? 0,
      seq: this.seq,
    };
    if (kind === 'call' && !this.anyoneLoggedIn(q)) {
      const outcome: QueueOutcome = { type: 'timeout', reason: 'no_agent', action: q.timeoutAction, soundId: q.timeoutSoundId, waitMs: 0 };
      this.emit({ type: 'queue.left', at: now, queueId: q.id, entryId: entry.id, kind, caller: entry.caller, callId: entry.callId, callbackId: entry.callbackId, outcome: 'timeout', reason: 'no_agent', waitMs: 0 });
      return { entryId: null, outcome: Promise.resolve(outcome) };
    }
    let resolve!: (o: QueueOutcome) => void;
    const outcome = new Promise<QueueOutcome>((r) => (resolve = r));
    const es: EntryRuntime = {
      entry, status: 'waiting', joinedMono: this.clock.monotonic(), tried: new Set(), ring: null, ringingUsers: [], ringGuard: undefined,
      maxWaitTimer: undefined, notBeforeTimer: undefined, roundPauseUntil: 0, roundTimer: undefined, connectedTo: null, connectedMono: 0, resolve,
    };
    this.entries.set(entry.id, es);
    this.insertInOrder(es);
    if (kind === 'call') es.maxWaitTimer = this.clock.setTimeout(() => this.timeout(es, 'max_wait', q.timeoutAction, q.timeoutSoundId), q.maxWait * 1000);
    if (entry.notBefore > now) es.notBeforeTimer = this.clock.setTimeout(() => this.reconcile(), entry.notBefore - now);
    this.emit({ type: 'queue.joined', at: now, queueId: q.id, entryId: entry.id, kind, caller: entry.caller, callId: entry.callId, position: this.position(entry.id) });
    this.reconcile();
    return { entryId: entry.id, outcome };
  }

  /** The caller hung up (or the callback was cancelled) while waiting; a connected entry ends instead. */
  leave(entryId: string): void {
    const es = this.entries.get(entryId);
    if (!es) return;
    if (es.status === 'connected') return this.entryEnded(entryId);
    this.finish(es, { type: 'abandoned', waitMs: this.waited(es) }, null);
    this.reconcile();
  }

  /** The call put through to a participant ended: wrap-up starts. */
  entryEnded(entryId: string): void {
    const es = this.entries.get(entryId);
    if (!es || es.status !== 'connected' || es.connectedTo === null) return;
    this.endConnection(es);
    this.reconcile();
  }

  private endConnection(es: EntryRuntime): void {
    const entryId = es.entry.id;
    if (es.connectedTo === null) return;
    const q = this.queues.get(es.entry.queueId);
    const userId = es.connectedTo;
    const talkMs = this.clock.monotonic() - es.connectedMono;
    this.entries.delete(entryId);
    const a = this.agent(userId);
    if (a.connectedEntry === entryId) a.connectedEntry = null;
    const wrapMs = (q?.wrapUp ?? 0) * 1000;
    if (wrapMs > 0) {
      a.wrapUntil = this.clock.monotonic() + wrapMs;
      this.clock.clearTimeout(a.wrapTimer);
      a.wrapTimer = this.clock.setTimeout(() => {
        a.wrapTimer = undefined;
        this.reconcile();
      }, wrapMs);
    }
    pushRecent(this.recentHandles, es.entry.queueId, talkMs + wrapMs);
    this.emit({ type: 'queue.call_ended', at: this.clock.now(), queueId: es.entry.queueId, entryId, userId, talkMs });
  }

  /** 1-based place among the queue's waiting callers (0 when not waiting). */
  position(entryId: string): number {
    const es = this.entries.get(entryId);
    if (!es || es.status === 'connected') return 0;
    let n = 0;
    for (const o of this.order) {
      if (o.entry.queueId !== es.entry.queueId) continue;
      n++;
      if (o === es) return n;
    }
    return 0;
  }

  /** Estimated wait from recent history: handle time per logged-in participant, or ring time per position. */
  estimatedWaitMs(entryId: string): number {
    const es = this.entries.get(entryId);
    const q = es && this.queues.get(es.entry.queueId);
    if (!es || !q) return 0;
    const pos = this.position(entryId);
    const handles = this.recentHandles.get(q.id);
    const agents = Math.max(1, q.participants.filter((p) => p.loggedIn && !p.paused).length);
    if (handles && handles.length > 0) return Math.round((Math.ceil(pos / agents) * handles.reduce((s, v) => s + v, 0)) / handles.length);
    const waits = this.recentWaits.get(q.id);
    if (waits && waits.length > 0) return Math.round((pos * waits.reduce((s, v) => s + v, 0)) / waits.length);
    return pos * q.ringTime * 1000;
  }

  // ---- participants --------------------------------------------------------------------------------------------

  /** `*41<short>` / `*42<short>` or the API. Returns false when the user is not a participant. */
  setLoggedIn(queueId: number, userId: number, loggedIn: boolean): boolean {
    const p = this.queues.get(queueId)?.participants.find((x) => x.userId === userId);
    if (!p) return false;
    if (p.loggedIn !== loggedIn) {
      p.loggedIn = loggedIn;
      if (loggedIn) this.agent(userId).unanswered = 0;
      this.emit({ type: 'agent.login', at: this.clock.now(), queueId, userId, loggedIn });
    }
    this.reconcile();
    return true;
  }

  /** Pause with a reason in one queue, or in every queue of the user (queueId undefined). Returns the queues changed. */
  setPaused(userId: number, paused: boolean, reason: string | null = null, queueId?: number): number[] {
    const changed = this.pause(userId, paused, reason, queueId);
    this.reconcile();
    return changed;
  }

  private pause(userId: number, paused: boolean, reason: string | null, queueId?: number): number[] {
    const changed: number[] = [];
    for (const q of this.queues.values()) {
      if (queueId !== undefined && q.id !== queueId) continue;
      const p = q.participants.find((x) => x.userId === userId);
      if (!p) continue;
      const r = paused ? reason : null;
      if (p.paused === paused && p.pauseReason === r) continue;
      p.paused = paused;
      p.pauseReason = r;
      changed.push(q.id);
      this.emit({ type: 'agent.pause', at: this.clock.now(), queueId: q.id, userId, paused, reason: r });
    }
    if (!paused) this.agent(userId).unanswered = 0;
    return changed;
  }

  /** A participant's phones or calls changed (registration, dialog start/end): re-derive states and dispatch. */
  agentChanged(): void {
    this.reconcile();
  }

  agentState(queueId: number, userId: number): AgentState {
    const q = this.queues.get(queueId);
    const p = q?.participants.find((x) => x.userId === userId);
    return p ? this.stateOf(p) : 'logged_out';
  }

  // ---- views ---------------------------------------------------------------------------------------------------

  views(): QueueView[] {
    return [...this.queues.values()].map((q) => this.view(q));
  }

  view(q: QueueConfig): QueueView {
    const waiting: WaitingView[] = [];
    let n = 0;
    for (const es of this.order) {
      if (es.entry.queueId !== q.id) continue;
      const e = es.entry;
      waiting.push({ entryId: e.id, kind: e.kind, caller: e.caller, callId: e.callId, callbackId: e.callbackId, since: e.arrivedAt, position: ++n, ringing: es.status === 'ringing' });
    }
    const connected: QueueView['connected'] = [];
    for (const es of this.entries.values()) if (es.entry.queueId === q.id && es.status === 'connected') connected.push({ entryId: es.entry.id, caller: es.entry.caller, userId: es.connectedTo! });
    return {
      id: q.id, name: q.name, shortNumber: q.shortNumber, strategy: q.strategy, availability: this.availability(q.id),
      participants: q.participants.map((p) => ({ userId: p.userId, loggedIn: p.loggedIn, paused: p.paused, pauseReason: p.pauseReason, state: this.stateOf(p) })),
      waiting, connected,
    };
  }

  entry(entryId: string): QueueEntry | undefined {
    return this.entries.get(entryId)?.entry;
  }

  /** Live figures of one queue. */
  liveStats(queueId: number): { waiting: number; longestWaitMs: number } {
    let waiting = 0;
    let longest = 0;
    const now = this.clock.now();
    for (const es of this.order) {
      if (es.entry.queueId !== queueId || es.entry.kind !== 'call') continue;
      waiting++;
      longest = Math.max(longest, now - es.entry.arrivedAt);
    }
    return { waiting, longestWaitMs: longest };
  }

  /** Stops every timer; callers still waiting get `shutdown` (the service records them as lost calls). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const es of [...this.order]) this.finish(es, { type: 'shutdown', waitMs: this.waited(es) }, 'shutdown');
    for (const a of this.agents.values()) this.clock.clearTimeout(a.wrapTimer);
  }

  // ---- internals -----------------------------------------------------------------------------------------------

  private emit(e: QueueEvent): void {
    this.observer.emit('event', e);
  }

  private agent(userId: number): AgentRuntime {
    let a = this.agents.get(userId);
    if (!a) {
      a = { wrapUntil: 0, wrapTimer: undefined, unanswered: 0, ringingFor: null, connectedEntry: null };
      this.agents.set(userId, a);
    }
    return a;
  }

  private anyoneLoggedIn(q: QueueConfig): boolean {
    // docs/product.md §7: logged in and registered; paused still counts as logged in.
    return q.participants.some((p) => p.loggedIn && this.live.isRegistered(p.userId));
  }

  private stateOf(p: Participant): AgentState {
    if (!p.loggedIn) return 'logged_out';
    if (!this.live.isRegistered(p.userId)) return 'unregistered';
    const a = this.agents.get(p.userId);
    if (a?.ringingFor) return 'ringing';
    if (a?.connectedEntry || this.live.isInCall(p.userId)) return 'in_call';
    if (a && a.wrapUntil > this.clock.monotonic()) return 'wrap_up';
    if (p.paused) return 'paused';
    return 'free';
  }

  private waited(es: EntryRuntime): number {
    return Math.max(0, this.clock.now() - es.entry.arrivedAt);
  }

  private insertInOrder(es: EntryRuntime): void {
    const before = (a: QueueEntry, b: QueueEntry): boolean =>
      a.arrivedAt !== b.arrivedAt ? a.arrivedAt < b.arrivedAt : a.priority !== b.priority ? a.priority > b.priority : a.seq < b.seq;
    let lo = 0;
    let hi = this.order.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (before(this.order[mid]!.entry, es.entry)) lo = mid + 1;
      else hi = mid;
    }
    this.order.splice(lo, 0, es);
  }

  private removeFromOrder(es: EntryRuntime): void {
    const i = this.order.indexOf(es);
    if (i >= 0) this.order.splice(i, 1);
  }

  private stopRinging(es: EntryRuntime): void {
    const h = es.ring;
    es.ring = null;
    this.clock.clearTimeout(es.ringGuard);
    es.ringGuard = undefined;
    for (const u of es.ringingUsers) {
      const a = this.agent(u);
      if (a.ringingFor === es.entry.id) a.ringingFor = null;
    }
    es.ringingUsers = [];
    h?.cancel();
  }

  /** Takes an entry out of the queue with its outcome (not for connected entries). */
  private finish(es: EntryRuntime, outcome: QueueOutcome, reason: string | null): void {
    if (!this.entries.has(es.entry.id)) return;
    this.stopRinging(es);
    this.clock.clearTimeout(es.maxWaitTimer);
    this.clock.clearTimeout(es.notBeforeTimer);
    this.clock.clearTimeout(es.roundTimer);
    this.entries.delete(es.entry.id);
    this.removeFromOrder(es);
    const e = es.entry;
    this.emit({ type: 'queue.left', at: this.clock.now(), queueId: e.queueId, entryId: e.id, kind: e.kind, caller: e.caller, callId: e.callId, callbackId: e.callbackId, outcome: outcome.type, reason, waitMs: outcome.type === 'closed' || outcome.type === 'exceptional_closure' ? 0 : outcome.waitMs });
    es.resolve(outcome);
  }

  private timeout(es: EntryRuntime, reason: 'max_wait' | 'no_agent', action: QueueConfig['timeoutAction'], soundId: number | null): void {
    if (es.status === 'connected') return;
    this.finish(es, { type: 'timeout', reason, action, soundId, waitMs: this.waited(es) }, reason);
    this.reconcile();
  }

  /** Re-derives everything from live state, then hands free participants to waiting callers. Re-entrant safe. */
  private reconcile(): void {
    if (this.closed) return;
    if (this.reconciling) {
      this.again = true;
      return;
    }
    this.reconciling = true;
    try {
      do {
        this.again = false;
        this.endStaleConnections();
        this.timeOutUnstaffed();
        this.dispatch();
        this.publishStates();
      } while (this.again);
    } finally {
      this.reconciling = false;
    }
  }

  /** Never stuck busy: a connected entry whose participant has no live call any more has ended. */
  private endStaleConnections(): void {
    if (this.connectedCount() === 0) return;
    const mono = this.clock.monotonic();
    for (const es of [...this.entries.values()]) {
      if (es.status !== 'connected' || es.connectedTo === null) continue;
      if (mono - es.connectedMono < STALE_CONNECTED_MS) continue;
      if (!this.live.isInCall(es.connectedTo)) this.endConnection(es);
    }
  }

  private connectedCount(): number {
    return this.entries.size - this.order.length;
  }

  /** docs/product.md §7: nobody logged in (and registered) → timeout handling, also for callers already waiting. */
  private timeOutUnstaffed(): void {
    const unstaffed = new Map<number, boolean>();
    let anyUnstaffed = false;
    for (const q of this.queues.values()) {
      const none = !this.anyoneLoggedIn(q);
      unstaffed.set(q.id, none);
      anyUnstaffed ||= none;
    }
    if (!anyUnstaffed) return;
    for (const es of [...this.order]) {
      if (es.entry.kind !== 'call' || es.status === 'ringing') continue;
      const q = this.queues.get(es.entry.queueId);
      if (!q) continue;
      let none = unstaffed.get(q.id);
      if (none === undefined) {
        none = !this.anyoneLoggedIn(q);
        unstaffed.set(q.id, none);
      }
      if (none) this.finish(es, { type: 'timeout', reason: 'no_agent', action: q.timeoutAction, soundId: q.timeoutSoundId, waitMs: this.waited(es) }, 'no_agent');
    }
  }

  /**
   * Fair order across queues: entries are visited by arrival (then priority); each takes its pick of the
   * participants still free, so a participant serving several queues always gets the caller who came first.
   */
  private dispatch(): void {
    const now = this.clock.now();
    const exhausted = new Set<number>();
    const taken = new Set<number>();
    // startRinging changes an entry's status only (never the order), so the order is walked in place.
    for (const es of this.order) {
      // Every queue without a free participant: nobody further down the order can be served either.
      if (exhausted.size === this.queues.size) break;
      if (es.status !== 'waiting') continue;
      const e = es.entry;
      if (e.notBefore > now || exhausted.has(e.queueId)) continue;
      const q = this.queues.get(e.queueId);
      if (!q) continue;
      const free: Candidate[] = [];
      for (const p of q.participants) {
        if (taken.has(p.userId) || this.stateOf(p) !== 'free') continue;
        free.push({ userId: p.userId, position: p.position, lastReceivedAt: p.lastReceivedAt, callsTaken: p.callsTaken });
      }
      if (free.length === 0) {
        exhausted.add(e.queueId);
        continue;
      }
      let picks = pickAgents(q.strategy, { free, tried: es.tried, lastPosition: this.lastPosition.get(q.id) ?? -1, random: this.random });
      if (picks.length === 0) {
        // Every free participant was tried in this round: a new round after a pause.
        const mono = this.clock.monotonic();
        if (es.roundPauseUntil === 0) {
          es.roundPauseUntil = mono + ROUND_PAUSE_MS;
          es.roundTimer = this.clock.setTimeout(() => this.reconcile(), ROUND_PAUSE_MS);
          continue;
        }
        if (mono < es.roundPauseUntil) continue;
        es.roundPauseUntil = 0;
        es.tried.clear();
        picks = pickAgents(q.strategy, { free, tried: es.tried, lastPosition: this.lastPosition.get(q.id) ?? -1, random: this.random });
        if (picks.length === 0) continue;
      }
      for (const u of picks) taken.add(u);
      this.startRinging(es, q, picks);
    }
  }

  private startRinging(es: EntryRuntime, q: QueueConfig, userIds: number[]): void {
    es.status = 'ringing';
    es.ringingUsers = userIds;
    for (const u of userIds) this.agent(u).ringingFor = es.entry.id;
    if (userIds.length === 1) {
      const p = q.participants.find((x) => x.userId === userIds[0]);
      if (p) this.lastPosition.set(q.id, p.position);
    }
    this.emit({ type: 'queue.ringing', at: this.clock.now(), queueId: q.id, entryId: es.entry.id, userIds });
    const ringTimeMs = q.ringTime * 1000;
    let handle: RingHandle;
    try {
      handle = this.ringer.ring({ entry: es.entry, queue: q, userIds, ringTimeMs });
    } catch {
      handle = { result: Promise.resolve({ unanswered: userIds }), cancel: () => undefined };
    }
    es.ring = handle;
    // A callback may ring the caller before the participant: twice the ring time.
    const guardMs = (es.entry.kind === 'callback' ? 2 * ringTimeMs : ringTimeMs) + RING_GUARD_MS;
    es.ringGuard = this.clock.setTimeout(() => {
      if (es.ring !== handle) return;
      handle.cancel();
      this.ringDone(es.entry.id, handle, { unanswered: userIds });
    }, guardMs);
    handle.result.then(
      (r) => this.ringDone(es.entry.id, handle, r),
      () => this.ringDone(es.entry.id, handle, { unanswered: userIds }),
    );
  }

  private ringDone(entryId: string, handle: RingHandle, r: RingResult): void {
    const es = this.entries.get(entryId);
    if (!es || es.ring !== handle) return;
    const rung = es.ringingUsers;
    es.ring = null;
    this.clock.clearTimeout(es.ringGuard);
    es.ringGuard = undefined;
    for (const u of rung) {
      const a = this.agent(u);
      if (a.ringingFor === entryId) a.ringingFor = null;
    }
    es.ringingUsers = [];
    if ('answered' in r && rung.includes(r.answered)) {
      this.connect(es, r.answered);
    } else {
      es.status = 'waiting';
      const q = this.queues.get(es.entry.queueId);
      const missed = 'unanswered' in r ? r.unanswered : rung;
      for (const u of missed) {
        es.tried.add(u);
        const a = this.agent(u);
        a.unanswered++;
        if (q) this.emit({ type: 'agent.no_answer', at: this.clock.now(), queueId: q.id, userId: u, unanswered: a.unanswered });
        if (q && q.autoPauseAfter > 0 && a.unanswered >= q.autoPauseAfter) this.pause(u, true, 'no_answer');
      }
    }
    this.reconcile();
  }

  private connect(es: EntryRuntime, userId: number): void {
    const now = this.clock.now();
    es.status = 'connected';
    es.connectedTo = userId;
    es.connectedMono = this.clock.monotonic();
    this.clock.clearTimeout(es.maxWaitTimer);
    this.clock.clearTimeout(es.notBeforeTimer);
    this.clock.clearTimeout(es.roundTimer);
    this.removeFromOrder(es);
    const a = this.agent(userId);
    a.connectedEntry = es.entry.id;
    a.unanswered = 0;
    const p = this.queues.get(es.entry.queueId)?.participants.find((x) => x.userId === userId);
    if (p) {
      p.lastReceivedAt = now;
      p.callsTaken++;
    }
    const waitMs = this.waited(es);
    pushRecent(this.recentWaits, es.entry.queueId, waitMs);
    const e = es.entry;
    this.emit({ type: 'queue.answered', at: now, queueId: e.queueId, entryId: e.id, kind: e.kind, caller: e.caller, callId: e.callId, callbackId: e.callbackId, userId, waitMs });
    es.resolve({ type: 'answered', userId, waitMs });
  }

  private publishStates(): void {
    const now = this.clock.now();
    for (const q of this.queues.values()) {
      let last = this.lastStates.get(q.id);
      if (!last) this.lastStates.set(q.id, (last = new Map()));
      for (const p of q.participants) {
        const s = this.stateOf(p);
        if (last.get(p.userId) === s) continue;
        last.set(p.userId, s);
        this.emit({ type: 'agent.state', at: now, queueId: q.id, userId: p.userId, state: s });
      }
    }
  }
}

function maxNullable(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  if (b === null) return a;
  return Math.max(a, b);
}

function pushRecent(m: Map<number, number[]>, key: number, v: number): void {
  let l = m.get(key);
  if (!l) m.set(key, (l = []));
  l.push(v);
  if (l.length > RECENT) l.shift();
}
