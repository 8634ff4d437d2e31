// The inbox status of calls (docs/product.md §2: new, job, spam, closed, deleted), kept in calls.handling.
import type { Database } from 'better-sqlite3';
import { prepared } from '../../directory/prepared.js';
import { RelaisError } from '../../shared/index.js';

export const INBOX_STATUSES = ['new', 'job', 'spam', 'closed', 'deleted'] as const;
export type InboxStatus = (typeof INBOX_STATUSES)[number];

export interface InboxCall {
  id: string;
  caller: string;
  callee: string;
  numberId: number | null;
  startedAt: number;
  answeredAt: number | null;
  endedAt: number | null;
  service: string | null;
  status: InboxStatus;
}

interface Row {
  id: string;
  caller: string;
  callee: string;
  number_id: number | null;
  started_at: number;
  answered_at: number | null;
  ended_at: number | null;
  service: string | null;
  handling: string;
}

const toCall = (r: Row): InboxCall => ({
  id: r.id,
  caller: r.caller,
  callee: r.callee,
  numberId: r.number_id,
  startedAt: r.started_at,
  answeredAt: r.answered_at,
  endedAt: r.ended_at,
  service: r.service,
  status: (INBOX_STATUSES as readonly string[]).includes(r.handling) ? (r.handling as InboxStatus) : 'new',
});

export class InboxRepository {
  constructor(private readonly db: Database) {}

  get(callId: string): InboxCall | undefined {
    const r = prepared(this.db, 'SELECT id, caller, callee, number_id, started_at, answered_at, ended_at, service, handling FROM calls WHERE id = ?').get(callId) as Row | undefined;
    return r ? toCall(r) : undefined;
  }

  setStatus(callId: string, status: InboxStatus): InboxCall {
    if (!(INBOX_STATUSES as readonly string[]).includes(status)) {
      throw new RelaisError('inbox.status_invalid', `status "${String(status)}" is not one of ${INBOX_STATUSES.join(', ')}`, { field: 'status' });
    }
    if (prepared(this.db, 'UPDATE calls SET handling = ? WHERE id = ?').run(status, callId).changes === 0) {
      throw new RelaisError('call.not_found', `call ${callId} does not exist`, { status: 404 });
    }
    return this.get(callId)!;
  }

  /** Inbound calls with this status (all but deleted without one), newest first. */
  list(status: InboxStatus | undefined, limit: number, before?: number): InboxCall[] {
    const sql = `SELECT id, caller, callee, number_id, started_at, answered_at, ended_at, service, handling FROM calls
                 WHERE direction = 'inbound' AND ${status ? 'handling = ?' : "handling <> 'deleted'"} AND started_at < ?
                 ORDER BY started_at DESC, id DESC LIMIT ?`;
    const args: unknown[] = status ? [status] : [];
    args.push(before ?? Number.MAX_SAFE_INTEGER, limit);
    return (prepared(this.db, sql).all(...args) as Row[]).map(toCall);
  }
}
