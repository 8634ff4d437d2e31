// Shared by the call interop tests: bounded polls, reads of Relais' database, audio assertions.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { analyseWav } from '../helpers/audio.js';

/** Bounded poll on an observable condition (a growing file, a database row); fails naming what it waited for. */
export async function until(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Rows of a read-only query on a running Relais' database. */
export function queryDb<T>(dataDir: string, sql: string, ...args: unknown[]): T[] {
  const db = new Database(path.join(dataDir, 'relais.db'), { readonly: true });
  try {
    return db.prepare(sql).all(...args) as T[];
  } finally {
    db.close();
  }
}

/**
 * The latest call started at or after `since` (ms), once its row says ended: history is written behind
 * (~50 ms), so the row of a call that just ended may not be there yet.
 */
export async function lastEndedCall<T extends { status: string }>(dataDir: string, since: number, columns: string): Promise<T> {
  let row: T | undefined;
  await until(() => {
    row = queryDb<T>(dataDir, `SELECT ${columns} FROM calls WHERE started_at >= ? ORDER BY started_at DESC, rowid DESC LIMIT 1`, since)[0];
    return row?.status === 'ended';
  }, 'the call row to say ended', 3000);
  return row!;
}

export function fileBytes(file: string | undefined): number {
  try {
    return file ? fs.statSync(file).size : 0;
  } catch {
    return 0;
  }
}

/** The received audio (after its first 0.5 s) is dominated by a tone of `hz`. */
export function assertHeardTone(file: string, hz: number, who: string): void {
  const a = analyseWav(file, { skipMs: 500, windowMs: 1500 });
  assert.ok(Math.abs(a.dominantHz - hz) <= 20 && a.dominantShare > 0.7, `${who} should hear ${hz} Hz: ${JSON.stringify(a)}`);
}
