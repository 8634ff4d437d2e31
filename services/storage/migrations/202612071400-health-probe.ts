// One row the health check rewrites to prove the store takes writes (services/health, docs/appliance.md "Health").
import type { Migration } from '../migration.js';

export const migration: Migration = {
  version: '202612071400',
  name: 'health-probe',
  up(db) {
    db.exec(`CREATE TABLE health_probe (id INTEGER PRIMARY KEY CHECK (id = 1), checked_at INTEGER NOT NULL)`);
  },
};
