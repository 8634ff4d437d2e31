import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Store, MIGRATIONS } from '../../../services/storage/index.js';

const upTo = (version: string) => MIGRATIONS.filter((m) => m.version <= version);

test('202612071400-health-probe: one row at most, upserted by the health check', () => {
  const store = Store.open(':memory:', { migrations: upTo('202612071400') });
  try {
    const up = store.db.prepare('INSERT INTO health_probe (id, checked_at) VALUES (1, ?) ON CONFLICT(id) DO UPDATE SET checked_at = excluded.checked_at');
    up.run(1);
    up.run(2);
    assert.deepEqual(store.db.prepare('SELECT * FROM health_probe').all(), [{ id: 1, checked_at: 2 }]);
    assert.throws(() => store.db.prepare('INSERT INTO health_probe (id, checked_at) VALUES (2, 0)').run(), /CHECK constraint/);
  } finally {
    store.close();
  }
});

test('202612071401-firmware-updates: history rows with a checked state, on top of an older schema', () => {
  const store = Store.open(':memory:', { migrations: upTo('202612071400') });
  try {
    assert.deepEqual(store.migrate(MIGRATIONS).filter((m) => m.startsWith('202612071401')), ['202612071401-firmware-updates']);
    store.db.prepare("INSERT INTO firmware_updates (version, compatible, slot, state, started_at) VALUES ('1.1.0', 'relais-rpi4', 'rootfs.1', 'installing', 1)").run();
    assert.throws(() => store.db.prepare("INSERT INTO firmware_updates (version, compatible, state, started_at) VALUES ('1', 'x', 'maybe', 1)").run(), /CHECK constraint/);
  } finally {
    store.close();
  }
});
