// Prepared statements cached per database: compiling SQL on every call cost more than running it
// (a registrar lookup per REGISTER, thousands of rows per site import).
// Also the directory's read cache (docs/performance.md "Directory cache"): rows read by a unique key are kept until
// the next write. Every write statement handed out here drops the cache when it runs, and writes by another process
// (`relais import` on a running box) are noticed through SQLite's data_version, checked at most every 10 ms.
import type { Database, Statement } from 'better-sqlite3';

const caches = new WeakMap<Database, Map<string, Statement>>();

export function prepared(db: Database, sql: string): Statement {
  let cache = caches.get(db);
  if (!cache) {
    cache = new Map();
    caches.set(db, cache);
  }
  let stmt = cache.get(sql);
  if (!stmt) {
    stmt = db.prepare(sql);
    if (!stmt.reader) invalidateOnRun(db, stmt);
    cache.set(sql, stmt);
  }
  return stmt;
}

/** A write statement drops the read cache each time it runs (before it runs: nothing reads in between). */
function invalidateOnRun(db: Database, stmt: Statement): void {
  // run() and, for INSERT ... RETURNING, get()/all()/iterate().
  for (const method of ['run', 'get', 'all', 'iterate'] as const) {
    const original = stmt[method] as (...p: unknown[]) => unknown;
    const wrapped = function (this: Statement, ...params: unknown[]): unknown {
      readCache(db).invalidate();
      return original.apply(this, params);
    };
    Object.defineProperty(stmt, method, { value: wrapped, writable: true, configurable: true });
  }
}

/** Above this many keys the cache starts over (a guesser trying random names must not grow it without end). */
const MAX_ENTRIES = 20_000;
/** How often SQLite's data_version is asked whether another connection wrote (ms). */
const EXTERNAL_CHECK_MS = 10;
/** Sentinel for "no row" (cached too: unknown names are asked for again and again). */
const NONE = Symbol('none');

export class ReadCache {
  /**
   * Rows by statement, then by parameter (a number and its string differ as Map keys, as they do for SQLite). Keyed
   * by the SQL text itself rather than a string built per call: V8 keeps a string's hash, so a statement's constant
   * text is hashed once, where a built key was hashed (and flattened) on every lookup.
   */
  private readonly rows = new Map<string, Map<string | number, unknown>>();
  private readonly lists = new Map<string, Map<string | number, readonly unknown[]>>();
  private entries = 0;
  private readonly dataVersion: Statement;
  private version: number;
  private checkedAt = 0;
  hits = 0;
  misses = 0;
  invalidations = 0;

  constructor(private readonly db: Database) {
    this.dataVersion = db.prepare('PRAGMA data_version').pluck();
    this.version = this.dataVersion.get() as number;
  }

  invalidate(): void {
    this.clear();
    this.invalidations++;
  }

  private clear(): void {
    if (this.entries > 0) {
      this.rows.clear();
      this.lists.clear();
      this.entries = 0;
    }
  }

  /**
   * Drops the cache when another connection committed since the last check, at most one check per 10 ms: a PRAGMA
   * per millisecond was 1-2 % of the REGISTER path's time under load, and a write by another process (an import on a
   * running box) is still seen within 10 ms.
   */
  private checkExternal(): void {
    const now = performance.now();
    if (now - this.checkedAt < EXTERNAL_CHECK_MS) return;
    this.checkedAt = now;
    const v = this.dataVersion.get() as number;
    if (v !== this.version) {
      this.version = v;
      this.invalidate();
    }
  }

  /** Room for one more entry: above MAX_ENTRIES the cache starts over. */
  private admit(): void {
    if (this.entries >= MAX_ENTRIES) this.clear();
    this.entries++;
  }

  /**
   * `stmt.get(param)` through the cache. The row is SQLite's plain object of primitives: callers map it to an entity
   * and must not change it. Inside a transaction nothing is cached (a rollback would leave rows that never were).
   */
  get(sql: string, param: string | number): unknown {
    if (this.db.inTransaction) return prepared(this.db, sql).get(param);
    this.checkExternal();
    const hit = this.rows.get(sql)?.get(param);
    if (hit !== undefined) {
      this.hits++;
      return hit === NONE ? undefined : hit;
    }
    this.misses++;
    const row = prepared(this.db, sql).get(param);
    this.admit();
    let bySql = this.rows.get(sql);
    if (!bySql) this.rows.set(sql, (bySql = new Map()));
    bySql.set(param, row === undefined ? NONE : row);
    return row;
  }

  /** `stmt.all(param)` through the cache; the array is the cache's: callers copy before changing it. */
  all(sql: string, param: string | number): readonly unknown[] {
    if (this.db.inTransaction) return prepared(this.db, sql).all(param);
    this.checkExternal();
    const hit = this.lists.get(sql)?.get(param);
    if (hit !== undefined) {
      this.hits++;
      return hit;
    }
    this.misses++;
    const rows = prepared(this.db, sql).all(param);
    this.admit();
    let bySql = this.lists.get(sql);
    if (!bySql) this.lists.set(sql, (bySql = new Map()));
    bySql.set(param, rows);
    return rows;
  }

  size(): number {
    return this.entries;
  }
}

const readCaches = new WeakMap<Database, ReadCache>();

/** The read cache of a database (one per connection). */
export function readCache(db: Database): ReadCache {
  let c = readCaches.get(db);
  if (!c) {
    c = new ReadCache(db);
    readCaches.set(db, c);
  }
  return c;
}
