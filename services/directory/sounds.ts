// Sound metadata (the audio files themselves live in the data dir's sounds/, managed by the media module).
import { prepared } from './prepared.js';
import { TableRepository } from './table-repository.js';
import type { Database } from '../storage/index.js';
import { RelaisError } from '../shared/index.js';
import { validateActions } from './scenario-model.js';

export type SoundKind = 'prompt' | 'moh' | 'system';
export const SOUND_KINDS: readonly SoundKind[] = ['prompt', 'moh', 'system'];

export interface Sound {
  id: number;
  name: string;
  /** File name relative to the data dir's sounds/ directory. */
  file: string;
  kind: SoundKind;
  language: string | null;
  durationMs: number;
  createdAt: number;
}

export type SoundInput = Partial<Omit<Sound, 'id' | 'name' | 'file' | 'createdAt'>> & { name: string; file: string };

interface Row {
  id: number;
  name: string;
  file: string;
  kind: SoundKind;
  language: string | null;
  duration_ms: number;
  created_at: number;
}

function toSound(r: Row): Sound {
  return { id: r.id, name: r.name, file: r.file, kind: r.kind, language: r.language, durationMs: r.duration_ms, createdAt: r.created_at };
}

/** A file name inside sounds/: no directory escapes, no absolute paths. */
export const SOUND_FILE_RE = /^(?!.*\.\.)[A-Za-z0-9_][A-Za-z0-9_./-]{0,200}$/;

export class SoundRepository extends TableRepository<Row, Sound> {
  constructor(db: Database, private readonly now: () => number = Date.now) {
    super(db, { table: 'sounds', what: 'sound' });
  }

  protected toEntity(r: Row): Sound {
    return toSound(r);
  }




  /** The site's first sound of a kind (music on hold: the one calls play when a party holds). */
  firstOfKind(kind: SoundKind): Sound | undefined {
    const r = prepared(this.db, 'SELECT * FROM sounds WHERE kind = ? ORDER BY id LIMIT 1').get(kind) as Row | undefined;
    return r ? toSound(r) : undefined;
  }

  findByName(name: string): Sound | undefined {
    return this.findOne('name', name);
  }

  private check(s: Omit<Sound, 'id' | 'createdAt'>): void {
    if (!s.name.trim()) throw new RelaisError('sound.name_missing', 'a sound needs a name', { field: 'name' });
    if (!SOUND_FILE_RE.test(s.file)) throw new RelaisError('sound.file_invalid', `file "${s.file}" must be a plain file name inside sounds/`, { field: 'file' });
    if (!SOUND_KINDS.includes(s.kind)) throw new RelaisError('sound.kind_invalid', `kind "${s.kind}" is not one of ${SOUND_KINDS.join(', ')}`, { field: 'kind' });
  }

  create(input: SoundInput): Sound {
    const s = { name: input.name, file: input.file, kind: input.kind ?? 'prompt', language: input.language ?? null, durationMs: input.durationMs ?? 0 };
    this.check(s);
    if (this.findByName(s.name)) throw new RelaisError('sound.exists', `sound "${s.name}" already exists`, { field: 'name', status: 409 });
    const info = prepared(this.db, 'INSERT INTO sounds (name, file, kind, language, duration_ms, created_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(s.name, s.file, s.kind, s.language, s.durationMs, this.now());
    return this.require(Number(info.lastInsertRowid));
  }

  /** What still plays this sound (numbers, queues, scenarios), named for a person; empty when it can go. */
  usedBy(sound: Sound): string[] {
    const uses: string[] = [];
    for (const r of prepared(this.db, 'SELECT did FROM numbers WHERE welcome_sound_id = ?').all(sound.id) as { did: string }[]) uses.push(`number ${r.did} (welcome)`);
    const queues = prepared(this.db, 'SELECT name, timeout_sound_id AS t, moh_sound_id AS m FROM queues WHERE timeout_sound_id = ? OR moh_sound_id = ?').all(sound.id, sound.id) as { name: string; t: number | null; m: number | null }[];
    for (const q of queues) uses.push(`queue ${q.name} (${q.m === sound.id ? 'music on hold' : 'timeout'})`);
    // "message" actions (a sound, then hang up) name the sound inside JSON columns.
    const says = (json: string | null): boolean => {
      try {
        const a = json === null ? null : (JSON.parse(json) as { sound?: unknown } | null);
        return a !== null && typeof a === 'object' && a.sound === sound.name;
      } catch {
        return false;
      }
    };
    for (const n of prepared(this.db, 'SELECT did, offline_action AS o, unavailable_action AS u FROM numbers').all() as { did: string; o: string; u: string }[]) {
      if (says(n.o)) uses.push(`number ${n.did} (offline message)`);
      if (says(n.u)) uses.push(`number ${n.did} (unavailable message)`);
    }
    for (const q of prepared(this.db, 'SELECT name, closure_action AS c FROM queues').all() as { name: string; c: string | null }[]) {
      if (says(q.c)) uses.push(`queue ${q.name} (closure message)`);
    }
    // Scenarios name sounds inside their action lists (JSON), not by foreign key.
    for (const sc of prepared(this.db, 'SELECT name, actions FROM scenarios').all() as { name: string; actions: string }[]) {
      try {
        if (validateActions(JSON.parse(sc.actions)).refs.sounds.some((r) => r.name === sound.name)) uses.push(`scenario ${sc.name}`);
      } catch {
        /* an unreadable action list refers to nothing we can name */
      }
    }
    return uses;
  }

  update(id: number, patch: Partial<Omit<Sound, 'id' | 'createdAt'>>): Sound {
    const s = { ...this.require(id), ...patch };
    this.check(s);
    const other = this.findByName(s.name);
    if (other && other.id !== id) throw new RelaisError('sound.exists', `sound "${s.name}" already exists`, { field: 'name', status: 409 });
    prepared(this.db, 'UPDATE sounds SET name = ?, file = ?, kind = ?, language = ?, duration_ms = ? WHERE id = ?').run(s.name, s.file, s.kind, s.language, s.durationMs, id);
    return this.require(id);
  }

}
