// The firmware_updates table: what was installed on this box, into which slot, and how it ended.
import type { Database } from 'better-sqlite3';

export type UpdateOutcome = 'installing' | 'installed' | 'failed' | 'confirmed' | 'rolled-back';

export interface UpdateRecord {
  id: number;
  version: string;
  compatible: string;
  slot: string | null;
  state: UpdateOutcome;
  message: string;
  startedAt: number;
  finishedAt: number | null;
}

export class UpdateHistory {
  constructor(private readonly db: Database) {}

  started(version: string, compatible: string, at: number): number {
    return Number(this.db.prepare("INSERT INTO firmware_updates (version, compatible, state, started_at) VALUES (?, ?, 'installing', ?)").run(version, compatible, at).lastInsertRowid);
  }

  /** The outcome of the latest update of this version (installed, failed, confirmed, rolled-back). */
  finished(version: string, state: Exclude<UpdateOutcome, 'installing'>, at: number, opts: { slot?: string; message?: string } = {}): void {
    const row = this.db.prepare('SELECT id FROM firmware_updates WHERE version = ? ORDER BY id DESC LIMIT 1').get(version) as { id: number } | undefined;
    if (!row) return;
    this.db
      .prepare('UPDATE firmware_updates SET state = ?, slot = coalesce(?, slot), message = ?, finished_at = ? WHERE id = ?')
      .run(state, opts.slot ?? null, opts.message ?? '', state === 'installed' ? null : at, row.id);
  }

  recent(limit = 20): UpdateRecord[] {
    return (
      this.db.prepare('SELECT id, version, compatible, slot, state, message, started_at AS startedAt, finished_at AS finishedAt FROM firmware_updates ORDER BY id DESC LIMIT ?').all(limit) as UpdateRecord[]
    );
  }
}
