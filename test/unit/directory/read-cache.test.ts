// The directory's read cache: lookups by unique key are served from memory until a write, by this connection (any
// write statement handed out by prepared()) or by another process (SQLite data_version); never stale.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Store } from '../../../services/storage/index.js';
import { Directory, readCache } from '../../../services/directory/index.js';
import { InventoryRepository } from '../../../services/provisioning/inventory-repository.js';

test('a lookup is cached; a write through any repository drops it', () => {
  const store = Store.open(':memory:');
  try {
    const dir = new Directory(store.db, 'office.example');
    const cache = readCache(store.db);
    const e = dir.extensions.create({ number: '100', displayName: 'Alice', secret: 's3cret-pass' });
    assert.equal(dir.extensions.findByNumber('100')?.displayName, 'Alice');
    const misses = cache.misses;
    assert.equal(dir.extensions.findByNumber('100')?.displayName, 'Alice');
    assert.equal(cache.misses, misses, 'second lookup from memory');
    // Callers get their own entity each time: changing one does not change the cache.
    const got = dir.extensions.findByNumber('100')!;
    got.displayName = 'changed by a caller';
    assert.equal(dir.extensions.findByNumber('100')?.displayName, 'Alice');
    dir.extensions.update(e.id, { displayName: 'Alice B.' });
    assert.equal(dir.extensions.findByNumber('100')?.displayName, 'Alice B.');
    // A miss is cached too, and a create ends it.
    assert.equal(dir.extensions.findBySipUsername('101'), undefined);
    dir.extensions.create({ number: '101', secret: 's3cret-pass' });
    assert.equal(dir.extensions.findBySipUsername('101')?.number, '101');
    // A write of another table through prepared() (settings) drops it as well.
    dir.settings.set('sip.realm', 'x');
    assert.equal(dir.settings.get('sip.realm'), 'x');
    dir.settings.set('sip.realm', 'y');
    assert.equal(dir.settings.get('sip.realm'), 'y');
    dir.extensions.delete(e.id);
    assert.equal(dir.extensions.findByNumber('100'), undefined);
  } finally {
    store.close();
  }
});

test('a write by another connection (relais import on a running box) is seen at once', async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'relais-read-cache-'));
  const file = path.join(tmp, 'relais.db');
  const store = Store.open(file);
  try {
    const dir = new Directory(store.db, 'office.example');
    const e = dir.extensions.create({ number: '100', displayName: 'Alice', secret: 's3cret-pass' });
    assert.equal(dir.extensions.findByNumber('100')?.displayName, 'Alice');
    const other = new Database(file);
    other.prepare('UPDATE extensions SET display_name = ? WHERE id = ?').run('Alice (import)', e.id);
    other.close();
    // data_version is checked at most every 10 ms.
    await new Promise((r) => setTimeout(r, 12));
    assert.equal(dir.extensions.findByNumber('100')?.displayName, 'Alice (import)');
  } finally {
    store.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

test('nothing read inside a transaction stays cached after a rollback', () => {
  const store = Store.open(':memory:');
  try {
    const dir = new Directory(store.db, 'office.example');
    dir.extensions.create({ number: '100', displayName: 'Alice', secret: 's3cret-pass' });
    assert.throws(() =>
      store.db.transaction(() => {
        dir.extensions.create({ number: '102', displayName: 'Temp', secret: 's3cret-pass' });
        assert.equal(dir.extensions.findByNumber('102')?.displayName, 'Temp');
        throw new Error('import failed');
      })(),
    );
    assert.equal(dir.extensions.findByNumber('102'), undefined);
  } finally {
    store.close();
  }
});

test('the phones of a SIP user (REGISTER observer) follow phone assignments', () => {
  const store = Store.open(':memory:');
  try {
    const dir = new Directory(store.db, 'office.example');
    const e = dir.extensions.create({ number: '100', secret: 's3cret-pass' });
    const inventory = new InventoryRepository(store.db);
    assert.deepEqual(inventory.macsOfSipUser('100'), []);
    const misses = readCache(store.db).misses;
    assert.deepEqual(inventory.macsOfSipUser('100'), []);
    assert.equal(readCache(store.db).misses, misses, 'second lookup from memory');
    const phone = dir.phones.create({ mac: '00:04:13:aa:bb:cc', vendor: 'snom', model: null, extensionId: e.id });
    assert.deepEqual(inventory.macsOfSipUser('100'), [phone.mac]);
    dir.phones.delete(phone.id);
    assert.deepEqual(inventory.macsOfSipUser('100'), []);
  } finally {
    store.close();
  }
});

test('the cache keys a number apart from its string, and starts over when full without losing a lookup', () => {
  const store = Store.open(':memory:');
  try {
    store.db.exec('CREATE TABLE kv (k, v)');
    store.db.prepare('INSERT INTO kv VALUES (?, ?), (?, ?)').run(1, 'number one', '1', 'string one');
    const cache = readCache(store.db);
    const sql = 'SELECT v FROM kv WHERE k = ?';
    assert.equal((cache.get(sql, 1) as { v: string }).v, 'number one');
    assert.equal((cache.get(sql, '1') as { v: string }).v, 'string one');
    assert.equal((cache.get(sql, 1) as { v: string }).v, 'number one', 'from memory, still the number');
    assert.deepEqual((cache.all('SELECT v FROM kv WHERE k = ?', '1') as { v: string }[]).map((r) => r.v), ['string one']);
    for (let i = 0; i < 20_100; i++) cache.get(sql, `absent ${i}`);
    assert.ok(cache.size() <= 20_000, `bounded (${cache.size()})`);
    assert.equal((cache.get(sql, 1) as { v: string }).v, 'number one');
    const misses = cache.misses;
    assert.equal((cache.get(sql, 1) as { v: string }).v, 'number one');
    assert.equal(cache.misses, misses, 'cached again after starting over');
  } finally {
    store.close();
  }
});
