// The SIP dialogs of calls in progress, kept on disk while they last: after a crash (kill -9, power cut) Relais
// sends each leftover peer a BYE at start instead of leaving its phone in a silent call (docs/security.md).
import type { Migration } from '../migration.js';

export const migration: Migration = {
  version: '202612081400',
  name: 'live-dialogs',
  up(db) {
    db.exec(`
      CREATE TABLE live_dialogs (
        id TEXT PRIMARY KEY,
        role TEXT NOT NULL CHECK (role IN ('uac', 'uas')),
        call_id TEXT NOT NULL,
        local_tag TEXT NOT NULL,
        remote_tag TEXT NOT NULL,
        local TEXT NOT NULL,
        remote TEXT NOT NULL,
        local_seq INTEGER NOT NULL,
        remote_target TEXT NOT NULL,
        route_set TEXT NOT NULL DEFAULT '[]',
        transport TEXT NOT NULL CHECK (transport IN ('udp', 'tcp')),
        address TEXT NOT NULL,
        port INTEGER NOT NULL,
        created_at INTEGER NOT NULL
      );
    `);
  },
};
