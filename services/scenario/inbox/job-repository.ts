// Jobs: follow-up tickets (docs/product.md §7: title, caller, linked call, assignee, open/done, notes), often made from a call.
import type { Database } from 'better-sqlite3';
import { prepared } from '../../directory/prepared.js';
import { NotFoundError } from '../../shared/index.js';

export const JOB_STATUSES = ['open', 'done'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

export interface Job {
  id: number;
  title: string;
  caller: string;
  callId: string | null;
  assigneeId: number | null;
  status: JobStatus;
  notes: string;
  createdBy: number | null;
  createdAt: number;
  updatedAt: number;
}

export type JobInput = Pick<Job, 'title'> & Partial<Pick<Job, 'caller' | 'callId' | 'assigneeId' | 'status' | 'notes' | 'createdBy'>>;
export type JobPatch = Partial<Pick<Job, 'title' | 'caller' | 'assigneeId' | 'status' | 'notes'>>;

interface Row {
  id: number;
  title: string;
  caller: string;
  call_id: string | null;
  assignee_id: number | null;
  status: JobStatus;
  notes: string;
  created_by: number | null;
  created_at: number;
  updated_at: number;
}

const toJob = (r: Row): Job => ({
  id: r.id,
  title: r.title,
  caller: r.caller,
  callId: r.call_id,
  assigneeId: r.assignee_id,
  status: r.status,
  notes: r.notes,
  createdBy: r.created_by,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export class JobRepository {
  constructor(
    private readonly db: Database,
    private readonly now: () => number = Date.now,
  ) {}

  get(id: number): Job | undefined {
    const r = prepared(this.db, 'SELECT * FROM jobs WHERE id = ?').get(id) as Row | undefined;
    return r ? toJob(r) : undefined;
  }

  require(id: number): Job {
    const j = this.get(id);
    if (!j) throw new NotFoundError('job', id);
    return j;
  }

  list(opts: { status?: JobStatus; assigneeId?: number; callId?: string } = {}): Job[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (opts.status) (where.push('status = ?'), args.push(opts.status));
    if (opts.assigneeId !== undefined) (where.push('assignee_id = ?'), args.push(opts.assigneeId));
    if (opts.callId !== undefined) (where.push('call_id = ?'), args.push(opts.callId));
    const sql = `SELECT * FROM jobs ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC, id DESC`;
    return (prepared(this.db, sql).all(...args) as Row[]).map(toJob);
  }

  create(input: JobInput): Job {
    const at = this.now();
    const info = prepared(this.db, 'INSERT INTO jobs (title, caller, call_id, assignee_id, status, notes, created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)').run(
      input.title,
      input.caller ?? '',
      input.callId ?? null,
      input.assigneeId ?? null,
      input.status ?? 'open',
      input.notes ?? '',
      input.createdBy ?? null,
      at,
      at,
    );
    return this.require(Number(info.lastInsertRowid));
  }

  update(id: number, patch: JobPatch): Job {
    const j = { ...this.require(id), ...patch };
    prepared(this.db, 'UPDATE jobs SET title = ?, caller = ?, assignee_id = ?, status = ?, notes = ?, updated_at = ? WHERE id = ?').run(j.title, j.caller, j.assigneeId, j.status, j.notes, this.now(), id);
    return this.require(id);
  }

  delete(id: number): boolean {
    return prepared(this.db, 'DELETE FROM jobs WHERE id = ?').run(id).changes > 0;
  }
}
