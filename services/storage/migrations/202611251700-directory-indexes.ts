// Indexes on the directory's foreign keys: cascades and "what belongs to this user" lookups without table scans.
import type { Migration } from '../migration.js';

export const migration: Migration = {
  version: '202611251700',
  name: 'directory-indexes',
  up(db) {
    db.exec(`
      CREATE INDEX extensions_user ON extensions(user_id);
      CREATE INDEX number_users_user ON number_users(user_id);
      CREATE INDEX queue_members_user ON queue_members(user_id);
      CREATE INDEX outbound_routes_trunk ON outbound_routes(trunk_id, priority);
      CREATE INDEX phones_extension ON phones(extension_id);
      CREATE INDEX registrations_extension ON registrations(extension_id);
    `);
  },
};
