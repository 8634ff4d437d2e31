// The copy a firmware's trial boot keeps before migrating, and the way back to it when that trial failed
// (services/storage/store.ts, docs/firmware.md "Going back after a failed update").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import BetterSqlite3, { type Database } from 'better-sqlite3';
import { Store, MIGRATIONS, PRE_UPDATE_SUFFIX } from '../../../services/storage/index.js';
import { RelaisError } from '../../../services/shared/index.js';
import { tempDir } from '../../helpers/relais-process.js';

const LATEST = MIGRATIONS[MIGRATIONS.length - 1]!.version;
/** What a newer firmware would ship: one migration past this firmware's last. */
const NEWER = { version: '299901010000', name: 'newer-firmware', up: (db: Database) => db.exec('CREATE TABLE newer_things (a INTEGER); ALTER TABLE settings ADD COLUMN newer TEXT') };

function setting(file: string, key: string): string | undefined {
  const db = new BetterSqlite3(file, { readonly: true, fileMustExist: true });
  try {
    return (db.prepare('SELECT value FROM settings WHERE key = ?').get(key) as { value: string } | undefined)?.value;
  } finally {
    db.close();
  }
}

function put(store: Store, key: string, value: string): void {
  store.db.prepare('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(key, value);
}

/** A box on this firmware with some data, then a newer firmware's trial boot that migrates it and writes more. */
function migratedByNewerTrial(): { dir: string; file: string } {
  const dir = tempDir('pre-update-');
  const file = path.join(dir, 'relais.db');
  const now = Store.open(file);
  put(now, 'office', 'before the update');
  now.close();
  const trial = Store.open(file, { migrations: [...MIGRATIONS, NEWER], snapshotBeforeMigrating: true });
  try {
    assert.deepEqual(trial.notes.snapshot, { file: `${file}${PRE_UPDATE_SUFFIX}`, schema: LATEST, migrations: ['299901010000-newer-firmware'] });
    put(trial, 'office', 'written by the newer firmware');
  } finally {
    trial.close();
  }
  return { dir, file };
}

test('a trial boot keeps an owner-only copy of the database as it was before its migrations', () => {
  const { file } = migratedByNewerTrial();
  const copy = `${file}${PRE_UPDATE_SUFFIX}`;
  assert.equal(fs.statSync(copy).mode & 0o777, 0o600, 'the copy holds secrets: owner only');
  assert.equal(setting(copy, 'office'), 'before the update');
  const db = new BetterSqlite3(copy, { readonly: true });
  try {
    assert.equal((db.prepare('SELECT max(version) AS v FROM schema_migrations').get() as { v: string }).v, LATEST);
    assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
  } finally {
    db.close();
  }
});

test('no copy on an ordinary open, on a new database, or when nothing is to be migrated', () => {
  const dir = tempDir('pre-update-');
  const file = path.join(dir, 'relais.db');
  const fresh = Store.open(file, { snapshotBeforeMigrating: true });
  assert.equal(fresh.notes.snapshot, undefined);
  fresh.close();
  const again = Store.open(file, { snapshotBeforeMigrating: true });
  assert.equal(again.notes.snapshot, undefined);
  again.close();
  assert.equal(fs.existsSync(`${file}${PRE_UPDATE_SUFFIX}`), false);
});

test('this firmware goes back to the copy when a newer firmware migrated the database and failed its trial; the newer database is kept aside', () => {
  const { dir, file } = migratedByNewerTrial();
  // Without the service's option the answer is still the refusal it always was.
  assert.throws(() => Store.open(file), (err: unknown) => err instanceof RelaisError && err.code === 'storage.schema_newer');
  const store = Store.open(file, { goBackAfterFailedUpdate: true });
  try {
    assert.equal(store.schemaVersion(), LATEST);
    assert.equal(store.db.prepare("SELECT value FROM settings WHERE key = 'office'").pluck().get(), 'before the update');
    assert.equal(store.db.pragma('journal_mode', { simple: true }), 'wal');
    const wentBack = store.notes.wentBack!;
    assert.equal(wentBack.newerSchema, '299901010000');
    assert.equal(wentBack.schema, LATEST);
    assert.equal(wentBack.keptAt, `${file}.newer-299901010000`);
    assert.equal(fs.statSync(wentBack.keptAt).mode & 0o777, 0o700);
    // Nothing of the newer firmware's is lost: its database, WAL folded in, is kept for a technician.
    assert.equal(setting(path.join(wentBack.keptAt, 'relais.db'), 'office'), 'written by the newer firmware');
    assert.equal(fs.existsSync(path.join(wentBack.keptAt, 'relais.db-wal')), false);
    assert.equal(fs.existsSync(`${file}${PRE_UPDATE_SUFFIX}`), false, 'the copy is now the database');
  } finally {
    store.close();
  }
  assert.deepEqual(fs.readdirSync(dir).filter((f) => f.includes('.restoring')), []);
});

test('without a copy, or with a copy of another schema, a newer database is refused as before and left untouched', () => {
  const { file } = migratedByNewerTrial();
  const copy = `${file}${PRE_UPDATE_SUFFIX}`;
  fs.renameSync(copy, `${copy}.away`);
  assert.throws(() => Store.open(file, { goBackAfterFailedUpdate: true }), (err: unknown) => err instanceof RelaisError && err.code === 'storage.schema_newer' && !err.message.includes('copy'));
  // A copy made by an older firmware (its schema is not this firmware's last) is not taken.
  const older = new BetterSqlite3(`${copy}.away`);
  older.prepare('DELETE FROM schema_migrations WHERE version = ?').run(LATEST);
  older.close();
  fs.renameSync(`${copy}.away`, copy);
  assert.throws(
    () => Store.open(file, { goBackAfterFailedUpdate: true }),
    (err: unknown) => err instanceof RelaisError && err.code === 'storage.schema_newer' && /holds schema \d+, not this firmware's/.test(err.message),
  );
  // A copy that is not a database is named as unreadable.
  fs.writeFileSync(copy, 'not a database at all, just text that fills more than one page of junk'.repeat(100));
  assert.throws(() => Store.open(file, { goBackAfterFailedUpdate: true }), (err: unknown) => err instanceof RelaisError && /cannot be read/.test(err.message));
  assert.equal(setting(file, 'office'), 'written by the newer firmware', 'the newer database is untouched');
});

test('a go-back cut short by a power cut is finished at the next open, from either side of the swap', () => {
  // Cut after the newer database was set aside, before the copy took its place.
  {
    const { file } = migratedByNewerTrial();
    fs.renameSync(`${file}${PRE_UPDATE_SUFFIX}`, `${file}.restoring`);
    fs.mkdirSync(`${file}.newer-299901010000`);
    fs.renameSync(file, path.join(`${file}.newer-299901010000`, 'relais.db'));
    const store = Store.open(file, { goBackAfterFailedUpdate: true });
    try {
      assert.equal(store.notes.resumedGoingBack, true);
      assert.equal(store.schemaVersion(), LATEST);
      assert.equal(store.db.prepare("SELECT value FROM settings WHERE key = 'office'").pluck().get(), 'before the update');
    } finally {
      store.close();
    }
  }
  // Cut before the newer database was set aside: the copy is a copy again, and the go-back runs whole.
  {
    const { file } = migratedByNewerTrial();
    fs.renameSync(`${file}${PRE_UPDATE_SUFFIX}`, `${file}.restoring`);
    const store = Store.open(file, { goBackAfterFailedUpdate: true });
    try {
      assert.equal(store.notes.wentBack?.newerSchema, '299901010000');
      assert.equal(store.db.prepare("SELECT value FROM settings WHERE key = 'office'").pluck().get(), 'before the update');
      assert.equal(setting(path.join(store.notes.wentBack!.keptAt, 'relais.db'), 'office'), 'written by the newer firmware');
    } finally {
      store.close();
    }
  }
});

test('when the copy cannot be made, nothing is migrated', () => {
  const dir = tempDir('pre-update-');
  const file = path.join(dir, 'relais.db');
  Store.open(file).close();
  // A directory where the copy would go: it cannot be written.
  fs.mkdirSync(`${file}${PRE_UPDATE_SUFFIX}`);
  fs.writeFileSync(path.join(`${file}${PRE_UPDATE_SUFFIX}`, 'x'), 'x');
  assert.throws(
    () => Store.open(file, { migrations: [...MIGRATIONS, NEWER], snapshotBeforeMigrating: true }),
    (err: unknown) => err instanceof RelaisError && err.code === 'storage.snapshot_failed' && /nothing was migrated/.test(err.message),
  );
  const store = Store.open(file);
  try {
    assert.equal(store.schemaVersion(), LATEST, 'still this firmware\'s schema');
  } finally {
    store.close();
  }
});
