// Every older prefix of MIGRATIONS upgrades to exactly the schema a fresh database gets, keeping its data.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { Store, MIGRATIONS, type Database } from '../../../services/storage/index.js';
import { tempDir } from '../../helpers/relais-process.js';

function schema(db: Database): string[] {
  return (db.prepare("SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name").all() as { type: string; name: string; sql: string | null }[]).map(
    (r) => `${r.type} ${r.name}: ${(r.sql ?? '').replace(/\s+/g, ' ')}`,
  );
}

test('there is at least one upgrade to test', () => {
  assert.ok(MIGRATIONS.length >= 2);
});

test('fresh schema has every migration recorded in order', () => {
  const store = Store.open(':memory:');
  try {
    const rows = store.db.prepare('SELECT version, name FROM schema_migrations ORDER BY version').all() as { version: string; name: string }[];
    assert.deepEqual(rows.map((r) => `${r.version}-${r.name}`), MIGRATIONS.map((m) => `${m.version}-${m.name}`));
    const versions = MIGRATIONS.map((m) => m.version);
    assert.deepEqual([...versions].sort(), versions, 'MIGRATIONS listed in version order');
    for (const v of versions) assert.match(v, /^\d{12}$/);
  } finally {
    store.close();
  }
});

for (let k = 1; k < MIGRATIONS.length; k++) {
  const from = MIGRATIONS[k - 1]!;
  test(`upgrade from ${from.version}-${from.name} reaches the fresh schema and keeps data`, () => {
    const fresh = Store.open(':memory:');
    const expected = schema(fresh.db);
    fresh.close();

    const file = path.join(tempDir('upgrade-'), 'old.db');
    const old = Store.open(file, { migrations: MIGRATIONS.slice(0, k) });
    assert.equal(old.schemaVersion(), from.version);
    old.db.prepare("INSERT INTO users (username, created_at) VALUES ('survivor', 1)").run();
    old.db.prepare("INSERT INTO extensions (number, sip_username, secret, ha1_md5, ha1_sha256, created_at) VALUES ('100', '100', 'secret-1', 'a', 'b', 1)").run();
    old.close();

    const upgraded = Store.open(file);
    try {
      assert.equal(upgraded.schemaVersion(), MIGRATIONS[MIGRATIONS.length - 1]!.version);
      assert.deepEqual(schema(upgraded.db), expected);
      assert.equal((upgraded.db.prepare("SELECT count(*) AS n FROM users WHERE username = 'survivor'").get() as { n: number }).n, 1);
      assert.equal((upgraded.db.prepare("SELECT secret FROM extensions WHERE number = '100'").get() as { secret: string }).secret, 'secret-1');
    } finally {
      upgraded.close();
    }
  });
}
