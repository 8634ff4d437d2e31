// Opens the SQLite store (WAL, foreign keys, busy timeout) and applies pending migrations in one transaction.
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
}

export class Store {
  readonly db: Database;

  private constructor(db: Database, readonly file: string) {
    this.db = db;
  }

  static open(file: string, opts: OpenStoreOptions = {}): Store {
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
      if (!opts.readonly) store.migrate(opts.migrations ?? MIGRATIONS, opts.clock);
      return store;
    } catch (err) {
      db.close();
      throw err;
    }
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
      const done = new Set(
        (this.db.prepare('SELECT version FROM schema_migrations').all() as { version: string }[]).map((r) => r.version),
      );
      for (const m of [...migrations].sort((a, b) => a.version.localeCompare(b.version))) {
        if (done.has(m.version)) continue;
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
