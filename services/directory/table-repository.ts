// Reads and deletes shared by the directory's repositories: list, get, require, find by a unique column, delete.
import type { Database } from '../storage/index.js';
import { NotFoundError } from '../shared/index.js';
import { prepared, readCache } from './prepared.js';

export interface TableSpec {
  /** SQL table name (a constant, never user input). */
  table: string;
  /** What a row is, for "X 12 does not exist". */
  what: string;
  /** ORDER BY of list(); default id. */
  orderBy?: string;
}

export abstract class TableRepository<Row, T> {
  protected constructor(
    protected readonly db: Database,
    private readonly spec: TableSpec,
  ) {}

  protected abstract toEntity(row: Row): T;

  list(): T[] {
    return (prepared(this.db, `SELECT * FROM ${this.spec.table} ORDER BY ${this.spec.orderBy ?? 'id'}`).all() as Row[]).map((r) => this.toEntity(r));
  }

  get(id: number): T | undefined {
    return this.findOne('id', id);
  }

  require(id: number): T {
    const e = this.get(id);
    if (e === undefined) throw new NotFoundError(this.spec.what, id);
    return e;
  }

  delete(id: number): void {
    const info = prepared(this.db, `DELETE FROM ${this.spec.table} WHERE id = ?`).run(id);
    if (info.changes === 0) throw new NotFoundError(this.spec.what, id);
  }

  /** SELECT of findOne by column, built once: the read cache finds a constant string faster than a new one. */
  private readonly findSql = new Map<string, string>();

  /** The row whose (unique) column has this value (through the read cache: the REGISTER and call paths ask often). */
  protected findOne(column: string, value: string | number): T | undefined {
    let sql = this.findSql.get(column);
    if (sql === undefined) this.findSql.set(column, (sql = `SELECT * FROM ${this.spec.table} WHERE ${column} = ?`));
    const r = readCache(this.db).get(sql, value) as Row | undefined;
    return r === undefined ? undefined : this.toEntity(r);
  }
}
