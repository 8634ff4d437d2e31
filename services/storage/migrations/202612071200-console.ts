// The console's tables: the audit log of API changes (who, what, when) and API tokens for scripts.
import type { Migration } from '../migration.js';

export const migration: Migration = {
  version: '202612071200',
  name: 'console',
  up(db) {
    db.exec(`
      CREATE TABLE audit_log (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at INTEGER NOT NULL,
        user_id INTEGER,
        username TEXT,
        source TEXT NOT NULL DEFAULT '',
        action TEXT NOT NULL,
        resource TEXT NOT NULL,
        target TEXT,
        status INTEGER NOT NULL,
        detail TEXT NOT NULL DEFAULT '{}'
      );
      CREATE INDEX audit_log_at ON audit_log(at);
      CREATE INDEX audit_log_user ON audit_log(user_id, id);
      CREATE TABLE api_tokens (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        token_hash TEXT NOT NULL UNIQUE,
        created_at INTEGER NOT NULL,
        last_used_at INTEGER,
        expires_at INTEGER
      );
      CREATE INDEX api_tokens_user ON api_tokens(user_id);
    `);
  },
};
