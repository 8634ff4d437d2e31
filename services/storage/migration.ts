// The shape of one schema migration: a file services/storage/migrations/<yyyymmddhhmm>-<name>.ts.
import type { Database } from 'better-sqlite3';

export interface Migration {
  /** yyyymmddhhmm, sorts in application order. */
  readonly version: string;
  readonly name: string;
  up(db: Database): void;
}
