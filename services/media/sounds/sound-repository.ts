// The sounds table (metadata of imported sounds): owned here until services/directory provides a repository for it.
import type { Database } from '../../storage/index.js';

export type SoundKind = 'prompt' | 'moh' | 'system';
export const SOUND_KINDS: readonly SoundKind[] = ['prompt', 'moh', 'system'];

export interface Sound {
  id: number;
  name: string;
  /** File name relative to <dataDir>/sounds/. */
  file: string;
  kind: SoundKind;
  language: string | null;
  durationMs: number;
  createdAt: number;
}

interface SoundRow {
  id: number;
  name: string;
  file: string;
  kind: SoundKind;
  language: string | null;
  duration_ms: number;
  created_at: number;
}

function fromRow(r: SoundRow): Sound {
  return { id: r.id, name: r.name, file: r.file, kind: r.kind, language: r.language, durationMs: r.duration_ms, createdAt: r.created_at };
}

export class SoundRepository {
  constructor(private readonly db: Database) {}

  findByName(name: string): Sound | undefined {
    const r = this.db.prepare('SELECT * FROM sounds WHERE name = ?').get(name) as SoundRow | undefined;
    return r ? fromRow(r) : undefined;
  }

  findById(id: number): Sound | undefined {
    const r = this.db.prepare('SELECT * FROM sounds WHERE id = ?').get(id) as SoundRow | undefined;
    return r ? fromRow(r) : undefined;
  }

  list(): Sound[] {
    return (this.db.prepare('SELECT * FROM sounds ORDER BY name').all() as SoundRow[]).map(fromRow);
  }

  /** Inserts or replaces the row for `name` (a re-import replaces the sound, keeping its id and references). */
  upsert(s: Omit<Sound, 'id'>): Sound {
    this.db
      .prepare(
        `INSERT INTO sounds (name, file, kind, language, duration_ms, created_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT(name) DO UPDATE SET file = excluded.file, kind = excluded.kind, language = excluded.language,
           duration_ms = excluded.duration_ms, created_at = excluded.created_at`,
      )
      .run(s.name, s.file, s.kind, s.language, s.durationMs, s.createdAt);
    return this.findByName(s.name)!;
  }

  remove(name: string): boolean {
    return this.db.prepare('DELETE FROM sounds WHERE name = ?').run(name).changes > 0;
  }
}
