// The call inbox (docs/product.md §2): jobs (follow-up tickets), the blocklist of callers, the site's services and categories
// for smart answering, and an index to list calls by inbox status (calls.handling: new, job, spam, closed, deleted).
import type { Migration } from '../migration.js';

export const migration: Migration = {
  version: '202612071601',
  name: 'inbox',
  up(db) {
    db.exec(`
      CREATE INDEX calls_handling ON calls(handling, started_at);

      CREATE TABLE jobs (
        id          INTEGER PRIMARY KEY,
        title       TEXT NOT NULL,
        caller      TEXT NOT NULL DEFAULT '',
        call_id     TEXT REFERENCES calls(id) ON DELETE SET NULL,
        assignee_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
        status      TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'done')),
        notes       TEXT NOT NULL DEFAULT '',
        created_by  INTEGER REFERENCES users(id) ON DELETE SET NULL,
        created_at  INTEGER NOT NULL,
        updated_at  INTEGER NOT NULL
      );
      CREATE INDEX jobs_status ON jobs(status, created_at);
      CREATE INDEX jobs_call ON jobs(call_id);

      CREATE TABLE blocklist (
        id         INTEGER PRIMARY KEY,
        number     TEXT NOT NULL UNIQUE,
        match_key  TEXT NOT NULL,
        action     TEXT NOT NULL DEFAULT 'decline' CHECK (action IN ('decline', 'scenario')),
        scenario   TEXT,
        note       TEXT NOT NULL DEFAULT '',
        created_by INTEGER REFERENCES users(id) ON DELETE SET NULL,
        created_at INTEGER NOT NULL
      );
      CREATE INDEX blocklist_key ON blocklist(match_key);

      CREATE TABLE service_categories (
        id       INTEGER PRIMARY KEY,
        position INTEGER NOT NULL,
        names    TEXT NOT NULL
      );

      CREATE TABLE services (
        id          INTEGER PRIMARY KEY,
        category_id INTEGER NOT NULL REFERENCES service_categories(id) ON DELETE CASCADE,
        position    INTEGER NOT NULL,
        names       TEXT NOT NULL
      );
      CREATE INDEX services_category ON services(category_id, position);
    `);
  },
};
