// A menu option with no action is now refused as a mistake (docs/scenarios.md "Checks"). Smart answering used to
// generate its service options with an empty list: stored scenarios (and their versions) get `answer` there, the
// pass-through those options now carry, so the site stays valid and every later edit is accepted.
import type { Migration } from '../migration.js';

type Json = unknown;

/** Fills every empty `options[].actions` list, at any depth; true when something changed. */
function fill(actions: Json): boolean {
  if (!Array.isArray(actions)) return false;
  let changed = false;
  for (const a of actions as Json[]) {
    if (!a || typeof a !== 'object') continue;
    const action = a as { options?: Json; no_match?: Json };
    if (Array.isArray(action.options)) {
      for (const o of action.options as Json[]) {
        if (!o || typeof o !== 'object') continue;
        const option = o as { actions?: Json };
        if (option.actions === null || (Array.isArray(option.actions) && option.actions.length === 0)) {
          option.actions = [{ type: 'answer' }];
          changed = true;
        } else if (fill(option.actions)) changed = true;
      }
    }
    if (fill(action.no_match)) changed = true;
  }
  return changed;
}

export const migration: Migration = {
  version: '202612081000',
  name: 'menu-option-actions',
  up(db) {
    for (const table of ['scenarios', 'scenario_versions']) {
      const rows = db.prepare(`SELECT rowid AS id, actions FROM ${table}`).all() as { id: number; actions: string }[];
      const update = db.prepare(`UPDATE ${table} SET actions = ? WHERE rowid = ?`);
      for (const r of rows) {
        let actions: Json;
        try {
          actions = JSON.parse(r.actions);
        } catch {
          continue;
        }
        if (fill(actions)) update.run(JSON.stringify(actions), r.id);
      }
    }
  },
};
