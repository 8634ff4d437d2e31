// Each number's default voicedrop message: the sound an agent drops into its outbound call before leaving it.
import type { Migration } from '../migration.js';

export const migration: Migration = {
  version: '202612071001',
  name: 'voicedrop',
  up(db) {
    db.exec('ALTER TABLE numbers ADD COLUMN voicedrop_sound_id INTEGER REFERENCES sounds(id) ON DELETE SET NULL;');
  },
};
