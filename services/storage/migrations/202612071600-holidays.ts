// A site's own holiday dates (added to the country's public holidays chosen by the `holidays` setting).
import type { Migration } from '../migration.js';

export const migration: Migration = {
  version: '202612071600',
  name: 'holidays',
  up(db) {
    db.exec(`
      CREATE TABLE holidays (
        date TEXT PRIMARY KEY CHECK (date GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
        name TEXT NOT NULL DEFAULT ''
      );
    `);
  },
};
