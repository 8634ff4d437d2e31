// The default music on hold for queues: migration 202612081100-queue-default-moh, site file `music_on_hold: default`
// (import, export, not a sound reference), the build's recipe (sox arguments of a chord), the file lookup.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { MIGRATIONS, Store } from '../../../services/storage/index.js';
import { Directory } from '../../../services/directory/index.js';
import { exportSiteText, importSiteText } from '../../../services/site/index.js';
import { DEFAULT_MOH_NAME, defaultMohFile } from '../../../services/media/sounds/index.js';
import { chordArgs, DEFAULT_MOH_CHORDS, defaultMohRecipeHash } from '../../../services/media/sounds/default-moh.js';
import { toConfig } from '../../../services/queue/index.js';
import { tempDir } from '../../helpers/relais-process.js';

test('202612081100-queue-default-moh adds queues.moh_default (off) to an older schema, in version order', () => {
  const i = MIGRATIONS.findIndex((m) => m.version === '202612081100');
  assert.ok(i > 0);
  assert.deepEqual(MIGRATIONS.map((m) => m.version), [...MIGRATIONS.map((m) => m.version)].sort(), 'MIGRATIONS stays sorted');
  const file = path.join(tempDir('migration-'), 'old.db');
  const old = Store.open(file, { migrations: MIGRATIONS.slice(0, i) });
  old.db.prepare("INSERT INTO queues (name, short_number) VALUES ('old', '900')").run();
  old.close();
  const s = Store.open(file);
  try {
    const q = new Directory(s.db, 'relais.test').queues.findByName('old')!;
    assert.equal(q.mohDefault, false, 'an existing queue keeps its ringing tone');
  } finally {
    s.close();
  }
});

test('site file: music_on_hold: default is the box music (no sound needed), exported again; a sound name still must exist', () => {
  const store = Store.open(':memory:');
  const site = `queues:
  - { name: support, short_number: "900", music_on_hold: default }
  - { name: sales, short_number: "901" }
`;
  importSiteText(store, 'relais.test', site);
  const dir = new Directory(store.db, 'relais.test');
  const support = dir.queues.findByName('support')!;
  assert.deepEqual([support.mohDefault, support.mohSoundId], [true, null]);
  assert.equal(toConfig(support, []).mohDefault, true, 'the engine sees it');
  assert.equal(dir.queues.findByName('sales')!.mohDefault, false, 'new queues keep the ringing tone (docs/product.md §7)');
  const out = exportSiteText(store, 'relais.test');
  assert.match(out, /music_on_hold: default/);
  assert.equal(out.match(/music_on_hold/g)!.length, 1);
  assert.throws(() => importSiteText(store, 'relais.test', site.replace('music_on_hold: default', 'music_on_hold: jazz')), /queues\[0\]\.music_on_hold/);
  store.close();
});

test('the build recipe: one sox call per chord (pad + arpeggio mixed to 8 kHz mono), a hash that follows the recipe', () => {
  const args = chordArgs(DEFAULT_MOH_CHORDS[0]!, 'out.wav');
  assert.deepEqual(args.slice(args.indexOf('out.wav') - 8, args.indexOf('out.wav') + 1), ['-r', '8000', '-c', '1', '-b', '16', '-e', 'signed-integer', 'out.wav']);
  assert.equal(args.filter((a) => a === 'sine').length, 4);
  assert.equal(args.filter((a) => a === 'pluck').length, 3);
  assert.match(defaultMohRecipeHash(), /^[0-9a-f]{16}$/);
  const dir = tempDir('moh-');
  assert.equal(defaultMohFile(dir), undefined, 'no file: calls hold in silence');
  fs.writeFileSync(path.join(dir, DEFAULT_MOH_NAME), 'x');
  assert.equal(defaultMohFile(dir), path.join(dir, DEFAULT_MOH_NAME));
});
