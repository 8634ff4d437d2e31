// Dialogs of phones on SIP over TLS are journalled too: live_dialogs.transport accepts 'tls' (SQLite cannot change a
// CHECK in place, so the table is rebuilt with its rows).
import type { Migration } from '../migration.js';

export const migration: Migration = {
  version: '202612081500',
  name: 'live-dialogs-tls',
  up(db) {
    db.exec(`
      CREATE TABLE live_dialogs_new (
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
        transport TEXT NOT NULL CHECK (transport IN ('udp', 'tcp', 'tls')),
        address TEXT NOT NULL,
        port INTEGER NOT NULL,
        created_at INTEGER NOT NULL
      );
      INSERT INTO live_dialogs_new SELECT id, role, call_id, local_tag, remote_tag, local, remote, local_seq, remote_target, route_set, transport, address, port, created_at FROM live_dialogs;
      DROP TABLE live_dialogs;
      ALTER TABLE live_dialogs_new RENAME TO live_dialogs;
    `);
  },
};
