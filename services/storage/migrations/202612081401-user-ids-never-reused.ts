// users.id becomes INTEGER PRIMARY KEY AUTOINCREMENT: a deleted user's id is never handed to a new user, so nothing
// keyed by a user id (a session, a cached login, a queue statistic, a history row) can pass to someone else.
import type { Migration } from '../migration.js';

export const migration: Migration = {
  version: '202612081401',
  name: 'user-ids-never-reused',
  up(db) {
    const table = db.prepare("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'users'").get() as { sql: string } | undefined;
    if (!table) throw new Error('the users table is missing');
    if (/\bAUTOINCREMENT\b/i.test(table.sql)) return;
    const sql = table.sql.replace(/\bid(\s+)INTEGER(\s+)PRIMARY(\s+)KEY\b/i, 'id INTEGER PRIMARY KEY AUTOINCREMENT');
    if (sql === table.sql) throw new Error('users.id is not an INTEGER PRIMARY KEY');
    // Rebuilding the table (the usual way) is not possible here: migrations run in one transaction with foreign keys
    // on, where they cannot be switched off, and dropping the old users table would cascade into every table that
    // refers to a user (and a rename rewrites their REFERENCES). AUTOINCREMENT does not change how a rowid table is
    // stored, so the schema text is changed in place (SQLite's "other kinds of table schema changes", §7 of
    // lang_altertable) and sqlite_sequence starts at the highest id in use.
    // better-sqlite3 opens connections in SQLite's defensive mode, which refuses writable_schema: lifted for this
    // one statement only.
    const version = db.pragma('schema_version', { simple: true }) as number;
    db.unsafeMode(true);
    db.pragma('writable_schema = ON');
    try {
      db.prepare("UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = 'users'").run(sql);
      db.pragma(`schema_version = ${version + 1}`);
    } finally {
      db.pragma('writable_schema = OFF');
      db.unsafeMode(false);
    }
    // sqlite_sequence exists: earlier migrations created AUTOINCREMENT tables (api_tokens, security_events).
    db.prepare("DELETE FROM sqlite_sequence WHERE name = 'users'").run();
    db.prepare("INSERT INTO sqlite_sequence (name, seq) SELECT 'users', coalesce(max(id), 0) FROM users").run();
  },
};
