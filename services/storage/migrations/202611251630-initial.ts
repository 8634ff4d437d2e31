// Initial schema: users and rights, extensions and registrations, numbers, trunks, routes, queues,
// scenarios (versioned), sounds, phones, call history and events, callbacks, voicemail, settings.
import type { Migration } from '../migration.js';

export const migration: Migration = {
  version: '202611251630',
  name: 'initial',
  up(db) {
    db.exec(`
      CREATE TABLE settings (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
      );

      CREATE TABLE users (
        id            INTEGER PRIMARY KEY,
        username      TEXT NOT NULL UNIQUE,
        name          TEXT NOT NULL DEFAULT '',
        email         TEXT,
        role          TEXT NOT NULL DEFAULT 'user' CHECK (role IN ('admin', 'user')),
        rights        TEXT NOT NULL DEFAULT '[]',
        language      TEXT NOT NULL DEFAULT 'en',
        password_hash TEXT,
        dnd           INTEGER NOT NULL DEFAULT 0,
        created_at    INTEGER NOT NULL
      );

      CREATE TABLE extensions (
        id                INTEGER PRIMARY KEY,
        number            TEXT NOT NULL UNIQUE,
        user_id           INTEGER REFERENCES users(id) ON DELETE SET NULL,
        display_name      TEXT NOT NULL DEFAULT '',
        sip_username      TEXT NOT NULL UNIQUE,
        secret            TEXT NOT NULL,
        ha1_md5           TEXT NOT NULL,
        ha1_sha256        TEXT NOT NULL,
        digest_algorithm  TEXT NOT NULL DEFAULT 'MD5' CHECK (digest_algorithm IN ('MD5', 'SHA-256', 'both')),
        voicemail_enabled INTEGER NOT NULL DEFAULT 1,
        voicemail_pin     TEXT,
        created_at        INTEGER NOT NULL
      );

      CREATE TABLE registrations (
        id           INTEGER PRIMARY KEY,
        extension_id INTEGER NOT NULL REFERENCES extensions(id) ON DELETE CASCADE,
        aor          TEXT NOT NULL,
        contact      TEXT NOT NULL,
        received     TEXT NOT NULL,
        transport    TEXT NOT NULL,
        call_id      TEXT NOT NULL,
        cseq         INTEGER NOT NULL,
        expires_at   INTEGER NOT NULL,
        user_agent   TEXT,
        instance_id  TEXT,
        q            REAL NOT NULL DEFAULT 1.0,
        UNIQUE (extension_id, contact)
      );
      CREATE INDEX registrations_expires ON registrations(expires_at);

      CREATE TABLE sounds (
        id          INTEGER PRIMARY KEY,
        name        TEXT NOT NULL UNIQUE,
        file        TEXT NOT NULL,
        kind        TEXT NOT NULL DEFAULT 'prompt' CHECK (kind IN ('prompt', 'moh', 'system')),
        language    TEXT,
        duration_ms INTEGER NOT NULL DEFAULT 0,
        created_at  INTEGER NOT NULL
      );

      CREATE TABLE scenarios (
        id         INTEGER PRIMARY KEY,
        name       TEXT NOT NULL UNIQUE,
        version    INTEGER NOT NULL DEFAULT 1,
        actions    TEXT NOT NULL DEFAULT '[]',
        updated_at INTEGER NOT NULL
      );

      CREATE TABLE scenario_versions (
        scenario_id INTEGER NOT NULL REFERENCES scenarios(id) ON DELETE CASCADE,
        version     INTEGER NOT NULL,
        actions     TEXT NOT NULL,
        created_at  INTEGER NOT NULL,
        created_by  INTEGER REFERENCES users(id) ON DELETE SET NULL,
        PRIMARY KEY (scenario_id, version)
      );

      CREATE TABLE trunks (
        id            INTEGER PRIMARY KEY,
        name          TEXT NOT NULL UNIQUE,
        host          TEXT NOT NULL,
        port          INTEGER NOT NULL DEFAULT 5060,
        transport     TEXT NOT NULL DEFAULT 'udp' CHECK (transport IN ('udp', 'tcp')),
        register      INTEGER NOT NULL DEFAULT 1,
        username      TEXT,
        auth_username TEXT,
        secret        TEXT,
        realm         TEXT,
        from_domain   TEXT,
        caller_id     TEXT,
        allowed_ips   TEXT NOT NULL DEFAULT '[]',
        expires       INTEGER NOT NULL DEFAULT 600,
        enabled       INTEGER NOT NULL DEFAULT 1
      );

      CREATE TABLE outbound_routes (
        id        INTEGER PRIMARY KEY,
        name      TEXT NOT NULL,
        pattern   TEXT NOT NULL,
        strip     INTEGER NOT NULL DEFAULT 0,
        prepend   TEXT NOT NULL DEFAULT '',
        trunk_id  INTEGER NOT NULL REFERENCES trunks(id) ON DELETE CASCADE,
        priority  INTEGER NOT NULL DEFAULT 0
      );

      CREATE TABLE numbers (
        id                 INTEGER PRIMARY KEY,
        did                TEXT NOT NULL UNIQUE,
        name               TEXT NOT NULL DEFAULT '',
        trunk_id           INTEGER REFERENCES trunks(id) ON DELETE SET NULL,
        mode               TEXT NOT NULL DEFAULT 'receive' CHECK (mode IN ('receive', 'forward', 'reject')),
        forward_to         TEXT,
        record             INTEGER NOT NULL DEFAULT 0,
        ring_mode          TEXT NOT NULL DEFAULT 'simultaneous' CHECK (ring_mode IN ('random', 'longest_idle', 'simultaneous')),
        behaviour          TEXT,
        offline_action     TEXT NOT NULL DEFAULT '{"type":"voicemail"}',
        unavailable_action TEXT NOT NULL DEFAULT '{"type":"busy"}',
        welcome_sound_id   INTEGER REFERENCES sounds(id) ON DELETE SET NULL,
        scenario_id        INTEGER REFERENCES scenarios(id) ON DELETE SET NULL
      );

      CREATE TABLE number_users (
        number_id INTEGER NOT NULL REFERENCES numbers(id) ON DELETE CASCADE,
        user_id   INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        PRIMARY KEY (number_id, user_id)
      );

      CREATE TABLE queues (
        id                  INTEGER PRIMARY KEY,
        name                TEXT NOT NULL UNIQUE,
        short_number        TEXT NOT NULL UNIQUE,
        strategy            TEXT NOT NULL DEFAULT 'as_listed' CHECK (strategy IN ('as_listed', 'simultaneous', 'longest_idle', 'random')),
        ring_time           INTEGER NOT NULL DEFAULT 20,
        max_wait            INTEGER NOT NULL DEFAULT 300,
        wrap_up             INTEGER NOT NULL DEFAULT 10,
        timeout_action      TEXT NOT NULL DEFAULT '{"type":"hangup"}',
        timeout_sound_id    INTEGER REFERENCES sounds(id) ON DELETE SET NULL,
        moh_sound_id        INTEGER REFERENCES sounds(id) ON DELETE SET NULL,
        announce_position   INTEGER NOT NULL DEFAULT 0,
        opening_hours       TEXT,
        closed              INTEGER NOT NULL DEFAULT 0,
        exceptional_closure INTEGER NOT NULL DEFAULT 0,
        closure_action      TEXT
      );

      CREATE TABLE queue_members (
        queue_id     INTEGER NOT NULL REFERENCES queues(id) ON DELETE CASCADE,
        user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        position     INTEGER NOT NULL,
        logged_in    INTEGER NOT NULL DEFAULT 1,
        paused       INTEGER NOT NULL DEFAULT 0,
        last_call_at INTEGER,
        PRIMARY KEY (queue_id, user_id)
      );

      CREATE TABLE phones (
        id           INTEGER PRIMARY KEY,
        mac          TEXT NOT NULL UNIQUE,
        vendor       TEXT NOT NULL,
        model        TEXT,
        extension_id INTEGER REFERENCES extensions(id) ON DELETE SET NULL,
        label        TEXT,
        settings     TEXT NOT NULL DEFAULT '{}'
      );

      CREATE TABLE calls (
        id             TEXT PRIMARY KEY,
        direction      TEXT NOT NULL CHECK (direction IN ('inbound', 'outbound', 'internal')),
        caller         TEXT NOT NULL,
        callee         TEXT NOT NULL,
        number_id      INTEGER REFERENCES numbers(id) ON DELETE SET NULL,
        queue_id       INTEGER REFERENCES queues(id) ON DELETE SET NULL,
        answered_by    INTEGER REFERENCES users(id) ON DELETE SET NULL,
        started_at     INTEGER NOT NULL,
        answered_at    INTEGER,
        ended_at       INTEGER,
        status         TEXT NOT NULL DEFAULT 'ringing',
        cause          TEXT,
        recording      TEXT,
        service        TEXT,
        ivr_data       TEXT NOT NULL DEFAULT '{}',
        handling       TEXT NOT NULL DEFAULT 'new'
      );
      CREATE INDEX calls_started ON calls(started_at);
      CREATE INDEX calls_caller ON calls(caller);

      CREATE TABLE call_events (
        id      INTEGER PRIMARY KEY,
        call_id TEXT NOT NULL REFERENCES calls(id) ON DELETE CASCADE,
        at      INTEGER NOT NULL,
        type    TEXT NOT NULL,
        data    TEXT NOT NULL DEFAULT '{}'
      );
      CREATE INDEX call_events_call ON call_events(call_id);

      CREATE TABLE callbacks (
        id             INTEGER PRIMARY KEY,
        number         TEXT NOT NULL,
        status         TEXT NOT NULL DEFAULT 'scheduled' CHECK (status IN ('scheduled', 'dialling', 'done', 'failed', 'cancelled', 'neglected')),
        due_at         INTEGER NOT NULL,
        queue_id       INTEGER REFERENCES queues(id) ON DELETE SET NULL,
        origin_call_id TEXT REFERENCES calls(id) ON DELETE SET NULL,
        link_type      TEXT CHECK (link_type IN ('LostCall', 'CallBack')),
        created_by     INTEGER REFERENCES users(id) ON DELETE SET NULL,
        attempts       INTEGER NOT NULL DEFAULT 0,
        notes          TEXT NOT NULL DEFAULT '',
        created_at     INTEGER NOT NULL,
        updated_at     INTEGER NOT NULL
      );
      CREATE INDEX callbacks_status ON callbacks(status, due_at);

      CREATE TABLE voicemails (
        id           INTEGER PRIMARY KEY,
        extension_id INTEGER REFERENCES extensions(id) ON DELETE CASCADE,
        number_id    INTEGER REFERENCES numbers(id) ON DELETE CASCADE,
        call_id      TEXT REFERENCES calls(id) ON DELETE SET NULL,
        caller       TEXT NOT NULL,
        file         TEXT NOT NULL,
        duration_ms  INTEGER NOT NULL DEFAULT 0,
        is_new       INTEGER NOT NULL DEFAULT 1,
        created_at   INTEGER NOT NULL
      );
    `);
  },
};
