// The queue module's SQL: callbacks, queue call rows (history and stats), queue history events and pause spans.
import type { Database } from '../storage/index.js';
import { prepared } from '../directory/prepared.js';
import { NotFoundError } from '../shared/index.js';
import type { CallbackLink, CallbackStatus } from './callback-rules.js';

/** How a callback came to be. */
export type CallbackSource = 'manual' | 'lost_call' | 'offer';

export interface Callback {
  id: number;
  number: string;
  status: CallbackStatus;
  /** Wall-clock ms: not dialled before. */
  dueAt: number;
  queueId: number | null;
  originCallId: string | null;
  linkType: CallbackLink | null;
  source: CallbackSource;
  createdBy: number | null;
  attempts: number;
  notes: string;
  /** What the caller keyed in (IVR digits, menu choices). */
  data: Record<string, string>;
  /** The place in the queue it keeps (origin's arrival), wall-clock ms. */
  arrivedAt: number | null;
  lastResult: string | null;
  createdAt: number;
  updatedAt: number;
}

interface CallbackRow {
  id: number;
  number: string;
  status: CallbackStatus;
  due_at: number;
  queue_id: number | null;
  origin_call_id: string | null;
  link_type: CallbackLink | null;
  source: CallbackSource;
  created_by: number | null;
  attempts: number;
  notes: string;
  data: string;
  arrived_at: number | null;
  last_result: string | null;
  created_at: number;
  updated_at: number;
}

function toCallback(r: CallbackRow): Callback {
  return {
    id: r.id, number: r.number, status: r.status, dueAt: r.due_at, queueId: r.queue_id, originCallId: r.origin_call_id, linkType: r.link_type,
    source: r.source, createdBy: r.created_by, attempts: r.attempts, notes: r.notes, data: JSON.parse(r.data) as Record<string, string>,
    arrivedAt: r.arrived_at, lastResult: r.last_result, createdAt: r.created_at, updatedAt: r.updated_at,
  };
}

export interface NewCallback {
  number: string;
  dueAt: number;
  queueId: number | null;
  originCallId: string | null;
  linkType: CallbackLink | null;
  source: CallbackSource;
  createdBy: number | null;
  notes: string;
  data: Record<string, string>;
  arrivedAt: number | null;
}

export interface CallbackFilter {
  status?: CallbackStatus;
  queueId?: number;
  limit?: number;
}

export class CallbackRepository {
  constructor(private readonly db: Database) {}

  insert(c: NewCallback, now: number): Callback {
    const info = prepared(this.db, `INSERT INTO callbacks (number, status, due_at, queue_id, origin_call_id, link_type, source, created_by, notes, data, arrived_at, created_at, updated_at)
      VALUES (?, 'scheduled', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
      .run(c.number, c.dueAt, c.queueId, this.existingCall(c.originCallId), c.linkType, c.source, c.createdBy, c.notes, JSON.stringify(c.data), c.arrivedAt, now, now);
    return this.require(Number(info.lastInsertRowid));
  }

  /** The origin is kept only when that call is in the history (the column references calls). */
  private existingCall(callId: string | null): string | null {
    if (callId === null) return null;
    return prepared(this.db, 'SELECT 1 FROM calls WHERE id = ?').get(callId) ? callId : null;
  }

  get(id: number): Callback | undefined {
    const r = prepared(this.db, 'SELECT * FROM callbacks WHERE id = ?').get(id) as CallbackRow | undefined;
    return r && toCallback(r);
  }

  require(id: number): Callback {
    const c = this.get(id);
    if (!c) throw new NotFoundError('callback', id);
    return c;
  }

  list(f: CallbackFilter = {}): Callback[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (f.status) {
      where.push('status = ?');
      args.push(f.status);
    }
    if (f.queueId !== undefined) {
      where.push('queue_id = ?');
      args.push(f.queueId);
    }
    const sql = `SELECT * FROM callbacks ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY due_at, id LIMIT ?`;
    return (prepared(this.db, sql).all(...args, f.limit ?? 500) as CallbackRow[]).map(toCallback);
  }

  /** Scheduled or dialling callbacks (candidates for dedupe and Neglected; compared by number in code). */
  pending(): Callback[] {
    return (prepared(this.db, "SELECT * FROM callbacks WHERE status IN ('scheduled', 'dialling') ORDER BY id").all() as CallbackRow[]).map(toCallback);
  }

  update(id: number, patch: Partial<Pick<Callback, 'status' | 'dueAt' | 'attempts' | 'notes' | 'linkType' | 'originCallId' | 'lastResult' | 'data' | 'queueId' | 'number'>>, now: number): Callback {
    const c = { ...this.require(id), ...patch };
    prepared(this.db, `UPDATE callbacks SET number = ?, status = ?, due_at = ?, queue_id = ?, attempts = ?, notes = ?, link_type = ?, origin_call_id = ?, last_result = ?, data = ?,
      updated_at = ? WHERE id = ?`)
      .run(c.number, c.status, c.dueAt, c.queueId, c.attempts, c.notes, c.linkType, patch.originCallId !== undefined ? this.existingCall(c.originCallId) : c.originCallId, c.lastResult, JSON.stringify(c.data), now, id);
    return this.require(id);
  }

  delete(id: number): void {
    if (prepared(this.db, 'DELETE FROM callbacks WHERE id = ?').run(id).changes === 0) throw new NotFoundError('callback', id);
  }

  /** The LostCall / CallBack event on the origin call's history, pairing it with the callback (docs/product.md §5). */
  linkEvent(callId: string | null, type: CallbackLink, callbackId: number, at: number): void {
    if (callId === null) return;
    prepared(this.db, 'INSERT INTO call_events (call_id, at, type, data) SELECT ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM calls WHERE id = ?)').run(
      callId, at, type, JSON.stringify({ callbackId }), callId,
    );
  }
}

export type QueueCallOutcome = 'waiting' | 'answered' | 'abandoned' | 'timeout' | 'shutdown' | 'lost';

export interface QueueCallRow {
  id: number;
  queue_id: number | null;
  entry_id: string;
  kind: string;
  call_id: string | null;
  callback_id: number | null;
  caller: string;
  arrived_at: number;
  answered_at: number | null;
  ended_at: number | null;
  user_id: number | null;
  outcome: QueueCallOutcome;
  reason: string | null;
  wait_ms: number | null;
  talk_ms: number | null;
}

export interface QueueStats {
  queueId: number;
  answered: number;
  abandoned: number;
  timedOut: number;
  /** Share of answered calls answered within the service level, of all calls that ended waiting (0-1; null: none). */
  serviceLevel: number | null;
  averageWaitMs: number | null;
  averageTalkMs: number | null;
}

export interface AgentStats {
  userId: number;
  calls: number;
  talkMs: number;
  pauseMs: number;
}

/** One row per caller's stay in a queue: written as it happens, the source of the stats and of restart recovery. */
export class QueueCallRepository {
  constructor(private readonly db: Database) {}

  joined(r: { queueId: number; entryId: string; kind: string; callId: string | null; callbackId: number | null; caller: string; arrivedAt: number }): void {
    prepared(this.db, `INSERT INTO queue_calls (queue_id, entry_id, kind, call_id, callback_id, caller, arrived_at) VALUES (?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (entry_id) DO NOTHING`).run(r.queueId, r.entryId, r.kind, r.callId, r.callbackId, r.caller, r.arrivedAt);
  }

  answered(entryId: string, userId: number, at: number, waitMs: number): void {
    prepared(this.db, "UPDATE queue_calls SET outcome = 'answered', user_id = ?, answered_at = ?, wait_ms = ? WHERE entry_id = ?").run(userId, at, waitMs, entryId);
  }

  left(entryId: string, outcome: QueueCallOutcome, reason: string | null, at: number, waitMs: number): void {
    prepared(this.db, 'UPDATE queue_calls SET outcome = ?, reason = ?, ended_at = ?, wait_ms = ? WHERE entry_id = ?').run(outcome, reason, at, waitMs, entryId);
  }

  ended(entryId: string, at: number, talkMs: number): void {
    prepared(this.db, 'UPDATE queue_calls SET ended_at = ?, talk_ms = ? WHERE entry_id = ?').run(at, talkMs, entryId);
  }

  /** Rows left open by a stop or crash: callers waiting then (lost calls), and answered calls never ended. */
  unfinished(): QueueCallRow[] {
    return prepared(this.db, "SELECT * FROM queue_calls WHERE outcome IN ('waiting', 'shutdown') OR (outcome = 'answered' AND ended_at IS NULL)").all() as QueueCallRow[];
  }

  stats(queueId: number, since: number, serviceLevelMs: number): QueueStats {
    const r = prepared(this.db, `SELECT
        SUM(outcome = 'answered') AS answered,
        SUM(outcome IN ('abandoned', 'lost')) AS abandoned,
        SUM(outcome = 'timeout') AS timed_out,
        SUM(outcome = 'answered' AND wait_ms <= ?) AS within,
        SUM(outcome IN ('answered', 'abandoned', 'timeout', 'lost')) AS total,
        AVG(CASE WHEN outcome = 'answered' THEN wait_ms END) AS avg_wait,
        AVG(CASE WHEN outcome = 'answered' THEN talk_ms END) AS avg_talk
      FROM queue_calls WHERE queue_id = ? AND arrived_at >= ? AND kind = 'call'`).get(serviceLevelMs, queueId, since) as {
      answered: number | null; abandoned: number | null; timed_out: number | null; within: number | null; total: number | null; avg_wait: number | null; avg_talk: number | null;
    };
    return {
      queueId,
      answered: r.answered ?? 0,
      abandoned: r.abandoned ?? 0,
      timedOut: r.timed_out ?? 0,
      serviceLevel: r.total ? (r.within ?? 0) / r.total : null,
      averageWaitMs: r.avg_wait === null ? null : Math.round(r.avg_wait),
      averageTalkMs: r.avg_talk === null ? null : Math.round(r.avg_talk),
    };
  }

  agentStats(since: number, now: number): AgentStats[] {
    const calls = prepared(this.db, `SELECT user_id, COUNT(*) AS calls, COALESCE(SUM(talk_ms), 0) AS talk FROM queue_calls
      WHERE outcome = 'answered' AND user_id IS NOT NULL AND answered_at >= ? GROUP BY user_id`).all(since) as { user_id: number; calls: number; talk: number }[];
    // A pause in several queues at once counts once: the union is approximated by the longest span per start.
    const pauses = prepared(this.db, `SELECT user_id, SUM(span) AS pause FROM (
        SELECT user_id, MAX(MIN(COALESCE(ended_at, ?), ?) - MAX(started_at, ?)) AS span FROM agent_pauses
        WHERE COALESCE(ended_at, ?) >= ? GROUP BY user_id, started_at) GROUP BY user_id`).all(now, now, since, now, since) as { user_id: number; pause: number }[];
    const out = new Map<number, AgentStats>();
    const get = (u: number): AgentStats => {
      let s = out.get(u);
      if (!s) out.set(u, (s = { userId: u, calls: 0, talkMs: 0, pauseMs: 0 }));
      return s;
    };
    for (const c of calls) Object.assign(get(c.user_id), { calls: c.calls, talkMs: c.talk });
    for (const p of pauses) get(p.user_id).pauseMs = Math.max(0, p.pause);
    return [...out.values()].sort((a, b) => a.userId - b.userId);
  }
}

export interface QueueHistoryEvent {
  id: number;
  at: number;
  type: string;
  queueId: number | null;
  userId: number | null;
  callbackId: number | null;
  data: Record<string, unknown>;
}

/** Every queue, agent and callback change as a history row; pause spans for agent stats. */
export class QueueEventRepository {
  constructor(private readonly db: Database) {}

  add(e: { at: number; type: string; queueId?: number | null; userId?: number | null; callbackId?: number | null; data: object }): void {
    prepared(this.db, 'INSERT INTO queue_events (at, type, queue_id, user_id, callback_id, data) VALUES (?, ?, ?, ?, ?, ?)').run(
      e.at, e.type, e.queueId ?? null, e.userId ?? null, e.callbackId ?? null, JSON.stringify(e.data),
    );
  }

  list(opts: { since?: number; limit?: number } = {}): QueueHistoryEvent[] {
    const rows = prepared(this.db, 'SELECT * FROM queue_events WHERE at >= ? ORDER BY id DESC LIMIT ?').all(opts.since ?? 0, opts.limit ?? 200) as {
      id: number; at: number; type: string; queue_id: number | null; user_id: number | null; callback_id: number | null; data: string;
    }[];
    return rows.map((r) => ({ id: r.id, at: r.at, type: r.type, queueId: r.queue_id, userId: r.user_id, callbackId: r.callback_id, data: JSON.parse(r.data) as Record<string, unknown> }));
  }

  pauseStarted(userId: number, queueId: number, reason: string | null, at: number): void {
    prepared(this.db, 'INSERT INTO agent_pauses (user_id, queue_id, reason, started_at) SELECT ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM users WHERE id = ?) AND EXISTS (SELECT 1 FROM queues WHERE id = ?)').run(
      userId, queueId, reason, at, userId, queueId,
    );
  }

  pauseEnded(userId: number, queueId: number, at: number): void {
    prepared(this.db, 'UPDATE agent_pauses SET ended_at = ? WHERE user_id = ? AND queue_id = ? AND ended_at IS NULL').run(at, userId, queueId);
  }
}
