// Call history repository: the calls row of each call and its call_events timeline (SQL owned here).
import { SystemClock, WritePacer, type Clock, type TypedEmitter } from '../shared/index.js';
import type { Database } from '../storage/index.js';
import type { CallEvents } from './call.js';

export type CallDirection = 'inbound' | 'outbound' | 'internal';
export type CallStatus = 'ringing' | 'answered' | 'ended' | 'voicemail';

export interface CallRecord {
  id: string;
  direction: CallDirection;
  caller: string;
  callee: string;
  numberId: number | null;
  queueId: number | null;
  answeredBy: number | null;
  startedAt: number;
  answeredAt: number | null;
  endedAt: number | null;
  status: string;
  cause: string | null;
  /** Recording file, relative to the data dir (e.g. recordings/2026/11/<id>.wav). */
  recording: string | null;
}

export interface CallEventRecord {
  id: number;
  callId: string;
  at: number;
  type: string;
  data: Record<string, unknown>;
}

interface CallRow {
  id: string;
  direction: CallDirection;
  caller: string;
  callee: string;
  number_id: number | null;
  queue_id: number | null;
  answered_by: number | null;
  started_at: number;
  answered_at: number | null;
  ended_at: number | null;
  status: string;
  cause: string | null;
  recording: string | null;
}

function toRecord(r: CallRow): CallRecord {
  return {
    id: r.id,
    direction: r.direction,
    caller: r.caller,
    callee: r.callee,
    numberId: r.number_id,
    queueId: r.queue_id,
    answeredBy: r.answered_by,
    startedAt: r.started_at,
    answeredAt: r.answered_at,
    endedAt: r.ended_at,
    status: r.status,
    cause: r.cause,
    recording: r.recording,
  };
}

export interface CallHistoryOptions {
  /**
   * Write-behind (0 = each write at once): rows are queued and written in one transaction, paced by WritePacer: a
   * change after a quiet moment on the next turn of the event loop; under a burst, a wait that grows with the
   * commits' cost up to batchMs. A call costs about ten writes; one commit per batch instead of one per write keeps
   * SQLite off the call-setup path.
   */
  batchMs?: number;
  /** The shortest time between two commits (default 0; tests set it, their clock makes every commit free). */
  minBatchMs?: number;
  /** Told about a row that could not be written (the others of the batch are kept). */
  onError?: (err: unknown) => void;
  /** Schedules the write-behind flush (STYLE: injected clock); the system clock when absent. */
  clock?: Clock;
}

type Statement = import('better-sqlite3').Statement<unknown[]>;

/** A calls row not written yet: the changes that reach it before its flush are folded into its one INSERT. */
interface PendingCall {
  id: string;
  direction: CallDirection;
  caller: string;
  callee: string;
  numberId: number | null;
  startedAt: number;
  status: string;
  answeredAt: number | null;
  answeredBy: number | null;
  endedAt: number | null;
  cause: string | null;
  recording: string | null;
}

/** call_events rows written by one statement (a flush's events go in chunks of this many, then one by one). */
const EVENTS_PER_INSERT = 8;

export class CallHistory {
  private readonly batchMs: number;
  private readonly onError: (err: unknown) => void;
  private readonly queue: Array<() => void> = [];
  /** Calls rows created in this batch, by id: answered/ended/status/recording of the same batch change them here. */
  private readonly unwritten = new Map<string, PendingCall>();
  /** call_events rows of this batch, four values each, written after the batch's calls rows, several per statement. */
  private pendingEvents: unknown[] = [];
  private readonly pacer: WritePacer | undefined;
  /** One transaction for a batch, made once (better-sqlite3 builds a wrapper per transaction() call). */
  private readonly writeBatch: (ops: Array<() => void>, events: unknown[]) => void;
  private readonly st: {
    create: Statement;
    events: Statement;
    answered: Statement;
    status: Statement;
    ended: Statement;
    recording: Statement;
    event: Statement;
    path: Statement;
  };

  constructor(
    private readonly db: Database,
    opts: CallHistoryOptions = {},
  ) {
    this.batchMs = opts.batchMs ?? 0;
    this.onError = opts.onError ?? (() => undefined);
    this.pacer =
      this.batchMs > 0
        ? new WritePacer(opts.clock ?? new SystemClock(), { maxIntervalMs: this.batchMs, minIntervalMs: opts.minBatchMs ?? 0 }, () => {
            try {
              this.flush();
            } catch (err) {
              this.onError(err); // a timer must never throw: the process would die
            }
          })
        : undefined;
    this.st = {
      create: db.prepare(
        'INSERT INTO calls (id, direction, caller, callee, number_id, started_at, status, answered_at, answered_by, ended_at, cause, recording) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      events: db.prepare(`INSERT INTO call_events (call_id, at, type, data) VALUES ${Array(EVENTS_PER_INSERT).fill('(?, ?, ?, ?)').join(', ')}`),
      answered: db.prepare("UPDATE calls SET status = 'answered', answered_at = ?, answered_by = ?, callee = coalesce(?, callee) WHERE id = ?"),
      status: db.prepare('UPDATE calls SET status = ? WHERE id = ?'),
      ended: db.prepare("UPDATE calls SET status = 'ended', ended_at = ?, cause = ? WHERE id = ? AND ended_at IS NULL"),
      recording: db.prepare('UPDATE calls SET recording = ? WHERE id = ?'),
      event: db.prepare('INSERT INTO call_events (call_id, at, type, data) VALUES (?, ?, ?, ?)'),
      path: db.prepare('UPDATE calls SET path = ?, variables = ? WHERE id = ?'),
    };
    this.writeBatch = db.transaction((ops: Array<() => void>, events: unknown[]) => this.writeOps(ops, events));
  }

  private write(op: () => void): void {
    if (this.batchMs <= 0) {
      op();
      return;
    }
    this.queue.push(op);
    this.schedule();
  }

  private schedule(): void {
    this.pacer?.changed();
  }

  /** Writes everything queued, in one transaction (reads and shutdown call it). */
  flush(): void {
    if ((this.queue.length === 0 && this.pendingEvents.length === 0) || !this.db.open) {
      this.pacer?.cancel();
      return;
    }
    const ops = this.queue.splice(0);
    const events = this.pendingEvents;
    this.pendingEvents = [];
    if (this.pacer) this.pacer.write(() => this.writeBatch(ops, events));
    else this.writeBatch(ops, events);
  }

  private writeOps(ops: Array<() => void>, events: unknown[]): void {
    for (const op of ops) {
      // A failed statement (a constraint) leaves the transaction open: one bad row must not lose the batch.
      try {
        op();
      } catch (err) {
        this.onError(err);
      }
    }
    // After the calls rows they belong to. A chunk that fails (an event of a call whose row could not be written)
    // is written again row by row, so that only the bad row is lost.
    const chunk = EVENTS_PER_INSERT * 4;
    let i = 0;
    for (; i + chunk <= events.length; i += chunk) {
      try {
        this.st.events.run(events.slice(i, i + chunk));
      } catch {
        this.eventsOneByOne(events, i, i + chunk);
      }
    }
    this.eventsOneByOne(events, i, events.length);
  }

  private eventsOneByOne(events: unknown[], from: number, to: number): void {
    for (let j = from; j < to; j += 4) {
      try {
        this.st.event.run(events[j], events[j + 1], events[j + 2], events[j + 3]);
      } catch (err) {
        this.onError(err);
      }
    }
  }

  /** Writes the calls row and call_events timeline of every call from call control's typed observer. */
  follow(observer: TypedEmitter<CallEvents>, clock: { now(): number }): void {
    // A row that cannot be written is reported, never thrown into call control (the emitter would rethrow it).
    const on = <K extends keyof CallEvents & string>(event: K, fn: (...args: CallEvents[K]) => void): void => {
      observer.on(event, (...args: CallEvents[K]) => {
        try {
          fn(...args);
        } catch (err) {
          this.onError(err);
        }
      });
    };
    on('call.started', (c, d) => {
      this.create({ id: c.id, direction: c.direction, caller: c.caller.number, callee: c.callee.number, startedAt: c.startedAt, numberId: c.numberId ?? null });
      this.event(c.id, c.startedAt, 'call.started', { dialled: d.dialled, sipCallId: d.sipCallId });
    });
    on('call.ringing', (c) => this.event(c.id, clock.now(), 'call.ringing', {}));
    on('call.answered', (c, d) => {
      const at = c.answeredAt ?? clock.now();
      this.answered(c.id, at, d.by.userId ?? null, d.by.number);
      this.event(c.id, at, 'call.answered', { by: d.by.number });
    });
    on('call.hangup', (c) => {
      const at = c.endedAt ?? clock.now();
      this.ended(c.id, at, c.cause ?? 'unknown');
      this.event(c.id, at, 'call.ended', { cause: c.cause ?? 'unknown' });
    });
    on('call.hold', (c, h) => this.event(c.id, clock.now(), h.on ? 'call.hold' : 'call.resume', { party: h.party }));
    on('call.transferred', (c, t) => this.event(c.id, clock.now(), 'call.transferred', { kind: t.kind, from: t.from, to: t.to }));
    // Digits keyed during a bridged call (bank PINs, card numbers through the trunk) are not history: call.dtmf is
    // never written. A scenario that asks for digits (detect_dtmf, collect_digits) keeps what it asked for itself.
    on('call.recording', (c, r) => {
      this.setRecording(c.id, r.file);
      // The file is in calls.recording (downloaded through the API); events carry no file paths.
      this.event(c.id, clock.now(), 'call.recording', {});
    });
  }

  create(c: { id: string; direction: CallDirection; caller: string; callee: string; startedAt: number; numberId?: number | null }): void {
    const row: PendingCall = {
      id: c.id,
      direction: c.direction,
      caller: c.caller,
      callee: c.callee,
      numberId: c.numberId ?? null,
      startedAt: c.startedAt,
      status: 'ringing',
      answeredAt: null,
      answeredBy: null,
      endedAt: null,
      cause: null,
      recording: null,
    };
    if (this.batchMs > 0) this.unwritten.set(c.id, row);
    this.write(() => {
      this.unwritten.delete(row.id);
      this.st.create.run(row.id, row.direction, row.caller, row.callee, row.numberId, row.startedAt, row.status, row.answeredAt, row.answeredBy, row.endedAt, row.cause, row.recording);
    });
  }

  /** Answered by `answeredBy` (a user, or null); `callee` names who answered when it is not who was dialled (a number's user). */
  answered(id: string, at: number, answeredBy: number | null, callee?: string): void {
    const u = this.unwritten.get(id);
    if (u) {
      u.status = 'answered';
      u.answeredAt = at;
      u.answeredBy = answeredBy;
      if (callee !== undefined) u.callee = callee;
      return;
    }
    this.write(() => this.st.answered.run(at, answeredBy, callee ?? null, id));
  }

  setStatus(id: string, status: CallStatus): void {
    const u = this.unwritten.get(id);
    if (u) {
      u.status = status;
      return;
    }
    this.write(() => this.st.status.run(status, id));
  }

  ended(id: string, at: number, cause: string): void {
    const u = this.unwritten.get(id);
    if (u) {
      if (u.endedAt === null) {
        u.status = 'ended';
        u.endedAt = at;
        u.cause = cause;
      }
      return;
    }
    this.write(() => this.st.ended.run(at, cause, id));
  }

  setRecording(id: string, file: string): void {
    const u = this.unwritten.get(id);
    if (u) {
      u.recording = file;
      return;
    }
    this.write(() => this.st.recording.run(file, id));
  }

  event(callId: string, at: number, type: string, data: Record<string, unknown> = {}): void {
    const json = JSON.stringify(data);
    if (this.batchMs <= 0) {
      this.st.event.run(callId, at, type, json);
      return;
    }
    this.pendingEvents.push(callId, at, type, json);
    this.schedule();
  }

  /**
   * Calls a crash left open (no end: still ringing, answered or in voicemail when the process died) are ended at `at`
   * with `cause` ('restart') and a call.ended event saying so. Run at start, before any new call. Returns their ids.
   */
  closeInterrupted(at: number, cause: string): string[] {
    this.flush();
    return this.db.transaction(() => {
      const open = this.db.prepare('SELECT id FROM calls WHERE ended_at IS NULL').all() as { id: string }[];
      const end = this.db.prepare("UPDATE calls SET status = 'ended', ended_at = max(?, started_at, coalesce(answered_at, 0)), cause = ? WHERE id = ?");
      const data = JSON.stringify({ cause, interrupted: true });
      for (const r of open) {
        end.run(at, cause, r.id);
        this.st.event.run(r.id, at, 'call.ended', data);
      }
      return open.map((r) => r.id);
    })();
  }

  /** The steps an inbound call took through its number's scenario, and what the caller keyed in (call inbox). */
  setPath(id: string, steps: readonly object[], variables: Record<string, string>): void {
    const p = JSON.stringify(steps);
    const v = JSON.stringify(variables);
    this.write(() => this.st.path.run(p, v, id));
  }

  /** The call's path and collected digits; undefined when it ran no scenario. */
  path(id: string): { path: Record<string, unknown>[]; variables: Record<string, string> } | undefined {
    this.flush();
    const r = this.db.prepare('SELECT path, variables FROM calls WHERE id = ?').get(id) as { path: string | null; variables: string | null } | undefined;
    if (!r?.path) return undefined;
    return { path: JSON.parse(r.path) as Record<string, unknown>[], variables: r.variables ? (JSON.parse(r.variables) as Record<string, string>) : {} };
  }

  /** When each user last answered a call (the ring engine's longest idle survives a restart). */
  lastAnsweredByUser(): Map<number, number> {
    this.flush();
    const rows = this.db.prepare('SELECT answered_by AS u, max(answered_at) AS at FROM calls WHERE answered_by IS NOT NULL AND answered_at IS NOT NULL GROUP BY answered_by').all() as {
      u: number;
      at: number;
    }[];
    return new Map(rows.map((r) => [r.u, r.at]));
  }

  get(id: string): CallRecord | undefined {
    this.flush();
    const r = this.db.prepare('SELECT * FROM calls WHERE id = ?').get(id) as CallRow | undefined;
    return r ? toRecord(r) : undefined;
  }

  /**
   * Most recent first. `before` pages back: a time (ms, exclusive), or a call id (the calls listed after it, exact
   * even when several calls started in the same millisecond).
   */
  list(limit = 100, before?: number | string): CallRecord[] {
    this.flush();
    const rows =
      before === undefined
        ? this.db.prepare('SELECT * FROM calls ORDER BY started_at DESC, rowid DESC LIMIT ?').all(limit)
        : typeof before === 'number'
        ? this.db.prepare('SELECT * FROM calls WHERE started_at < ? ORDER BY started_at DESC, rowid DESC LIMIT ?').all(before, limit)
        : this.db
            .prepare(
              'SELECT * FROM calls WHERE (started_at, rowid) < (SELECT started_at, rowid FROM calls WHERE id = ?) ORDER BY started_at DESC, rowid DESC LIMIT ?',
            )
            .all(before, limit);
    return (rows as CallRow[]).map(toRecord);
  }

  events(callId: string): CallEventRecord[] {
    this.flush();
    const rows = this.db.prepare('SELECT id, call_id, at, type, data FROM call_events WHERE call_id = ? ORDER BY id').all(callId) as {
      id: number;
      call_id: string;
      at: number;
      type: string;
      data: string;
    }[];
    return rows.map((r) => ({ id: r.id, callId: r.call_id, at: r.at, type: r.type, data: JSON.parse(r.data) as Record<string, unknown> }));
  }
}

export interface VoicemailRecord {
  id: number;
  extensionId: number | null;
  /** A number's own mailbox (schema: voicemails.number_id), when the message was not left for an extension. */
  numberId: number | null;
  callId: string | null;
  caller: string;
  /** Relative to the data dir. */
  file: string;
  durationMs: number;
  isNew: boolean;
  createdAt: number;
}

interface VoicemailRow {
  id: number;
  extension_id: number | null;
  number_id: number | null;
  call_id: string | null;
  caller: string;
  file: string;
  duration_ms: number;
  is_new: number;
  created_at: number;
}

export class VoicemailRepository {
  constructor(private readonly db: Database) {}

  add(v: { extensionId: number; callId: string | null; caller: string; file: string; durationMs: number; createdAt: number }): VoicemailRecord {
    const r = this.db
      .prepare('INSERT INTO voicemails (extension_id, call_id, caller, file, duration_ms, is_new, created_at) VALUES (?, ?, ?, ?, ?, 1, ?)')
      .run(v.extensionId, v.callId, v.caller, v.file, v.durationMs, v.createdAt);
    return this.get(Number(r.lastInsertRowid))!;
  }

  /** A message left in an inbound number's own mailbox (a scenario's voicemail without a mailbox). */
  addToNumber(v: { numberId: number; callId: string | null; caller: string; file: string; durationMs: number; createdAt: number }): VoicemailRecord {
    const r = this.db
      .prepare('INSERT INTO voicemails (number_id, call_id, caller, file, duration_ms, is_new, created_at) VALUES (?, ?, ?, ?, ?, 1, ?)')
      .run(v.numberId, v.callId, v.caller, v.file, v.durationMs, v.createdAt);
    return this.get(Number(r.lastInsertRowid))!;
  }

  get(id: number): VoicemailRecord | undefined {
    const r = this.db.prepare('SELECT * FROM voicemails WHERE id = ?').get(id) as VoicemailRow | undefined;
    return r ? toVoicemail(r) : undefined;
  }

  /** Oldest first (the order a mailbox plays them). */
  list(extensionId: number, opts: { onlyNew?: boolean } = {}): VoicemailRecord[] {
    const sql = `SELECT * FROM voicemails WHERE extension_id = ?${opts.onlyNew ? ' AND is_new = 1' : ''} ORDER BY created_at, id`;
    return (this.db.prepare(sql).all(extensionId) as VoicemailRow[]).map(toVoicemail);
  }

  /** A number's mailbox, oldest first. */
  listByNumber(numberId: number, opts: { onlyNew?: boolean } = {}): VoicemailRecord[] {
    const sql = `SELECT * FROM voicemails WHERE number_id = ?${opts.onlyNew ? ' AND is_new = 1' : ''} ORDER BY created_at, id`;
    return (this.db.prepare(sql).all(numberId) as VoicemailRow[]).map(toVoicemail);
  }

  markOld(id: number): void {
    this.db.prepare('UPDATE voicemails SET is_new = 0 WHERE id = ?').run(id);
  }

  /** Back to new (a message marked heard by mistake). */
  markNew(id: number): void {
    this.db.prepare('UPDATE voicemails SET is_new = 1 WHERE id = ?').run(id);
  }

  remove(id: number): VoicemailRecord | undefined {
    const v = this.get(id);
    this.db.prepare('DELETE FROM voicemails WHERE id = ?').run(id);
    return v;
  }

  counts(extensionId: number): { newMessages: number; oldMessages: number } {
    const r = this.db
      .prepare('SELECT sum(is_new = 1) AS n, sum(is_new = 0) AS o FROM voicemails WHERE extension_id = ?')
      .get(extensionId) as { n: number | null; o: number | null };
    return { newMessages: r.n ?? 0, oldMessages: r.o ?? 0 };
  }
}

function toVoicemail(r: VoicemailRow): VoicemailRecord {
  return {
    id: r.id,
    extensionId: r.extension_id,
    numberId: r.number_id,
    callId: r.call_id,
    caller: r.caller,
    file: r.file,
    durationMs: r.duration_ms,
    isNew: r.is_new === 1,
    createdAt: r.created_at,
  };
}
