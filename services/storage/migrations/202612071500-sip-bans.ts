// SIP bans and extension locks survive a restart (and the CLI can list and lift them); security events are kept.
import type { Migration } from '../migration.js';

export const migration: Migration = {
  version: '202612071500',
  name: 'sip-bans',
  up(db) {
    db.exec(`
      CREATE TABLE sip_bans (
        address TEXT NOT NULL,
        user TEXT NOT NULL DEFAULT '',
        kind TEXT NOT NULL CHECK (kind IN ('address', 'extension')),
        reason TEXT NOT NULL,
        until INTEGER NOT NULL,
        offence INTEGER NOT NULL DEFAULT 1,
        PRIMARY KEY (address, user)
      );
      CREATE TABLE security_events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at INTEGER NOT NULL,
        type TEXT NOT NULL,
        address TEXT,
        user TEXT,
        detail TEXT NOT NULL DEFAULT '{}'
      );
      CREATE INDEX security_events_at ON security_events(at);
    `);
  },
};
