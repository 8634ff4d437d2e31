// Migration 202612071300-phone-inventory: its tables, and phones of an older schema untouched.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { MIGRATIONS, Store } from '../../../services/storage/index.js';
import { tempDir } from '../../helpers/relais-process.js';

test('202612071300-phone-inventory adds phone_inventory, phone_credentials, phone_fetches, phone_firmware and keeps phones', () => {
  const i = MIGRATIONS.findIndex((m) => m.version === '202612071300');
  assert.ok(i > 0);
  const file = path.join(tempDir('migration-'), 'old.db');
  const old = Store.open(file, { migrations: MIGRATIONS.slice(0, i) });
  old.db.prepare("INSERT INTO phones (mac, vendor) VALUES ('001565aabbcc', 'yealink')").run();
  old.close();
  const s = Store.open(file);
  try {
    const tables = (s.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((r) => r.name);
    for (const t of ['phone_inventory', 'phone_credentials', 'phone_fetches', 'phone_firmware']) assert.ok(tables.includes(t), t);
    assert.equal((s.db.prepare('SELECT count(*) AS n FROM phones').get() as { n: number }).n, 1);
    s.db.prepare("INSERT INTO phone_inventory (mac, seen_via, first_seen_at, last_seen_at) VALUES ('001565aabbcc', 'pnp', 1, 1)").run();
    assert.throws(() => s.db.prepare("INSERT INTO phone_inventory (mac, seen_via, first_seen_at, last_seen_at) VALUES ('001565aabbcc', 'pnp', 2, 2)").run(), /UNIQUE/);
  } finally {
    s.close();
  }
});
