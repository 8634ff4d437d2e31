// A queue may play the box's own default music on hold to waiting callers (site file `music_on_hold: default`).
import type { Migration } from '../migration.js';

export const migration: Migration = {
  version: '202612081100',
  name: 'queue-default-moh',
  up(db) {
    db.exec('ALTER TABLE queues ADD COLUMN moh_default INTEGER NOT NULL DEFAULT 0');
  },
};
