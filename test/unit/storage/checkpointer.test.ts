// WAL checkpoints on their own thread (services/storage/checkpointer.ts): the store's connection stops checkpointing
// inside its commits, the thread folds the log into the database file, a stop gives SQLite its own checkpoint back,
// and a thread that cannot open the database falls back to it without losing a row.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Store, WalCheckpointer } from '../../../services/storage/index.js';
import { tempDir } from '../../helpers/relais-process.js';
import { until } from '../../interop/call-support.js';

test('the checkpoint thread folds the log into the database while the store commits without checkpointing', async () => {
  const file = path.join(tempDir(), 'relais.db');
  const store = Store.open(file);
  const cp = new WalCheckpointer(store, { intervalMs: 50 });
  try {
    store.db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)');
    const sizeBefore = fs.statSync(file).size;
    await cp.start();
    assert.equal(store.db.pragma('wal_autocheckpoint', { simple: true }), 0, 'the store no longer checkpoints in its commits');
    const insert = store.db.prepare('INSERT INTO t (v) VALUES (?)');
    // 3,000 commits of their own: well past SQLite's 1,000-page mark, where a commit would have checkpointed.
    for (let i = 0; i < 3000; i++) insert.run('x'.repeat(200));
    await until(() => (cp.health().detail!.frames as number) > 0, 'a checkpoint by the thread');
    await until(() => fs.statSync(file).size > sizeBefore, 'the database file to grow');
    const detail = cp.health().detail!;
    assert.equal(detail.thread, true);
    assert.equal(cp.health().status, 'ok');
    await cp.stop();
    assert.equal(store.db.pragma('wal_autocheckpoint', { simple: true }), 1000, 'SQLite checkpoints itself again');
    insert.run('after the stop');
  } finally {
    await cp.stop();
    store.close();
  }
  assert.equal(fs.existsSync(`${file}-wal`), false, 'the last connection folded the log in and removed it');
  const again = Store.open(file);
  try {
    assert.equal((again.db.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n, 3001);
    assert.equal(again.db.pragma('integrity_check', { simple: true }), 'ok');
  } finally {
    again.close();
  }
});

test('a checkpoint thread that cannot open the database leaves the store checkpointing itself, rows kept', async () => {
  const dir = tempDir();
  const file = path.join(dir, 'relais.db');
  const store = Store.open(file);
  // The store's connection keeps the file it opened; the thread finds no file at that path.
  fs.renameSync(file, path.join(dir, 'moved.db'));
  const cp = new WalCheckpointer(store, { intervalMs: 50 });
  try {
    await cp.start();
    const h = cp.health();
    assert.equal(h.status, 'ok', 'the fallback is a working box');
    assert.equal(h.detail!.thread, false);
    assert.match(String(h.detail!.fallback), /unable to open|no such file|SQLITE_CANTOPEN/i);
    assert.equal(store.db.pragma('wal_autocheckpoint', { simple: true }), 1000);
    store.db.exec('CREATE TABLE t (v TEXT); INSERT INTO t VALUES (1)');
    assert.equal((store.db.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n, 1);
  } finally {
    await cp.stop();
    store.close();
  }
});

test('a store in memory has nothing to checkpoint: no thread', async () => {
  const store = Store.open(':memory:');
  const cp = new WalCheckpointer(store);
  await cp.start();
  assert.equal(cp.health().detail!.thread, false);
  await cp.stop();
  store.close();
});
