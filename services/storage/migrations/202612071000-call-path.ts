// The path an inbound call took through its number's handling (steps as JSON) and the digits it collected.
import type { Migration } from '../migration.js';

export const migration: Migration = {
  version: '202612071000',
  name: 'call-path',
  up(db) {
    db.exec(`
      ALTER TABLE calls ADD COLUMN path TEXT;
      ALTER TABLE calls ADD COLUMN variables TEXT;
    `);
  },
};
