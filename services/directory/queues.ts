// Queues (ACD, docs/product.md §3) and their participants, with the participants' login/pause/last-call state.
import { prepared } from './prepared.js';
import { TableRepository } from './table-repository.js';
import type { Database } from '../storage/index.js';
import { RelaisError } from '../shared/index.js';
import { conditionMatches, type Condition } from './scenario-model.js';

export type QueueStrategy = 'as_listed' | 'simultaneous' | 'longest_idle' | 'random' | 'round_robin' | 'fewest_calls';
export const QUEUE_STRATEGIES: readonly QueueStrategy[] = ['as_listed', 'simultaneous', 'longest_idle', 'random', 'round_robin', 'fewest_calls'];

/** Who is called first when a callback's turn comes (docs/queues.md "Callbacks"). */
export type CallbackOrder = 'agent_first' | 'caller_first';
export const CALLBACK_ORDERS: readonly CallbackOrder[] = ['agent_first', 'caller_first'];

/** Automatic callback rules of a queue: which lost calls become Scheduled callbacks (docs/queues.md). */
export interface LostCallRules {
  afterAbandon: boolean;
  afterTimeout: boolean;
  afterNoAgent: boolean;
  /** A caller who hung up sooner than this is not a lost call (seconds). */
  minWaitSeconds: number;
  /** Dial callbacks only inside the queue's opening hours. */
  businessHoursOnly: boolean;
  /** Dialling attempts before a callback is `failed`. */
  maxAttempts: number;
  /** Minutes between two attempts. */
  retryDelayMinutes: number;
}

export const DEFAULT_LOST_CALL_RULES: Readonly<LostCallRules> = Object.freeze({
  afterAbandon: false,
  afterTimeout: false,
  afterNoAgent: false,
  minWaitSeconds: 10,
  businessHoursOnly: true,
  maxAttempts: 3,
  retryDelayMinutes: 10,
});

/** docs/product.md §3 timeout handling: end the call (default), transfer to an internal number, or to another queue. */
export type QueueTimeoutAction = { type: 'hangup' } | { type: 'transfer'; to: string } | { type: 'queue'; queue: string };
export const QUEUE_TIMEOUT_TYPES = ['hangup', 'transfer', 'queue'] as const;
/** docs/product.md §1 exceptional closure: forward elsewhere, to a mailbox, or a message then hang up. */
export type ClosureAction = { type: 'forward'; to: string } | { type: 'voicemail'; mailbox?: string } | { type: 'message'; sound: string };
export const CLOSURE_TYPES = ['forward', 'voicemail', 'message'] as const;

export interface Queue {
  id: number;
  name: string;
  shortNumber: string;
  strategy: QueueStrategy;
  /** Seconds each participant rings. */
  ringTime: number;
  /** Seconds a caller may wait before the timeout handling. */
  maxWait: number;
  /** Seconds after a call during which the participant gets no queue call. */
  wrapUp: number;
  timeoutAction: QueueTimeoutAction;
  timeoutSoundId: number | null;
  /** null = ringing tone (or the default music when mohDefault). */
  mohSoundId: number | null;
  /** Without a sound: the box's own default music on hold instead of the ringing tone (site file `music_on_hold: default`). */
  mohDefault: boolean;
  announcePosition: boolean;
  /** Open when any entry matches; null = always open. */
  openingHours: Condition[] | null;
  closed: boolean;
  exceptionalClosure: boolean;
  closureAction: ClosureAction | null;
  /** Unanswered rings in a row that pause a participant (0 = never). */
  autoPauseAfter: number;
  callbackOrder: CallbackOrder;
  lostCallRules: LostCallRules;
  /** Seconds within which an answer counts for the service level. */
  serviceLevel: number;
}

export type QueueInput = Partial<Omit<Queue, 'id' | 'name' | 'shortNumber'>> & { name: string; shortNumber: string };

export interface QueueMember {
  queueId: number;
  userId: number;
  position: number;
  loggedIn: boolean;
  paused: boolean;
  pauseReason: string | null;
  lastCallAt: number | null;
  callsTaken: number;
}

interface Row {
  id: number;
  name: string;
  short_number: string;
  strategy: QueueStrategy;
  ring_time: number;
  max_wait: number;
  wrap_up: number;
  timeout_action: string;
  timeout_sound_id: number | null;
  moh_sound_id: number | null;
  moh_default: number;
  announce_position: number;
  opening_hours: string | null;
  closed: number;
  exceptional_closure: number;
  closure_action: string | null;
  auto_pause_after: number;
  callback_order: CallbackOrder;
  lost_call_rules: string | null;
  service_level: number;
}

interface MemberRow {
  queue_id: number;
  user_id: number;
  position: number;
  logged_in: number;
  paused: number;
  pause_reason: string | null;
  last_call_at: number | null;
  calls_taken: number;
}

function toQueue(r: Row): Queue {
  return {
    id: r.id,
    name: r.name,
    shortNumber: r.short_number,
    strategy: r.strategy,
    ringTime: r.ring_time,
    maxWait: r.max_wait,
    wrapUp: r.wrap_up,
    timeoutAction: JSON.parse(r.timeout_action) as QueueTimeoutAction,
    timeoutSoundId: r.timeout_sound_id,
    mohSoundId: r.moh_sound_id,
    mohDefault: r.moh_default === 1,
    announcePosition: r.announce_position === 1,
    openingHours: r.opening_hours === null ? null : (JSON.parse(r.opening_hours) as Condition[]),
    closed: r.closed === 1,
    exceptionalClosure: r.exceptional_closure === 1,
    closureAction: r.closure_action === null ? null : (JSON.parse(r.closure_action) as ClosureAction),
    autoPauseAfter: r.auto_pause_after,
    callbackOrder: r.callback_order,
    lostCallRules: r.lost_call_rules === null ? { ...DEFAULT_LOST_CALL_RULES } : { ...DEFAULT_LOST_CALL_RULES, ...(JSON.parse(r.lost_call_rules) as Partial<LostCallRules>) },
    serviceLevel: r.service_level,
  };
}

function toMember(r: MemberRow): QueueMember {
  return {
    queueId: r.queue_id, userId: r.user_id, position: r.position, loggedIn: r.logged_in === 1, paused: r.paused === 1, pauseReason: r.pause_reason,
    lastCallAt: r.last_call_at, callsTaken: r.calls_taken,
  };
}

/**
 * docs/product.md §7 queue states: `exceptional_closure` (switched by its short number) runs the closure action;
 * `closed` (switched closed, or outside opening hours) makes Distribute fall through; else `open`.
 */
export type QueueState = 'open' | 'closed' | 'exceptional_closure';

export function queueState(q: Pick<Queue, 'closed' | 'exceptionalClosure' | 'openingHours'>, at: Date, timeZone?: string): QueueState {
  if (q.exceptionalClosure) return 'exceptional_closure';
  if (q.closed) return 'closed';
  if (q.openingHours !== null && !q.openingHours.some((c) => conditionMatches(c, at, timeZone))) return 'closed';
  return 'open';
}

/**
 * A queue with every setting the input leaves out at its default: as listed, 20 s ring, 5 min
 * wait, 10 s wrap-up, timeout ends the call… The one place these defaults are written (API and site file use it).
 */
export function queueWithDefaults(input: QueueInput): Omit<Queue, 'id'> {
  return {
    name: input.name,
    shortNumber: input.shortNumber,
    strategy: input.strategy ?? 'as_listed',
    ringTime: input.ringTime ?? 20,
    maxWait: input.maxWait ?? 300,
    wrapUp: input.wrapUp ?? 10,
    timeoutAction: input.timeoutAction ?? { type: 'hangup' },
    timeoutSoundId: input.timeoutSoundId ?? null,
    mohSoundId: input.mohSoundId ?? null,
    mohDefault: input.mohDefault ?? false,
    announcePosition: input.announcePosition ?? false,
    openingHours: input.openingHours ?? null,
    closed: input.closed ?? false,
    exceptionalClosure: input.exceptionalClosure ?? false,
    closureAction: input.closureAction ?? null,
    autoPauseAfter: input.autoPauseAfter ?? 0,
    callbackOrder: input.callbackOrder ?? 'agent_first',
    lostCallRules: { ...DEFAULT_LOST_CALL_RULES, ...input.lostCallRules },
    serviceLevel: input.serviceLevel ?? 20,
  };
}

export class QueueRepository extends TableRepository<Row, Queue> {
  constructor(db: Database) {
    super(db, { table: 'queues', what: 'queue' });
  }

  protected toEntity(r: Row): Queue {
    return toQueue(r);
  }




  findByName(name: string): Queue | undefined {
    return this.findOne('name', name);
  }

  findByShortNumber(shortNumber: string): Queue | undefined {
    return this.findOne('short_number', shortNumber);
  }

  private check(q: Omit<Queue, 'id'>): void {
    if (!q.name.trim()) throw new RelaisError('queue.name_missing', 'a queue needs a name', { field: 'name' });
    if (!/^[0-9]{2,8}$/.test(q.shortNumber)) throw new RelaisError('queue.short_number_invalid', `short number "${q.shortNumber}" must be 2 to 8 digits`, { field: 'shortNumber' });
    if (!QUEUE_STRATEGIES.includes(q.strategy)) throw new RelaisError('queue.strategy_invalid', `strategy "${q.strategy}" is not one of ${QUEUE_STRATEGIES.join(', ')}`, { field: 'strategy' });
    const range = (v: number, field: string, min: number, max: number): void => {
      if (!Number.isInteger(v) || v < min || v > max) throw new RelaisError('queue.value_invalid', `${field} ${v} must be ${min}-${max} seconds`, { field });
    };
    range(q.ringTime, 'ringTime', 5, 600);
    range(q.maxWait, 'maxWait', 10, 86400);
    range(q.wrapUp, 'wrapUp', 0, 3600);
    range(q.serviceLevel, 'serviceLevel', 1, 3600);
    if (!Number.isInteger(q.autoPauseAfter) || q.autoPauseAfter < 0 || q.autoPauseAfter > 100) throw new RelaisError('queue.value_invalid', `autoPauseAfter ${q.autoPauseAfter} must be 0-100 rings`, { field: 'autoPauseAfter' });
    if (!CALLBACK_ORDERS.includes(q.callbackOrder)) throw new RelaisError('queue.value_invalid', `callbackOrder "${q.callbackOrder}" is not one of ${CALLBACK_ORDERS.join(', ')}`, { field: 'callbackOrder' });
    checkLostCallRules(q.lostCallRules);
  }

  private values(q: Omit<Queue, 'id'>): unknown[] {
    return [
      q.name, q.shortNumber, q.strategy, q.ringTime, q.maxWait, q.wrapUp, JSON.stringify(q.timeoutAction), q.timeoutSoundId, q.mohSoundId,
      q.announcePosition ? 1 : 0, q.openingHours === null ? null : JSON.stringify(q.openingHours), q.closed ? 1 : 0, q.exceptionalClosure ? 1 : 0,
      q.closureAction === null ? null : JSON.stringify(q.closureAction), q.autoPauseAfter, q.callbackOrder, JSON.stringify(q.lostCallRules), q.serviceLevel,
      q.mohDefault ? 1 : 0,
    ];
  }

  /** New queues get docs/product.md §7's defaults: as listed, 20 s ring, 5 min wait, 10 s wrap-up, ringing tone, timeout ends the call. */
  /** Frees every short number at once ('~id' placeholders) so a site import can swap them between queues. */
  releaseShortNumbers(): void {
    prepared(this.db, "UPDATE queues SET short_number = '~' || id").run();
  }

  create(input: QueueInput): Queue {
    const q = queueWithDefaults(input);
    this.check(q);
    if (this.findByName(q.name)) throw new RelaisError('queue.exists', `queue "${q.name}" already exists`, { field: 'name', status: 409 });
    if (this.findByShortNumber(q.shortNumber)) throw new RelaisError('queue.exists', `short number ${q.shortNumber} is already used by a queue`, { field: 'shortNumber', status: 409 });
    const info = prepared(this.db, `INSERT INTO queues (name, short_number, strategy, ring_time, max_wait, wrap_up, timeout_action, timeout_sound_id, moh_sound_id,
                  announce_position, opening_hours, closed, exceptional_closure, closure_action, auto_pause_after, callback_order, lost_call_rules, service_level,
                  moh_default)
                  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
      .run(...this.values(q));
    return this.require(Number(info.lastInsertRowid));
  }

  update(id: number, patch: Partial<Omit<Queue, 'id'>>): Queue {
    const q = { ...this.require(id), ...patch };
    this.check(q);
    const byName = this.findByName(q.name);
    if (byName && byName.id !== id) throw new RelaisError('queue.exists', `queue "${q.name}" already exists`, { field: 'name', status: 409 });
    const byShort = this.findByShortNumber(q.shortNumber);
    if (byShort && byShort.id !== id) throw new RelaisError('queue.exists', `short number ${q.shortNumber} is already used by a queue`, { field: 'shortNumber', status: 409 });
    prepared(this.db, `UPDATE queues SET name = ?, short_number = ?, strategy = ?, ring_time = ?, max_wait = ?, wrap_up = ?, timeout_action = ?,
                  timeout_sound_id = ?, moh_sound_id = ?, announce_position = ?, opening_hours = ?, closed = ?, exceptional_closure = ?,
                  closure_action = ?, auto_pause_after = ?, callback_order = ?, lost_call_rules = ?, service_level = ?, moh_default = ? WHERE id = ?`)
      .run(...this.values(q), id);
    return this.require(id);
  }


  /** Participants in list order. */
  members(queueId: number): QueueMember[] {
    return (prepared(this.db, 'SELECT * FROM queue_members WHERE queue_id = ? ORDER BY position, user_id').all(queueId) as MemberRow[]).map(toMember);
  }

  /** Queues a user takes part in. */
  queuesOf(userId: number): QueueMember[] {
    return (prepared(this.db, 'SELECT * FROM queue_members WHERE user_id = ? ORDER BY queue_id').all(userId) as MemberRow[]).map(toMember);
  }

  /**
   * Sets the participant list in order; participants already there keep their login, pause and last-call state,
   * new ones are added logged in (docs/product.md §7) unless told otherwise.
   */
  setMembers(queueId: number, members: readonly { userId: number; loggedIn?: boolean; paused?: boolean }[]): QueueMember[] {
    this.require(queueId);
    const current = new Map(this.members(queueId).map((m) => [m.userId, m]));
    const keep = new Set(members.map((m) => m.userId));
    const del = prepared(this.db, 'DELETE FROM queue_members WHERE queue_id = ? AND user_id = ?');
    for (const uid of current.keys()) if (!keep.has(uid)) del.run(queueId, uid);
    const upsert = prepared(this.db, `INSERT INTO queue_members (queue_id, user_id, position, logged_in, paused, last_call_at) VALUES (?, ?, ?, ?, ?, ?)
      ON CONFLICT (queue_id, user_id) DO UPDATE SET position = excluded.position, logged_in = excluded.logged_in, paused = excluded.paused`);
    members.forEach((m, i) => {
      const cur = current.get(m.userId);
      upsert.run(queueId, m.userId, i, (m.loggedIn ?? cur?.loggedIn ?? true) ? 1 : 0, (m.paused ?? cur?.paused ?? false) ? 1 : 0, cur?.lastCallAt ?? null);
    });
    return this.members(queueId);
  }

  addMember(queueId: number, userId: number): QueueMember[] {
    const list = this.members(queueId).map((m) => ({ userId: m.userId }));
    if (!list.some((m) => m.userId === userId)) list.push({ userId });
    return this.setMembers(queueId, list);
  }

  removeMember(queueId: number, userId: number): QueueMember[] {
    return this.setMembers(queueId, this.members(queueId).filter((m) => m.userId !== userId).map((m) => ({ userId: m.userId })));
  }

  private setFlag(queueId: number, userId: number, column: 'logged_in' | 'paused', on: boolean): void {
    const info = prepared(this.db, `UPDATE queue_members SET ${column} = ? WHERE queue_id = ? AND user_id = ?`).run(on ? 1 : 0, queueId, userId);
    if (info.changes === 0) throw new RelaisError('queue.not_member', `user ${userId} is not a participant of queue ${queueId}`, { status: 404 });
  }

  /** `*41<short number>` / `*42<short number>` from a phone. */
  setLoggedIn(queueId: number, userId: number, loggedIn: boolean): void {
    this.setFlag(queueId, userId, 'logged_in', loggedIn);
  }

  setPaused(queueId: number, userId: number, paused: boolean, reason: string | null = null): void {
    this.setFlag(queueId, userId, 'paused', paused);
    prepared(this.db, 'UPDATE queue_members SET pause_reason = ? WHERE queue_id = ? AND user_id = ?').run(paused ? reason : null, queueId, userId);
  }

  /** Longest idle counts from when the participant *received* a queue call (docs/product.md §7). */
  markCalled(queueId: number, userId: number, at: number): void {
    prepared(this.db, 'UPDATE queue_members SET last_call_at = ?, calls_taken = calls_taken + 1 WHERE queue_id = ? AND user_id = ?').run(at, queueId, userId);
  }
}

function checkLostCallRules(r: LostCallRules): void {
  for (const k of ['afterAbandon', 'afterTimeout', 'afterNoAgent', 'businessHoursOnly'] as const) {
    if (typeof r[k] !== 'boolean') throw new RelaisError('queue.value_invalid', `lostCallRules.${k} must be true or false`, { field: `lostCallRules.${k}` });
  }
  const int = (k: 'minWaitSeconds' | 'maxAttempts' | 'retryDelayMinutes', min: number, max: number): void => {
    const v = r[k];
    if (!Number.isInteger(v) || v < min || v > max) throw new RelaisError('queue.value_invalid', `lostCallRules.${k} ${String(v)} must be ${min}-${max}`, { field: `lostCallRules.${k}` });
  };
  int('minWaitSeconds', 0, 3600);
  int('maxAttempts', 1, 20);
  int('retryDelayMinutes', 1, 1440);
}
