// Per-extension "require TLS + SRTP" (docs/security.md): off for every existing extension.
import type { Migration } from '../migration.js';

export const migration: Migration = {
  version: '202612081501',
  name: 'extension-require-tls-srtp',
  up(db) {
    db.exec('ALTER TABLE extensions ADD COLUMN require_tls_srtp INTEGER NOT NULL DEFAULT 0 CHECK (require_tls_srtp IN (0, 1))');
  },
};
