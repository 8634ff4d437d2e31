import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Store, MIGRATIONS } from '../../../services/storage/index.js';
import { tempDir } from '../../helpers/relais-process.js';

test('fresh database gets every migration in one go, WAL and foreign keys on', () => {
  const store = Store.open(path.join(tempDir(), 'a.db'));
  try {
    assert.equal(store.schemaVersion(), MIGRATIONS[MIGRATIONS.length - 1]!.version);
    assert.equal(store.db.pragma('journal_mode', { simple: true }), 'wal');
    assert.equal(store.db.pragma('foreign_keys', { simple: true }), 1);
    const tables = (store.db.prepare("SELECT name FROM sqlite_master WHERE type='table'").all() as { name: string }[]).map((r) => r.name);
    for (const t of ['users', 'extensions', 'registrations', 'numbers', 'trunks', 'queues', 'queue_members', 'scenarios', 'sounds', 'phones', 'calls', 'call_events', 'callbacks', 'settings']) {
      assert.ok(tables.includes(t), `table ${t} exists`);
    }
  } finally {
    store.close();
  }
});

test('reopening applies nothing twice', () => {
  const file = path.join(tempDir(), 'b.db');
  Store.open(file).close();
  const store = Store.open(file);
  try {
    assert.deepEqual(store.migrate(MIGRATIONS), []);
  } finally {
    store.close();
  }
});

test('a failing migration rolls back and leaves the schema as it was', () => {
  const file = path.join(tempDir(), 'c.db');
  Store.open(file).close();
  const store = Store.open(file);
  try {
    const before = store.schemaVersion();
    const broken = { version: '299901010000', name: 'broken', up: (db: import('better-sqlite3').Database) => { db.exec('CREATE TABLE x (a INTEGER)'); db.exec('NOT SQL'); } };
    assert.throws(() => store.migrate([...MIGRATIONS, broken]));
    assert.equal(store.schemaVersion(), before);
    assert.equal(store.db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name='x'").get() && (store.db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name='x'").get() as { n: number }).n, 0);
  } finally {
    store.close();
  }
});

test('a database from newer firmware is refused with a clear error', () => {
  const file = path.join(tempDir(), 'd.db');
  const s = Store.open(file);
  s.db.prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES ('299912312359', 'future', 0)").run();
  s.close();
  assert.throws(() => Store.open(file), /newer than this firmware knows/);
});

test('relais.db and its WAL are created owner-only (0600); an older database readable by others is tightened', () => {
  const dir = tempDir();
  const file = path.join(dir, 'relais.db');
  const store = Store.open(file);
  try {
    store.db.prepare("INSERT INTO settings (key, value) VALUES ('k', 'v')").run();
    for (const f of [file, `${file}-wal`]) assert.equal(fs.statSync(f).mode & 0o777, 0o600, f);
  } finally {
    store.close();
  }
  fs.chmodSync(file, 0o644);
  Store.open(file).close();
  assert.equal(fs.statSync(file).mode & 0o777, 0o600);
});
