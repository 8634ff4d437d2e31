// Queue engine state: two more strategies, auto-pause / callback order / lost-call rules / service level per queue,
// pause reasons and call counts per participant, callback details, queue call rows (stats) and queue history events.
import type { Migration } from '../migration.js';

export const migration: Migration = {
  version: '202612071100',
  name: 'queue-engine',
  up(db) {
    // SQLite cannot alter a CHECK constraint, and rebuilding `queues` would cascade-delete its participants:
    // the constraint's text is widened in the schema itself (SQLite's documented way for a looser CHECK).
    const version = db.pragma('schema_version', { simple: true }) as number;
    db.unsafeMode(true);
    try {
      db.pragma('writable_schema = ON');
      db.prepare(`UPDATE sqlite_schema SET sql = replace(sql, ?, ?) WHERE type = 'table' AND name = 'queues'`).run(
        "'longest_idle', 'random')",
        "'longest_idle', 'random', 'round_robin', 'fewest_calls')",
      );
      db.pragma(`schema_version = ${version + 1}`);
      db.pragma('writable_schema = OFF');
    } finally {
      db.unsafeMode(false);
    }
    db.exec(`
      ALTER TABLE queues ADD COLUMN auto_pause_after INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE queues ADD COLUMN callback_order TEXT NOT NULL DEFAULT 'agent_first';
      ALTER TABLE queues ADD COLUMN lost_call_rules TEXT;
      ALTER TABLE queues ADD COLUMN service_level INTEGER NOT NULL DEFAULT 20;

      ALTER TABLE queue_members ADD COLUMN pause_reason TEXT;
      ALTER TABLE queue_members ADD COLUMN calls_taken INTEGER NOT NULL DEFAULT 0;

      ALTER TABLE callbacks ADD COLUMN source TEXT NOT NULL DEFAULT 'manual';
      ALTER TABLE callbacks ADD COLUMN data TEXT NOT NULL DEFAULT '{}';
      ALTER TABLE callbacks ADD COLUMN arrived_at INTEGER;
      ALTER TABLE callbacks ADD COLUMN last_result TEXT;
      CREATE INDEX callbacks_number ON callbacks(number);

      CREATE TABLE queue_calls (
        id          INTEGER PRIMARY KEY,
        queue_id    INTEGER REFERENCES queues(id) ON DELETE CASCADE,
        entry_id    TEXT NOT NULL,
        kind        TEXT NOT NULL DEFAULT 'call',
        call_id     TEXT,
        callback_id INTEGER,
        caller      TEXT NOT NULL,
        arrived_at  INTEGER NOT NULL,
        answered_at INTEGER,
        ended_at    INTEGER,
        user_id     INTEGER REFERENCES users(id) ON DELETE SET NULL,
        outcome     TEXT NOT NULL DEFAULT 'waiting',
        reason      TEXT,
        wait_ms     INTEGER,
        talk_ms     INTEGER
      );
      CREATE UNIQUE INDEX queue_calls_entry ON queue_calls(entry_id);
      CREATE INDEX queue_calls_queue ON queue_calls(queue_id, arrived_at);
      CREATE INDEX queue_calls_user ON queue_calls(user_id, answered_at);

      CREATE TABLE queue_events (
        id          INTEGER PRIMARY KEY,
        at          INTEGER NOT NULL,
        type        TEXT NOT NULL,
        queue_id    INTEGER,
        user_id     INTEGER,
        callback_id INTEGER,
        data        TEXT NOT NULL DEFAULT '{}'
      );
      CREATE INDEX queue_events_at ON queue_events(at);

      CREATE TABLE agent_pauses (
        id         INTEGER PRIMARY KEY,
        user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        queue_id   INTEGER REFERENCES queues(id) ON DELETE CASCADE,
        reason     TEXT,
        started_at INTEGER NOT NULL,
        ended_at   INTEGER
      );
      CREATE INDEX agent_pauses_user ON agent_pauses(user_id, started_at);
    `);
  },
};
