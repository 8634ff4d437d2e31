// The audit log: one row per change made through the API (who, what, when, from where), newest first, bounded.
import type { Database } from 'better-sqlite3';
import type { Clock } from '../shared/index.js';

export interface AuditEntry {
  id: number;
  at: number;
  userId: number | null;
  username: string | null;
  /** The client address. */
  source: string;
  /** e.g. "POST /api/users" or a named action such as "session.login". */
  action: string;
  /** The resource family, e.g. "users", "extensions", "settings". */
  resource: string;
  /** The id or name of the thing changed, when there is one. */
  target: string | null;
  /** HTTP status of the answer. */
  status: number;
  /** What changed (field names and non-secret values). */
  detail: Record<string, unknown>;
}

export type AuditInput = Omit<AuditEntry, 'id' | 'at'>;

interface AuditRow {
  id: number;
  at: number;
  user_id: number | null;
  username: string | null;
  source: string;
  action: string;
  resource: string;
  target: string | null;
  status: number;
  detail: string;
}

export interface AuditQuery {
  limit: number;
  /** Entries with a smaller id (the next page). */
  before?: number | undefined;
  userId?: number | undefined;
  resource?: string | undefined;
}

function toEntry(r: AuditRow): AuditEntry {
  return {
    id: r.id,
    at: r.at,
    userId: r.user_id,
    username: r.username,
    source: r.source,
    action: r.action,
    resource: r.resource,
    target: r.target,
    status: r.status,
    detail: JSON.parse(r.detail) as Record<string, unknown>,
  };
}

/** Field names whose values never reach the log. */
const SECRET_FIELD = /password|secret|token|pin|hash/i;

/** A body summarised for the log: secrets replaced, long strings cut, nesting kept shallow. */
export function redact(value: unknown, depth = 0): unknown {
  if (value === null || typeof value !== 'object') return typeof value === 'string' && value.length > 200 ? `${value.slice(0, 200)}…` : value;
  if (depth > 3) return '…';
  if (Array.isArray(value)) return value.slice(0, 50).map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = SECRET_FIELD.test(k) ? '***' : redact(v, depth + 1);
  return out;
}

export class AuditLog {
  /** Rows kept at most; the oldest go first (a box writes a few hundred a day). */
  readonly maxRows: number;
  private inserts = 0;

  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    opts: { maxRows?: number } = {},
  ) {
    this.maxRows = opts.maxRows ?? 100_000;
  }

  record(e: AuditInput): AuditEntry {
    const at = this.clock.now();
    const info = this.db
      .prepare('INSERT INTO audit_log (at, user_id, username, source, action, resource, target, status, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
      .run(at, e.userId, e.username, e.source, e.action, e.resource, e.target, e.status, JSON.stringify(redact(e.detail)));
    if (++this.inserts % 1000 === 0) this.trim();
    return { ...e, detail: redact(e.detail) as Record<string, unknown>, id: Number(info.lastInsertRowid), at };
  }

  list(q: AuditQuery): AuditEntry[] {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (q.before !== undefined) {
      where.push('id < ?');
      args.push(q.before);
    }
    if (q.userId !== undefined) {
      where.push('user_id = ?');
      args.push(q.userId);
    }
    if (q.resource !== undefined) {
      where.push('resource = ?');
      args.push(q.resource);
    }
    const sql = `SELECT * FROM audit_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`;
    return (this.db.prepare(sql).all(...args, q.limit) as AuditRow[]).map(toEntry);
  }

  /** Deletes the oldest rows beyond maxRows. */
  trim(): void {
    this.db.prepare('DELETE FROM audit_log WHERE id <= (SELECT max(id) FROM audit_log) - ?').run(this.maxRows);
  }
}
