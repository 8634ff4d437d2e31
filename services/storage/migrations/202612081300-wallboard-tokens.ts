// Wallboard tokens (docs/console.md "Wallboard"): read-only secrets for a TV showing the queues, without a login.
import type { Migration } from '../migration.js';

export const migration: Migration = {
  version: '202612081300',
  name: 'wallboard-tokens',
  up(db) {
    db.exec(`
      CREATE TABLE wallboard_tokens (
        id           INTEGER PRIMARY KEY,
        name         TEXT NOT NULL,
        token_hash   TEXT NOT NULL UNIQUE,
        created_by   INTEGER REFERENCES users(id) ON DELETE SET NULL,
        created_at   INTEGER NOT NULL,
        last_used_at INTEGER
      );
    `);
  },
};
