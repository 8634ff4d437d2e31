// docs/site-file.md documents every field the site file accepts, and every action type with its fields.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { SITE_FIELDS, SITE_SECTIONS } from '../../../services/site/index.js';
import { ACTION_FIELDS, ACTION_TYPES } from '../../../services/directory/index.js';
import { PROJECT_ROOT } from '../../helpers/relais-process.js';

const DOC = fs.readFileSync(path.join(PROJECT_ROOT, 'docs/site-file.md'), 'utf8');

/** The doc's text from the heading naming this section to the next heading of the same or higher level. */
function section(heading: string): string {
  const start = DOC.indexOf(heading);
  assert.ok(start >= 0, `docs/site-file.md has a heading ${heading}`);
  const level = /^#+/.exec(heading)![0].length;
  const rest = DOC.slice(start + heading.length);
  const next = new RegExp(`\\n#{1,${level}} `).exec(rest);
  return next ? rest.slice(0, next.index) : rest;
}

test('every top-level section is in the table of the top level', () => {
  const top = section('## Top level');
  for (const s of SITE_SECTIONS) assert.match(top, new RegExp(`\\| \`${s}\` \\|`), `top level: ${s}`);
});

test('every field of every kind of item is documented in its section', () => {
  const headings: Record<keyof typeof SITE_FIELDS, string> = {
    users: '## `users[]`',
    extensions: '## `extensions[]`',
    sounds: '## `sounds[]`',
    trunks: '## `trunks[]`',
    routes: '### `trunks[].routes[]`',
    scenarios: '## `scenarios[]`',
    queues: '## `queues[]`',
    numbers: '## `numbers[]`',
    phones: '## `phones[]`',
    holidays: '## `holidays[]`',
    service_categories: '## `service_categories[]`',
  };
  for (const [kind, fields] of Object.entries(SITE_FIELDS)) {
    const text = section(headings[kind as keyof typeof SITE_FIELDS]);
    for (const f of fields) assert.match(text, new RegExp(`\\| \`${f}\` \\|`), `${kind}.${f} is documented`);
  }
});

test('every action type and its fields are documented', () => {
  const text = section('### Actions');
  for (const type of ACTION_TYPES) {
    const row = text.split('\n').find((l) => l.startsWith(`| \`${type}\` |`));
    assert.ok(row, `action ${type} has a row`);
    for (const f of ACTION_FIELDS[type]) {
      if (['sound', 'prompt', 'text'].includes(f)) assert.ok(row.includes('what to play') || row.includes('`sound`'), `${type}: what to play`);
      else assert.match(row, new RegExp(`\`${f}\``), `${type}.${f} is documented`);
    }
  }
});
