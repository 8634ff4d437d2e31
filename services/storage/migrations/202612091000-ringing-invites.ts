// INVITEs still ringing, kept on disk while they ring: after a crash Relais answers the caller's INVITE (500 with
// Retry-After) and CANCELs the callees it was ringing, instead of leaving both sides ringing (docs/security.md).
import type { Migration } from '../migration.js';

export const migration: Migration = {
  version: '202612091000',
  name: 'ringing-invites',
  up(db) {
    db.exec(`
      CREATE TABLE ringing_invites (
        id TEXT PRIMARY KEY,
        role TEXT NOT NULL CHECK (role IN ('uac', 'uas')),
        call_id TEXT NOT NULL,
        message TEXT NOT NULL,
        to_tag TEXT NOT NULL DEFAULT '',
        transport TEXT NOT NULL CHECK (transport IN ('udp', 'tcp', 'tls')),
        address TEXT NOT NULL,
        port INTEGER NOT NULL,
        created_at INTEGER NOT NULL
      );
    `);
  },
};
