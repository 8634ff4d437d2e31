// The queues module of the running box: the engine fed from the directory, its changes written through (participant
// state, queue call rows, history events), callbacks (lost-call rules, offers, manual, Neglected, retries) and
// restart recovery. docs/queues.md.
import type { Database } from '../storage/index.js';
import type { QueueRepository, Queue, QueueMember } from '../directory/index.js';
import { TypedEmitter, RelaisError, type Clock, type Logger, type Module, type ModuleHealth, type TimerHandle, errorMessage } from '../shared/index.js';
import { QueueEngine, type AgentLiveState, type AgentRinger, type EnqueueInput, type Enqueued } from './queue-engine.js';
import type { ConditionJudge, QueueConfig, QueueEvent } from './model.js';
import { lostCallQualifies, nextBusinessTime, nextAttemptAt, sameNumber, isWithheld, neglectable, checkCallbackNumber, type CallbackLink, type LostReason } from './callback-rules.js';
import { CallbackRepository, QueueCallRepository, QueueEventRepository, type Callback, type CallbackSource, type QueueCallOutcome, type QueueStats, type AgentStats } from './repositories.js';

export type CallbackEventType = 'callback.scheduled' | 'callback.updated' | 'callback.cancelled' | 'callback.neglected' | 'callback.dialling' | 'callback.done' | 'callback.failed';
export interface CallbackEvent {
  type: CallbackEventType;
  at: number;
  callback: Callback;
}

/** Everything the queues module tells watchers (console stream, LEDs, history): engine events and callback changes. */
export type QueueServiceEvent = QueueEvent | CallbackEvent;

export interface QueueServiceOptions {
  db: Database;
  queues: QueueRepository;
  clock: Clock;
  logger: Logger;
  live: AgentLiveState;
  /** Rings participants; replaceable later with useRinger() (the call wiring plugs in once calls are up). */
  ringer?: AgentRinger;
  /** Judges opening hours (the site calendar); default the conditions alone in the box's zone. */
  conditions?: ConditionJudge;
  random?: () => number;
  /** How often a change made by another process (`relais import`) is looked for; 0 = never. */
  pollMs?: number;
}

export interface CallbackInput {
  number: string;
  queueId?: number | null;
  /** Wall-clock ms; default now (or `delayMinutes` from now). */
  dueAt?: number;
  delayMinutes?: number;
  originCallId?: string | null;
  linkType?: CallbackLink | null;
  source?: CallbackSource;
  createdBy?: number | null;
  notes?: string;
  data?: Record<string, string>;
  /** The place kept in the queue (wall-clock ms of the origin's arrival); default now. */
  arrivedAt?: number | null;
}

export interface CallbackCreated {
  callback: Callback;
  /** false when a pending callback for this number and queue already existed (it is returned instead). */
  created: boolean;
}

/** Until calls are wired: every ring fails at once (the engine pauses between rounds, so this never spins). */
const NO_RINGER: AgentRinger = { ring: (req) => ({ result: Promise.resolve({ unanswered: req.userIds }), cancel: () => undefined }) };

export class QueueService implements Module {
  readonly name = 'queues';
  readonly observer = new TypedEmitter<{ event: [QueueServiceEvent] }>();
  readonly engine: QueueEngine;
  readonly callbacks: CallbackRepository;
  readonly calls: QueueCallRepository;
  readonly history: QueueEventRepository;
  private readonly db: Database;
  private readonly queues: QueueRepository;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly conditions: ConditionJudge | undefined;
  private readonly pollMs: number;
  /** callback id → its waiting entry in the engine (virtual queueing). */
  private readonly callbackEntries = new Map<number, string>();
  private pollTimer: TimerHandle | undefined;
  private ringer: AgentRinger;
  private dataVersion = -1;
  private running = false;

  constructor(opts: QueueServiceOptions) {
    this.db = opts.db;
    this.queues = opts.queues;
    this.clock = opts.clock;
    this.log = opts.logger;
    this.conditions = opts.conditions;
    this.pollMs = opts.pollMs ?? 2_000;
    this.callbacks = new CallbackRepository(opts.db);
    this.calls = new QueueCallRepository(opts.db);
    this.history = new QueueEventRepository(opts.db);
    this.ringer = opts.ringer ?? NO_RINGER;
    this.engine = new QueueEngine({ clock: opts.clock, live: opts.live, ringer: { ring: (req) => this.ringer.ring(req) }, random: opts.random, ...(opts.conditions ? { conditions: opts.conditions } : {}) });
    this.engine.observer.on('event', (e) => this.onEngineEvent(e));
  }

  /** The ringer that puts queue calls through to participants' phones. */
  useRinger(ringer: AgentRinger): void {
    this.ringer = ringer;
  }

  // ---- module --------------------------------------------------------------------------------------------------

  async start(): Promise<void> {
    this.running = true;
    this.recover();
    this.reload();
    for (const cb of this.callbacks.pending()) this.enqueueCallback(cb);
    this.poll();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.clock.clearTimeout(this.pollTimer);
    this.engine.close();
  }

  health(): ModuleHealth {
    const views = this.engine.views();
    return { status: 'ok', detail: { queues: views.length, waiting: views.reduce((n, v) => n + v.waiting.filter((w) => w.kind === 'call').length, 0) } };
  }

  /** Re-reads the queues and participants (after an API change, or an import by another process). */
  reload(): void {
    this.engine.configure(this.queues.list().map((q) => toConfig(q, this.queues.members(q.id))));
  }

  private poll(): void {
    if (!this.running || this.pollMs <= 0) return;
    try {
      const v = this.db.pragma('data_version', { simple: true }) as number;
      if (this.dataVersion !== -1 && v !== this.dataVersion) this.reload();
      this.dataVersion = v;
    } catch (err) {
      this.log.warn('queue configuration poll failed', { error: errorMessage(err) });
    }
    this.pollTimer = this.clock.setTimeout(() => this.poll(), this.pollMs);
  }

  // ---- callers and participants --------------------------------------------------------------------------------

  /** The `distribute` action / a queue's short number: the call waits in the queue. */
  distribute(input: EnqueueInput): Enqueued {
    return this.engine.enqueue(input);
  }

  setLoggedIn(queueId: number, userId: number, loggedIn: boolean): void {
    if (!this.engine.queue(queueId)) this.reload();
    if (!this.engine.setLoggedIn(queueId, userId, loggedIn)) throw new RelaisError('queue.not_member', `user ${userId} is not a participant of queue ${queueId}`, { status: 404 });
  }

  /** Pause or resume in one queue, or in every queue of the user. */
  setPaused(userId: number, paused: boolean, reason: string | null, queueId?: number): void {
    if (queueId !== undefined && !this.engine.queue(queueId)?.participants.some((p) => p.userId === userId)) {
      throw new RelaisError('queue.not_member', `user ${userId} is not a participant of queue ${queueId}`, { status: 404 });
    }
    this.engine.setPaused(userId, paused, reason, queueId);
  }

  stats(queueId: number, since: number): QueueStats & { waiting: number; longestWaitMs: number } {
    const q = this.engine.queue(queueId);
    return { ...this.calls.stats(queueId, since, (q?.serviceLevelSeconds ?? 20) * 1000), ...this.engine.liveStats(queueId) };
  }

  agentStats(since: number): AgentStats[] {
    return this.calls.agentStats(since, this.clock.now());
  }

  // ---- callbacks -----------------------------------------------------------------------------------------------

  /**
   * Creates a Scheduled callback, or returns the pending one for the same number and queue (never two).
   * A LostCall/CallBack link is added to an existing one that had none.
   */
  createCallback(input: CallbackInput): CallbackCreated {
    const number = checkCallbackNumber(input.number);
    if (number === null) throw new RelaisError('callback.number_invalid', `"${input.number}" is not a number to call back (2-20 digits)`, { field: 'number' });
    const queueId = input.queueId ?? null;
    if (queueId !== null && !this.queues.get(queueId)) throw new RelaisError('callback.queue_unknown', `queue ${queueId} does not exist`, { field: 'queueId', status: 404 });
    const now = this.clock.now();
    const existing = this.callbacks.pending().find((c) => c.queueId === queueId && sameNumber(c.number, number));
    if (existing) {
      if (existing.linkType === null && input.linkType) {
        const cb = this.callbacks.update(existing.id, { linkType: input.linkType, originCallId: input.originCallId ?? existing.originCallId }, now);
        this.callbacks.linkEvent(cb.originCallId, input.linkType, cb.id, now);
        this.callbackEvent('callback.updated', cb);
        return { callback: cb, created: false };
      }
      return { callback: existing, created: false };
    }
    const q = queueId === null ? undefined : this.engine.queue(queueId);
    let dueAt = input.dueAt ?? now + (input.delayMinutes ?? 0) * 60_000;
    if (q && q.lostCallRules.businessHoursOnly) dueAt = nextBusinessTime(dueAt, q.openingHours, this.conditions);
    const cb = this.callbacks.insert(
      {
        number, dueAt, queueId, originCallId: input.originCallId ?? null, linkType: input.linkType ?? null, source: input.source ?? 'manual', createdBy: input.createdBy ?? null,
        notes: input.notes ?? '', data: input.data ?? this.ivrData(input.originCallId ?? null), arrivedAt: input.arrivedAt === undefined ? now : input.arrivedAt,
      },
      now,
    );
    if (cb.linkType) this.callbacks.linkEvent(cb.originCallId, cb.linkType, cb.id, now);
    this.callbackEvent('callback.scheduled', cb);
    this.enqueueCallback(cb);
    return { callback: cb, created: true };
  }

  cancelCallback(id: number): Callback {
    const cur = this.callbacks.require(id);
    if (cur.status !== 'scheduled' && cur.status !== 'dialling') throw new RelaisError('callback.finished', `callback ${id} is ${cur.status}`, { status: 409 });
    this.dequeueCallback(id);
    const cb = this.callbacks.update(id, { status: 'cancelled' }, this.clock.now());
    this.callbackEvent('callback.cancelled', cb);
    return cb;
  }

  /** Reschedule, change the number, notes or queue, or link an origin (manual callbacks may be linked later). */
  updateCallback(id: number, patch: { dueAt?: number; number?: string; notes?: string; queueId?: number | null; originCallId?: string | null; linkType?: CallbackLink | null }): Callback {
    const cur = this.callbacks.require(id);
    const now = this.clock.now();
    const p: Parameters<CallbackRepository['update']>[1] = {};
    if (patch.number !== undefined) {
      const n = checkCallbackNumber(patch.number);
      if (n === null) throw new RelaisError('callback.number_invalid', `"${patch.number}" is not a number to call back (2-20 digits)`, { field: 'number' });
      p.number = n;
    }
    if (patch.notes !== undefined) p.notes = patch.notes;
    if (patch.queueId !== undefined) {
      if (patch.queueId !== null && !this.queues.get(patch.queueId)) throw new RelaisError('callback.queue_unknown', `queue ${patch.queueId} does not exist`, { field: 'queueId', status: 404 });
      p.queueId = patch.queueId;
    }
    if (patch.dueAt !== undefined) {
      if (cur.status !== 'scheduled') throw new RelaisError('callback.not_scheduled', `callback ${id} is ${cur.status}: only a scheduled callback can be rescheduled`, { status: 409, field: 'dueAt' });
      p.dueAt = patch.dueAt;
    }
    if (patch.linkType !== undefined) p.linkType = patch.linkType;
    if (patch.originCallId !== undefined) p.originCallId = patch.originCallId;
    const cb = this.callbacks.update(id, p, now);
    if (patch.linkType && patch.linkType !== cur.linkType) this.callbacks.linkEvent(cb.originCallId, patch.linkType, cb.id, now);
    this.callbackEvent('callback.updated', cb);
    if (cb.status === 'scheduled' && (p.dueAt !== undefined || p.queueId !== undefined)) {
      this.dequeueCallback(id);
      this.enqueueCallback(cb);
    }
    return cb;
  }

  deleteCallback(id: number): void {
    this.dequeueCallback(id);
    this.callbacks.delete(id);
  }

  /**
   * Neglected: the number called in again and was served by a person (on any number or queue). Its callbacks still
   * Scheduled and linked to a LostCall event are cancelled as Neglected; others stay.
   */
  callerServed(number: string): Callback[] {
    if (isWithheld(number)) return [];
    const out: Callback[] = [];
    for (const c of this.callbacks.pending()) {
      if (!neglectable(c) || !sameNumber(c.number, number)) continue;
      this.dequeueCallback(c.id);
      const cb = this.callbacks.update(c.id, { status: 'neglected' }, this.clock.now());
      this.callbackEvent('callback.neglected', cb);
      out.push(cb);
    }
    return out;
  }

  /** The dialler's word on one attempt: done, or a retry inside business hours, or failed when attempts ran out. */
  callbackAttempt(id: number, result: 'answered' | 'no_answer' | 'failed'): Callback {
    const cur = this.callbacks.require(id);
    const now = this.clock.now();
    const attempts = cur.attempts + 1;
    if (result === 'answered') {
      const cb = this.callbacks.update(id, { status: 'done', attempts, lastResult: result }, now);
      this.callbackEvent('callback.done', cb);
      return cb;
    }
    const q = cur.queueId === null ? undefined : this.engine.queue(cur.queueId);
    const rules = q?.lostCallRules ?? { maxAttempts: 3, retryDelayMinutes: 10, businessHoursOnly: false };
    const next = nextAttemptAt(attempts, rules, now, q?.openingHours ?? null, this.conditions);
    if (next === null) {
      const cb = this.callbacks.update(id, { status: 'failed', attempts, lastResult: result }, now);
      this.callbackEvent('callback.failed', cb);
      return cb;
    }
    const cb = this.callbacks.update(id, { status: 'scheduled', attempts, lastResult: result, dueAt: next }, now);
    this.callbackEvent('callback.scheduled', cb);
    this.enqueueCallback(cb);
    return cb;
  }

  /** The callback waiting in the engine for this callback id, if any. */
  callbackEntry(id: number): string | undefined {
    return this.callbackEntries.get(id);
  }

  private ivrData(callId: string | null): Record<string, string> {
    if (callId === null) return {};
    const r = this.db.prepare('SELECT ivr_data FROM calls WHERE id = ?').get(callId) as { ivr_data: string } | undefined;
    if (!r) return {};
    try {
      const v = JSON.parse(r.ivr_data) as unknown;
      if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, String(x)]));
    } catch {
      // A malformed row keeps the callback without the data rather than failing it.
    }
    return {};
  }

  private enqueueCallback(cb: Callback): void {
    if (cb.status !== 'scheduled' || cb.queueId === null || this.callbackEntries.has(cb.id) || !this.running) return;
    const e = this.engine.enqueue({ queueId: cb.queueId, kind: 'callback', callbackId: cb.id, caller: cb.number, arrivedAt: cb.arrivedAt ?? cb.createdAt, notBefore: cb.dueAt });
    if (e.entryId) this.callbackEntries.set(cb.id, e.entryId);
  }

  private dequeueCallback(id: number): void {
    const entryId = this.callbackEntries.get(id);
    if (entryId === undefined) return;
    this.callbackEntries.delete(id);
    this.engine.leave(entryId);
  }

  private callbackEvent(type: CallbackEventType, cb: Callback): void {
    const at = this.clock.now();
    this.history.add({ at, type, queueId: cb.queueId, callbackId: cb.id, data: { status: cb.status, number: cb.number, dueAt: cb.dueAt, linkType: cb.linkType, attempts: cb.attempts } });
    this.observer.emit('event', { type, at, callback: cb });
  }

  /**
   * A caller hung up in a CallBack offer's confirmation dialog before confirming (docs/queues.md): a lost call of the
   * queue (history `queue.lost`, reason `callback_unconfirmed`) that the automatic rules may turn into a callback.
   */
  offerAbandoned(queueId: number, caller: string, callId: string, arrivedAt: number): void {
    const now = this.clock.now();
    const waitMs = Math.max(0, now - arrivedAt);
    this.history.add({ at: now, type: 'queue.lost', queueId, data: { caller, callId, reason: 'callback_unconfirmed', waitMs } });
    this.lostCall(queueId, caller, callId, 'abandoned', waitMs, arrivedAt);
  }

  /** A lost call: the queue's automatic rules may turn it into a Scheduled LostCall callback. */
  private lostCall(queueId: number, caller: string, callId: string | null, reason: LostReason, waitMs: number, arrivedAt: number): void {
    const q = this.engine.queue(queueId);
    if (!q || isWithheld(caller) || checkCallbackNumber(caller) === null) return;
    if (!lostCallQualifies(q.lostCallRules, reason, waitMs)) return;
    this.createCallback({ number: caller, queueId, originCallId: callId, linkType: 'LostCall', source: 'lost_call', arrivedAt });
  }

  // ---- engine events → storage ---------------------------------------------------------------------------------

  private onEngineEvent(e: QueueEvent): void {
    try {
      this.persist(e);
    } catch (err) {
      this.log.error('queue event not stored', { type: e.type, error: errorMessage(err) });
    }
    this.observer.emit('event', e);
  }

  private persist(e: QueueEvent): void {
    const { type, at, queueId } = e;
    const userId = 'userId' in e ? e.userId : null;
    switch (e.type) {
      case 'queue.joined': {
        const entry = this.engine.entry(e.entryId);
        this.calls.joined({ queueId: e.queueId, entryId: e.entryId, kind: e.kind, callId: e.callId, callbackId: entry?.callbackId ?? null, caller: e.caller, arrivedAt: entry?.arrivedAt ?? at });
        break;
      }
      case 'queue.answered':
        this.calls.answered(e.entryId, e.userId, at, e.waitMs);
        this.queues.markCalled(e.queueId, e.userId, at);
        if (e.kind === 'call') this.callerServed(e.caller);
        else if (e.callbackId !== null) {
          this.callbackEntries.delete(e.callbackId);
          const cb = this.callbacks.get(e.callbackId);
          if (cb && cb.status === 'scheduled') this.callbackEvent('callback.dialling', this.callbacks.update(cb.id, { status: 'dialling' }, at));
        }
        break;
      case 'queue.left': {
        const outcome: QueueCallOutcome = e.outcome === 'abandoned' ? 'abandoned' : e.outcome === 'timeout' ? 'timeout' : e.outcome === 'shutdown' ? 'shutdown' : 'lost';
        this.calls.left(e.entryId, outcome, e.reason, at, e.waitMs);
        if (e.kind === 'callback') {
          if (e.callbackId !== null && this.callbackEntries.get(e.callbackId) === e.entryId) this.callbackEntries.delete(e.callbackId);
        } else if (e.outcome === 'abandoned' || e.outcome === 'timeout') {
          const reason: LostReason = e.outcome === 'abandoned' ? 'abandoned' : e.reason === 'no_agent' ? 'no_agent' : 'max_wait';
          this.lostCall(e.queueId, e.caller, e.callId, reason, e.waitMs, at - e.waitMs);
        }
        break;
      }
      case 'queue.call_ended':
        this.calls.ended(e.entryId, at, e.talkMs);
        break;
      case 'agent.login':
        this.queues.setLoggedIn(e.queueId, e.userId, e.loggedIn);
        break;
      case 'agent.pause':
        this.queues.setPaused(e.queueId, e.userId, e.paused, e.reason);
        if (e.paused) this.history.pauseStarted(e.userId, e.queueId, e.reason, at);
        else this.history.pauseEnded(e.userId, e.queueId, at);
        break;
      default:
        break;
    }
    const { type: _t, at: _a, queueId: _q, ...data } = e as QueueEvent & Record<string, unknown>;
    if ('userId' in data) delete data.userId;
    this.history.add({ at, type, queueId, userId, data });
  }

  /**
   * At start: callers who were waiting when Relais stopped or crashed are lost calls (and callbacks when a rule
   * asks); calls answered but never ended are closed; callbacks caught dialling are scheduled again.
   */
  private recover(): void {
    const now = this.clock.now();
    const queues = new Map(this.queues.list().map((q) => [q.id, toConfig(q, [])]));
    const lost: { queueId: number; caller: string; callId: string | null; waitMs: number; arrivedAt: number }[] = [];
    for (const r of this.calls.unfinished()) {
      if (r.outcome === 'answered') {
        this.calls.ended(r.entry_id, r.ended_at ?? now, r.talk_ms ?? 0);
        continue;
      }
      const waitMs = r.wait_ms ?? Math.max(0, now - r.arrived_at);
      this.calls.left(r.entry_id, 'lost', 'restart', r.ended_at ?? now, waitMs);
      this.history.add({ at: now, type: 'queue.lost', queueId: r.queue_id, data: { entryId: r.entry_id, caller: r.caller, callId: r.call_id, reason: 'restart', waitMs } });
      if (r.kind === 'call' && r.queue_id !== null) lost.push({ queueId: r.queue_id, caller: r.caller, callId: r.call_id, waitMs, arrivedAt: r.arrived_at });
    }
    for (const c of this.callbacks.list({ status: 'dialling' })) this.callbacks.update(c.id, { status: 'scheduled' }, now);
    if (lost.length === 0) return;
    // Rules need the queue configuration: put it in place before applying them.
    this.engine.configure([...queues.values()]);
    this.running = true;
    for (const l of lost) this.lostCall(l.queueId, l.caller, l.callId, 'restart', l.waitMs, l.arrivedAt);
  }
}

/** A directory queue and its participants as the engine runs them. */
export function toConfig(q: Queue, members: readonly QueueMember[]): QueueConfig {
  return {
    id: q.id,
    name: q.name,
    shortNumber: q.shortNumber,
    strategy: q.strategy,
    ringTime: q.ringTime,
    maxWait: q.maxWait,
    wrapUp: q.wrapUp,
    timeoutAction: q.timeoutAction,
    timeoutSoundId: q.timeoutSoundId,
    mohSoundId: q.mohSoundId,
    mohDefault: q.mohDefault,
    announcePosition: q.announcePosition,
    openingHours: q.openingHours,
    closed: q.closed,
    exceptionalClosure: q.exceptionalClosure,
    closureAction: q.closureAction,
    autoPauseAfter: q.autoPauseAfter,
    callbackOrder: q.callbackOrder,
    lostCallRules: q.lostCallRules,
    serviceLevelSeconds: q.serviceLevel,
    participants: members.map((m) => ({
      userId: m.userId, position: m.position, loggedIn: m.loggedIn, paused: m.paused, pauseReason: m.pauseReason, lastReceivedAt: m.lastCallAt, callsTaken: m.callsTaken,
    })),
  };
}
