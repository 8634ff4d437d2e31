// Invalid scenarios are refused at import (the site file) and at save (the API's SiteEditor), each with an error naming
// the action's path: a menu option with no action, a goto loop with no exit, an unknown queue / user / sound, a
// condition that can never match. Migration 202612081000 fills the empty options smart answering used to generate.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { MIGRATIONS, Store } from '../../../services/storage/index.js';
import { RelaisError } from '../../../services/shared/index.js';
import { importSiteText, validateSite, SiteFileError } from '../../../services/site/index.js';
import { SiteEditor } from '../../../services/scenario/config/index.js';
import { generateScenario } from '../../../services/scenario/behaviours/index.js';
import { tempDir } from '../../helpers/relais-process.js';

const BASE = {
  version: 1,
  users: [{ username: 'ann', name: 'Ann' }],
  sounds: [{ name: 'hello', file: 'hello.wav' }],
  queues: [{ name: 'sales', short_number: '7000' }],
};

const menu = (optionActions: unknown): unknown => ({ type: 'detect_dtmf', prompt: 'welcome', options: [{ key: '1', name: 'Sales', actions: [{ type: 'hangup' }] }, { key: '2', name: 'Desk', actions: optionActions }] });

/** Each bad action list, where its error must point, and what it must say. */
const CASES: { what: string; scenarios: unknown[]; path: RegExp; message: RegExp }[] = [
  { what: 'a menu option with an empty action list', scenarios: [{ name: 'main', actions: [menu([])] }], path: /actions\[0\]\.options\[1\]\.actions/, message: /menu option needs at least one action/ },
  { what: 'a menu option with null actions', scenarios: [{ name: 'main', actions: [menu(null)] }], path: /actions\[0\]\.options\[1\]\.actions/, message: /menu option needs at least one action/ },
  {
    what: 'a goto loop with no exit',
    scenarios: [
      { name: 'main', actions: [{ type: 'play', sound: 'hello' }, { type: 'goto_scenario', scenario: 'other' }] },
      { name: 'other', actions: [{ type: 'goto_scenario', scenario: 'main' }] },
    ],
    path: /actions\[1\]\.scenario/,
    message: /loops with no exit/,
  },
  { what: 'an unknown queue', scenarios: [{ name: 'main', actions: [{ type: 'distribute', queue: 'support' }] }], path: /actions\[0\]\.queue/, message: /queue "support" is not defined in queues/ },
  { what: 'an unknown user in a menu', scenarios: [{ name: 'main', actions: [menu([{ type: 'call_user', user: 'zoe' }])] }], path: /actions\[0\]\.options\[1\]\.actions\[0\]\.user/, message: /user "zoe" is not defined in users/ },
  { what: 'an unknown sound', scenarios: [{ name: 'main', actions: [{ type: 'play', sound: 'nope' }] }], path: /actions\[0\]\.sound/, message: /sound "nope" is not defined in sounds/ },
  {
    what: 'a condition that can never match',
    scenarios: [{ name: 'main', actions: [{ type: 'hangup', when: { dates: ['2026-12-07'], weekdays: ['sun'] } }] }],
    path: /actions\[0\]\.when\.weekdays/,
    message: /can never match/,
  },
];

test('import: each invalid scenario is refused with the action\'s path in the site file', () => {
  for (const c of CASES) {
    let err: unknown;
    try {
      validateSite({ ...BASE, scenarios: c.scenarios });
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof SiteFileError, `${c.what}: refused`);
    assert.match(err.message, new RegExp(`^scenarios\\[0\\]\\.${c.path.source}: .*${c.message.source}`, 'm'), `${c.what}: ${err.message}`);
  }
  // The good forms of the same pieces pass.
  validateSite({ ...BASE, scenarios: [{ name: 'main', actions: [menu([{ type: 'call_user', user: 'ann' }]), { type: 'distribute', queue: 'sales' }, { type: 'play', sound: 'hello' }] }] });
});

test('save (API): each invalid scenario is refused naming the field inside the actions (site.invalid), a loop across two scenarios naming its goto (site.conflict)', () => {
  const store = Store.open(':memory:');
  importSiteText(store, 'relais.test', JSON.stringify({ ...BASE, scenarios: [{ name: 'other', actions: [{ type: 'hangup' }] }] }));
  const editor = new SiteEditor({ store, realm: 'relais.test' });
  for (const c of CASES) {
    // The loop case needs its partner saved first: "other" jumps back to the scenario being saved.
    const [main, partner] = c.scenarios as { name: string; actions: unknown[] }[];
    const other = store.db.prepare("SELECT id FROM scenarios WHERE name = 'other'").get() as { id: number };
    if (partner) {
      editor.createScenario('main', [{ type: 'hangup' }], null);
      let err: unknown;
      try {
        editor.saveScenario(other.id, { actions: partner.actions }, null);
        editor.saveScenario((store.db.prepare("SELECT id FROM scenarios WHERE name = 'main'").get() as { id: number }).id, { actions: main!.actions }, null);
      } catch (e) {
        err = e;
      }
      assert.ok(err instanceof RelaisError, `${c.what}: refused`);
      // The loop is made of two scenarios: refused as a conflict naming the goto where the loop is found.
      assert.equal(err.code, 'site.conflict');
      assert.match(err.message, /scenarios\[\d\]\.actions\[\d\]\.scenario: goto_scenario loops with no exit \((main|other) → (main|other) → (main|other)\)/, c.what);
      editor.saveScenario(other.id, { actions: [{ type: 'hangup' }] }, null);
      editor.deleteScenario((store.db.prepare("SELECT id FROM scenarios WHERE name = 'main'").get() as { id: number }).id);
      continue;
    }
    assert.throws(
      () => editor.createScenario('main', main!.actions, null),
      (e: unknown) => e instanceof RelaisError && e.code === 'site.invalid' && new RegExp(`^${c.path.source}: .*${c.message.source}`).test(e.message),
      c.what,
    );
    assert.equal(store.db.prepare("SELECT 1 FROM scenarios WHERE name = 'main'").get(), undefined, `${c.what}: nothing saved`);
  }
  store.close();
});

test('smart answering\'s service options carry an action, and the scenario it generates is valid', () => {
  const actions = generateScenario({ type: 'smart_answering' }, [{ name: 'Sales', services: [{ name: 'New order' }, { name: 'Quote' }] }]);
  validateSite({ ...BASE, scenarios: [{ name: 'main', actions }] });
});

test('migration 202612081000-menu-option-actions: stored empty option lists (current and versions) get `answer`', () => {
  const i = MIGRATIONS.findIndex((m) => m.version === '202612081000');
  assert.ok(i > 0);
  const file = path.join(tempDir('migration-'), 'old.db');
  const old = Store.open(file, { migrations: MIGRATIONS.slice(0, i) });
  const before = JSON.stringify([{ type: 'detect_dtmf', options: [{ key: '1', name: 'A', actions: [{ type: 'detect_dtmf', options: [{ key: '1', name: 'B', actions: [] }] }] }, { key: '2', name: 'C', actions: [{ type: 'hangup' }] }] }]);
  old.db.prepare("INSERT INTO scenarios (id, name, version, actions, updated_at) VALUES (1, 'main', 1, ?, 0)").run(before);
  old.db.prepare('INSERT INTO scenario_versions (scenario_id, version, actions, created_at) VALUES (1, 1, ?, 0)').run(before);
  old.db.prepare("INSERT INTO scenarios (id, name, version, actions, updated_at) VALUES (2, 'plain', 1, '[{\"type\":\"hangup\"}]', 0)").run();
  old.close();
  const s = Store.open(file);
  try {
    const after = [{ type: 'detect_dtmf', options: [{ key: '1', name: 'A', actions: [{ type: 'detect_dtmf', options: [{ key: '1', name: 'B', actions: [{ type: 'answer' }] }] }] }, { key: '2', name: 'C', actions: [{ type: 'hangup' }] }] }];
    assert.deepEqual(JSON.parse((s.db.prepare('SELECT actions FROM scenarios WHERE id = 1').get() as { actions: string }).actions), after);
    assert.deepEqual(JSON.parse((s.db.prepare('SELECT actions FROM scenario_versions WHERE scenario_id = 1').get() as { actions: string }).actions), after);
    assert.equal((s.db.prepare('SELECT actions FROM scenarios WHERE id = 2').get() as { actions: string }).actions, '[{"type":"hangup"}]');
  } finally {
    s.close();
  }
});
