// Phone inventory: what the box has seen of each desk phone (by MAC), device credentials, config fetches, firmware cache.
import type { Migration } from '../migration.js';

export const migration: Migration = {
  version: '202612071300',
  name: 'phone-inventory',
  up(db) {
    db.exec(`
      CREATE TABLE phone_inventory (
        mac                  TEXT PRIMARY KEY,
        vendor               TEXT,
        model                TEXT,
        firmware             TEXT,
        ip                   TEXT,
        user_agent           TEXT,
        seen_via             TEXT NOT NULL,
        first_seen_at        INTEGER NOT NULL,
        last_seen_at         INTEGER NOT NULL,
        last_fetch_at        INTEGER,
        last_fetch_file      TEXT,
        last_fetch_via       TEXT,
        last_fetch_secrets   INTEGER NOT NULL DEFAULT 0,
        last_register_at     INTEGER,
        last_register_status INTEGER,
        last_register_detail TEXT,
        check_sync_at        INTEGER,
        check_sync_result    TEXT
      );

      -- Per-device HTTP digest credentials for config fetches (user name: the MAC); kept apart from phones so a
      -- site-file import, which replaces phones, does not change them.
      CREATE TABLE phone_credentials (
        mac        TEXT PRIMARY KEY,
        password   TEXT NOT NULL,
        created_at INTEGER NOT NULL
      );

      CREATE TABLE phone_fetches (
        id         INTEGER PRIMARY KEY,
        at         INTEGER NOT NULL,
        mac        TEXT,
        ip         TEXT NOT NULL,
        via        TEXT NOT NULL,
        file       TEXT NOT NULL,
        status     INTEGER NOT NULL,
        secrets    INTEGER NOT NULL DEFAULT 0,
        user_agent TEXT
      );
      CREATE INDEX phone_fetches_mac ON phone_fetches(mac, at);

      CREATE TABLE phone_firmware (
        model       TEXT PRIMARY KEY,
        vendor      TEXT NOT NULL,
        file_name   TEXT NOT NULL,
        size        INTEGER NOT NULL,
        sha256      TEXT NOT NULL,
        uploaded_at INTEGER NOT NULL
      );
    `);
  },
};
