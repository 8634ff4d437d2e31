// Opens the SQLite store (WAL, foreign keys, busy timeout) and applies pending migrations in one transaction; keeps a
// copy before a firmware's trial boot migrates, and goes back to it when that trial failed (docs/firmware.md,
// "Going back after a failed update").
import fs from 'node:fs';
import path from 'node:path';
import BetterSqlite3, { type Database } from 'better-sqlite3';
import { RelaisError, SystemClock, type Clock } from '../shared/index.js';
import type { Migration } from './migration.js';
import { MIGRATIONS } from './migrations/index.js';

export type { Database } from 'better-sqlite3';

export interface OpenStoreOptions {
  /** Defaults to every migration shipped; tests pass a prefix to build an older schema. */
  migrations?: readonly Migration[];
  readonly?: boolean;
  /** Time stamped on applied migrations (STYLE: injected clock); the system clock when absent. */
  clock?: Pick<Clock, 'now'>;
  /**
   * A firmware update's trial boot: before pending migrations change an existing database, a copy of it as it is
   * goes to `<file>.pre-update`. If it cannot be made, nothing is migrated (the open fails, and the trial is rolled
   * back to the firmware that reads the database as it is).
   */
  snapshotBeforeMigrating?: boolean;
  /**
   * The service's open: a database newer than this firmware, with a `<file>.pre-update` copy of exactly this
   * firmware's schema beside it (a newer firmware's trial migrated it and then failed), goes back to that copy; the
   * newer database is kept aside, never deleted.
   */
  goBackAfterFailedUpdate?: boolean;
}

/** The copy a trial boot keeps of the database before migrating it. */
export const PRE_UPDATE_SUFFIX = '.pre-update';
/** The copy while it is being put back in place (a power cut then is finished at the next open). */
const RESTORING_SUFFIX = '.restoring';

/** What an open did beyond opening, for the service's log and events. */
export interface StoreOpenNotes {
  /** The copy taken before migrating (a trial boot). */
  snapshot?: { file: string; schema: string; migrations: string[] };
  /** The database went back to the copy taken before a failed update; the newer one is kept at `keptAt`. */
  wentBack?: { newerSchema: string; schema: string; keptAt: string };
  /** A go-back that a power cut interrupted was finished. */
  resumedGoingBack?: boolean;
}

export class Store {
  readonly db: Database;

  private constructor(db: Database, readonly file: string) {
    this.db = db;
  }

  /** What this open did beyond opening (a copy taken, a failed update's changes set aside). */
  notes: StoreOpenNotes = {};

  static open(file: string, opts: OpenStoreOptions = {}): Store {
    const resumed = file !== ':memory:' && opts.goBackAfterFailedUpdate === true && finishGoingBack(file);
    if (file !== ':memory:') {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      // The database holds password hashes and SIP secrets: owner only, from its first byte (SQLite gives the WAL
      // and shared-memory files the database file's permissions).
      if (!opts.readonly) {
        fs.closeSync(fs.openSync(file, 'a', 0o600));
        for (const f of [file, `${file}-wal`, `${file}-shm`]) {
          try {
            if ((fs.statSync(f).mode & 0o077) !== 0) fs.chmodSync(f, 0o600);
          } catch {
            /* not there (yet) */
          }
        }
      }
    }
    const db = new BetterSqlite3(file, { readonly: opts.readonly ?? false });
    try {
      if (!opts.readonly) db.pragma('journal_mode = WAL');
      db.pragma('foreign_keys = ON');
      db.pragma('busy_timeout = 5000');
      db.pragma('synchronous = NORMAL');
      const store = new Store(db, file);
      if (resumed) store.notes.resumedGoingBack = true;
      if (!opts.readonly) {
        const migrations = opts.migrations ?? MIGRATIONS;
        if (opts.snapshotBeforeMigrating && file !== ':memory:') store.snapshotIfMigrating(migrations);
        store.migrate(migrations, opts.clock);
      }
      return store;
    } catch (err) {
      db.close();
      if (opts.goBackAfterFailedUpdate && file !== ':memory:' && err instanceof RelaisError && err.code === 'storage.schema_newer') {
        const wentBack = goBack(file, err);
        const store = Store.open(file, { ...opts, goBackAfterFailedUpdate: false });
        store.notes.wentBack = wentBack;
        return store;
      }
      throw err;
    }
  }

  /** Migrations of `migrations` not applied to this database yet. */
  private pending(migrations: readonly Migration[]): Migration[] {
    if (this.schemaVersion() === '') return [...migrations];
    const done = new Set((this.db.prepare('SELECT version FROM schema_migrations').all() as { version: string }[]).map((r) => r.version));
    return migrations.filter((m) => !done.has(m.version));
  }

  /** Before a trial boot's migrations: a consistent copy of the database as it is (VACUUM INTO), owner-only, synced. */
  private snapshotIfMigrating(migrations: readonly Migration[]): void {
    const schema = this.schemaVersion();
    const pending = this.pending(migrations);
    if (schema === '' || pending.length === 0) return; // a new database has nothing to keep; nothing changes
    const to = `${this.file}${PRE_UPDATE_SUFFIX}`;
    try {
      fs.rmSync(to, { force: true });
      // VACUUM INTO writes into an empty file: made first, so the copy of the secrets is never readable by others.
      fs.closeSync(fs.openSync(to, 'wx', 0o600));
      this.db.prepare('VACUUM INTO ?').run(to);
      const fd = fs.openSync(to, 'r+');
      try {
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
      syncDir(path.dirname(to));
    } catch (err) {
      try {
        fs.rmSync(to, { force: true });
      } catch {
        /* not a file: nothing of ours to remove */
      }
      throw new RelaisError(
        'storage.snapshot_failed',
        `could not keep a copy of the database before migrating it (${(err as Error).message}); nothing was migrated`,
        { cause: err },
      );
    }
    this.notes.snapshot = { file: to, schema, migrations: pending.map((m) => `${m.version}-${m.name}`) };
  }

  /** Highest applied migration version, or '' for an empty database. */
  schemaVersion(): string {
    const exists = this.db.prepare("SELECT 1 FROM sqlite_master WHERE type='table' AND name='schema_migrations'").get();
    if (!exists) return '';
    const row = this.db.prepare('SELECT max(version) AS v FROM schema_migrations').get() as { v: string | null };
    return row.v ?? '';
  }

  migrate(migrations: readonly Migration[], clock: Pick<Clock, 'now'> = new SystemClock()): string[] {
    const latestKnown = MIGRATIONS[MIGRATIONS.length - 1]!.version;
    const current = this.schemaVersion();
    if (current > latestKnown) {
      throw new RelaisError(
        'storage.schema_newer',
        `database schema ${current} is newer than this firmware knows (${latestKnown}); install newer firmware or restore an older backup`,
      );
    }
    const applied: string[] = [];
    const run = this.db.transaction(() => {
      this.db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
        version TEXT PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`);
      for (const m of this.pending(migrations).sort((a, b) => a.version.localeCompare(b.version))) {
        m.up(this.db);
        this.db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(m.version, m.name, clock.now());
        applied.push(`${m.version}-${m.name}`);
      }
    });
    run();
    return applied;
  }

  /** Runs fn inside one transaction: all or nothing. */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

function syncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    /* not every file system syncs a directory */
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

function schemaOf(file: string): string {
  const db = new BetterSqlite3(file, { readonly: true, fileMustExist: true });
  try {
    const ok = db.pragma('quick_check', { simple: true });
    if (ok !== 'ok') throw new Error(`quick_check: ${String(ok)}`);
    return (db.prepare('SELECT max(version) AS v FROM schema_migrations').get() as { v: string | null }).v ?? '';
  } finally {
    db.close();
  }
}

/**
 * A database newer than this firmware: when the copy a newer firmware's trial boot took before migrating is there and
 * holds exactly this firmware's schema, the newer database is set aside (`<file>.newer-<schema>[-n]/`) and the copy
 * takes its place. Otherwise `newer` is thrown as it is, with what was found. Every step is a rename; a power cut
 * between them is finished by finishGoingBack() at the next open.
 */
function goBack(file: string, newer: RelaisError): { newerSchema: string; schema: string; keptAt: string } {
  const copy = `${file}${PRE_UPDATE_SUFFIX}`;
  const latestKnown = MIGRATIONS[MIGRATIONS.length - 1]!.version;
  if (!fs.existsSync(copy)) throw newer;
  let copySchema: string;
  try {
    copySchema = schemaOf(copy);
  } catch (err) {
    throw new RelaisError('storage.schema_newer', `${newer.message}; the copy taken before the update (${copy}) cannot be read: ${(err as Error).message}`, { cause: err });
  }
  if (copySchema !== latestKnown) {
    throw new RelaisError('storage.schema_newer', `${newer.message}; the copy taken before the update (${copy}) holds schema ${copySchema}, not this firmware's ${latestKnown}`);
  }
  // The newer database as one file: its WAL checkpointed into it and removed, so no WAL is ever left beside the copy.
  const db = new BetterSqlite3(file, { fileMustExist: true });
  let newerSchema: string;
  try {
    db.pragma('journal_mode = DELETE');
    newerSchema = (db.prepare('SELECT max(version) AS v FROM schema_migrations').get() as { v: string | null }).v ?? '';
  } finally {
    db.close();
  }
  if (fs.existsSync(`${file}-wal`)) throw new RelaisError('storage.schema_newer', `${newer.message}; its write-ahead log could not be folded in, so it was left as it is`);
  fs.rmSync(`${file}-shm`, { force: true });
  let keptAt = `${file}.newer-${newerSchema}`;
  for (let n = 2; fs.existsSync(keptAt); n++) keptAt = `${file}.newer-${newerSchema}-${n}`;
  const dir = path.dirname(file);
  fs.renameSync(copy, `${file}${RESTORING_SUFFIX}`);
  fs.mkdirSync(keptAt, { mode: 0o700 });
  fs.renameSync(file, path.join(keptAt, path.basename(file)));
  fs.renameSync(`${file}${RESTORING_SUFFIX}`, file);
  syncDir(keptAt);
  syncDir(dir);
  return { newerSchema, schema: copySchema, keptAt };
}

/** A go-back cut short: the copy is put in place if the newer database was already set aside, else made a copy again. */
function finishGoingBack(file: string): boolean {
  const restoring = `${file}${RESTORING_SUFFIX}`;
  if (!fs.existsSync(restoring)) return false;
  fs.renameSync(restoring, fs.existsSync(file) ? `${file}${PRE_UPDATE_SUFFIX}` : file);
  syncDir(path.dirname(file));
  return true;
}
