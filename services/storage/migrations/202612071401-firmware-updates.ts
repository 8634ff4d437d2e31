// History of firmware updates on this box (services/update): what was installed, into which slot, how it ended.
import type { Migration } from '../migration.js';

export const migration: Migration = {
  version: '202612071401',
  name: 'firmware-updates',
  up(db) {
    db.exec(`CREATE TABLE firmware_updates (
      id INTEGER PRIMARY KEY,
      version TEXT NOT NULL,
      compatible TEXT NOT NULL,
      slot TEXT,
      state TEXT NOT NULL CHECK (state IN ('installing', 'installed', 'failed', 'confirmed', 'rolled-back')),
      message TEXT NOT NULL DEFAULT '',
      started_at INTEGER NOT NULL,
      finished_at INTEGER
    )`);
  },
};
