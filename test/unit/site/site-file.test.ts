// Site file: parsing with path+line errors, atomic import, export round trip, ids kept across imports.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { Store } from '../../../services/storage/index.js';
import { Directory } from '../../../services/directory/index.js';
import { importSiteText, exportSiteText, parseSiteFile, SiteFileError, defaultSitePath } from '../../../services/site/index.js';
import { PROJECT_ROOT } from '../../helpers/relais-process.js';

const REALM = 'office.test';
const EXAMPLE = fs.readFileSync(path.join(PROJECT_ROOT, 'examples/small-office.yaml'), 'utf8');

/** Every row of every table: the store "unchanged" means this is equal. */
function dump(store: Store): string {
  const tables = (store.db.prepare("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name").all() as { name: string }[]).map((r) => r.name);
  return JSON.stringify(tables.map((t) => [t, store.db.prepare(`SELECT * FROM "${t}" ORDER BY rowid`).all()]));
}

function errorOf(fn: () => unknown): SiteFileError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof SiteFileError, `expected SiteFileError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected the import to fail');
}

test('examples/small-office.yaml imports; export → import → export is identical (fresh store and same store)', () => {
  const a = Store.open(':memory:');
  const b = Store.open(':memory:');
  try {
    const s = importSiteText(a, REALM, EXAMPLE);
    assert.equal(s.users, 6);
    assert.equal(s.numbers, 2);
    assert.equal(s.queues, 2);
    assert.equal(Object.keys(s.generatedSecrets).length, 6);
    const dir = new Directory(a.db, REALM);
    assert.equal(dir.queues.findByName('SAV')?.strategy, 'longest_idle');
    assert.deepEqual(dir.queues.members(dir.queues.findByName('Commercial')!.id).map((m) => dir.users.require(m.userId).username), ['paul', 'sophie', 'marie']);
    assert.equal(dir.numbers.findByDid('+33142000001')?.userIds.length, 3);
    assert.equal(dir.numbers.findByDid('+33142000000')?.userIds.length, 6, 'no users: = every user');
    assert.ok(dir.users.verify('marie', 'change-me-on-first-login'));
    assert.equal(dir.phones.findByMac('805ec0123401')?.settings.blf3, '*4199900');
    assert.equal(dir.trunks.routeFor('0612345678')?.trunk.name, 'ovh');
    assert.equal(dir.extensions.findByNumber('105')?.digestAlgorithm, 'SHA-256');

    const first = exportSiteText(a, REALM);
    importSiteText(b, REALM, first);
    assert.equal(exportSiteText(b, REALM), first, 'fresh store');
    importSiteText(a, REALM, first);
    assert.equal(exportSiteText(a, REALM), first, 'same store');
    assert.ok(parseSiteFile(first));
  } finally {
    a.close();
    b.close();
  }
});

test('the embedded default site imports and round-trips', () => {
  const s = Store.open(':memory:');
  try {
    importSiteText(s, REALM, fs.readFileSync(defaultSitePath(), 'utf8'));
    const dir = new Directory(s.db, REALM);
    assert.deepEqual(dir.extensions.list().map((e) => e.number), ['100', '101', '102', '103']);
    const n = dir.numbers.list();
    assert.equal(n.length, 1);
    assert.equal(n[0]!.behaviour, 'smart_answering');
    assert.equal(dir.scenarios.require(n[0]!.scenarioId!).name, 'smart-answering');
    assert.equal(dir.queues.list().length, 1);
    const text = exportSiteText(s, REALM);
    const t = Store.open(':memory:');
    importSiteText(t, REALM, text);
    assert.equal(exportSiteText(t, REALM), text);
    t.close();
  } finally {
    s.close();
  }
});

const BROKEN: { name: string; edit: (t: string) => string; expect: RegExp }[] = [
  {
    name: 'bad enum',
    edit: (t) => t.replace('strategy: longest_idle', 'strategy: roundrobbin'),
    expect: /^queues\[1\]\.strategy: unknown value "roundrobbin" \(line \d+\)/m,
  },
  {
    name: 'bad reference (queue member)',
    edit: (t) => t.replace('members: [luc, julien]', 'members: [luc, juliette]'),
    expect: /^queues\[1\]\.members\[1\]: user "juliette" is not defined in users \(line \d+\)/m,
  },
  {
    name: 'bad reference (number scenario)',
    edit: (t) => t.replace('scenario: sav-direct\n    users', 'scenario: sav-directe\n    users'),
    expect: /^numbers\[1\]\.scenario: scenario "sav-directe" is not defined in scenarios \(line \d+\)/m,
  },
  {
    name: 'bad reference inside a menu',
    edit: (t) => t.replace('user: nadia\n                ring_time', 'user: nadine\n                ring_time'),
    expect: /^scenarios\[1\]\.actions\[1\]\.options\[2\]\.actions\[0\]\.user: user "nadine" is not defined in users \(line \d+\)/m,
  },
  {
    name: 'YAML syntax error',
    edit: (t) => t.replace('  - name: SAV\n', '  - name: SAV\n   oops: [\n'),
    expect: /YAML syntax error: .*\(line \d+\)/,
  },
  {
    name: 'wrong type',
    edit: (t) => t.replace('ring_time: 25', 'ring_time: twenty'),
    expect: /^queues\[1\]\.ring_time: expected a whole number, got the text "twenty" \(line \d+\)/m,
  },
  {
    name: 'unknown field',
    edit: (t) => t.replace('    wrap_up: 60\n', '    wrapup: 60\n'),
    expect: /^queues\[1\]\.wrapup: unknown field "wrapup"/m,
  },
  {
    name: 'unknown right',
    edit: (t) => t.replace('rights: [scenarios, history]', 'rights: [scenarios, histroy]'),
    expect: /^users\[1\]\.rights\[1\]: unknown right "histroy" \(line \d+\); expected one of scenarios, /m,
  },
  {
    name: 'unknown time zone',
    edit: (t) => t.replace('timezone: Europe/Paris', 'timezone: Europe/Pariss'),
    expect: /^settings\.timezone: unknown time zone "Europe\/Pariss" \(line 10\); an IANA name such as Europe\/Paris$/m,
  },
  {
    name: 'duplicate extension',
    edit: (t) => t.replace('  - number: "105"', '  - number: "104"'),
    expect: /^extensions\[5\]\.number: "104" appears twice \(first at extensions\[4\]\)/m,
  },
];

for (const b of BROKEN) {
  test(`broken site file (${b.name}): error names path and line, store unchanged`, () => {
    const store = Store.open(':memory:');
    try {
      importSiteText(store, REALM, EXAMPLE);
      const before = dump(store);
      const text = b.edit(EXAMPLE);
      assert.notEqual(text, EXAMPLE, 'the edit applies');
      const err = errorOf(() => importSiteText(store, REALM, text));
      assert.match(err.message, b.expect);
      assert.equal(dump(store), before);
    } finally {
      store.close();
    }
  });
}

test('the line reported is the line of the wrong value', () => {
  const text = EXAMPLE.replace('strategy: longest_idle', 'strategy: roundrobbin');
  const line = text.split('\n').findIndex((l) => l.includes('roundrobbin')) + 1;
  const err = errorOf(() => parseSiteFile(text));
  assert.match(err.message, new RegExp(`queues\\[1\\]\\.strategy: unknown value "roundrobbin" \\(line ${line}\\)`));
});

test('numbers that YAML would read as integers keep their leading 0 or +', () => {
  const site = parseSiteFile('numbers:\n  - did: 0142000000\n  - did: +33142000000\nextensions:\n  - number: 100\n');
  assert.equal(site.numbers[0]!.did, '0142000000');
  assert.equal(site.numbers[1]!.did, '+33142000000');
  assert.equal(site.extensions[0]!.number, '100');
});

test('re-import keeps ids (registrations, call history links, login state), versions only what changed, keeps admins', () => {
  const store = Store.open(':memory:');
  try {
    const dir = new Directory(store.db, REALM);
    const admin = dir.users.create({ username: 'admin', role: 'admin', password: 'admin-password' });
    importSiteText(store, REALM, EXAMPLE);
    const ext = dir.extensions.findByNumber('103')!;
    store.db.prepare(`INSERT INTO registrations (extension_id, aor, contact, received, transport, call_id, cseq, expires_at)
      VALUES (?, 'sip:103@x', 'sip:103@10.0.0.3', '10.0.0.3:5060', 'udp', 'c1', 1, 9999999999999)`).run(ext.id);
    const num = dir.numbers.findByDid('+33142000000')!;
    store.db.prepare(`INSERT INTO calls (id, direction, caller, callee, number_id, started_at) VALUES ('call-1', 'inbound', '0600', '+33142000000', ?, 1)`).run(num.id);
    const sav = dir.queues.findByName('SAV')!;
    const luc = dir.users.findByUsername('luc')!;
    dir.queues.setLoggedIn(sav.id, luc.id, false);
    const mainVersion = dir.scenarios.findByName('main')!.version;
    const secret = ext.secret;

    const edited = EXAMPLE.replace('name: sav-direct\n    actions:\n      - type: answer\n', 'name: sav-direct\n    actions:\n      - type: answer\n      - type: play\n        prompt: please-hold\n');
    assert.notEqual(edited, EXAMPLE);
    importSiteText(store, REALM, edited);

    assert.equal(dir.extensions.findByNumber('103')!.id, ext.id);
    assert.equal(dir.extensions.findByNumber('103')!.secret, secret, 'secret kept when the file gives none');
    assert.equal((store.db.prepare('SELECT count(*) AS n FROM registrations').get() as { n: number }).n, 1);
    assert.equal((store.db.prepare("SELECT number_id FROM calls WHERE id = 'call-1'").get() as { number_id: number }).number_id, num.id);
    assert.equal(dir.queues.members(sav.id).find((m) => m.userId === luc.id)!.loggedIn, false);
    assert.equal(dir.scenarios.findByName('main')!.version, mainVersion);
    assert.equal(dir.scenarios.findByName('sav-direct')!.version, 2);
    assert.ok(dir.users.verify('admin', 'admin-password'), 'admin not in the file is kept');
    assert.equal(dir.users.findByUsername('admin')!.id, admin.id);

    // A smaller site removes what it does not name (but not the admin).
    importSiteText(store, REALM, 'users:\n  - username: solo\nextensions:\n  - number: "200"\n    user: solo\n');
    assert.deepEqual(dir.users.list().map((u) => u.username).sort(), ['admin', 'marie', 'solo'], 'admins (admin, marie) are kept');
    assert.deepEqual(dir.extensions.list().map((e) => e.number), ['200']);
    assert.equal((store.db.prepare('SELECT count(*) AS n FROM registrations').get() as { n: number }).n, 0);
    assert.equal((store.db.prepare("SELECT number_id FROM calls WHERE id = 'call-1'").get() as { number_id: number | null }).number_id, null, 'history row kept, link cleared');
  } finally {
    store.close();
  }
});

test('an empty file is a valid, empty site; a newer site file version is refused', () => {
  assert.deepEqual(parseSiteFile('').users, []);
  assert.match(errorOf(() => parseSiteFile('version: 2\n')).message, /^version: site file version 2 is newer than this firmware reads \(1\) \(line 1\)/);
  assert.match(errorOf(() => parseSiteFile('- a\n- b\n')).message, /expected a mapping, got a list \(line 1\)/);
});

test('short numbers and SIP usernames may swap between items in one import', () => {
  const store = Store.open(':memory:');
  try {
    importSiteText(store, REALM, EXAMPLE.replace('  - number: "101"\n', '  - number: "101"\n    sip_username: paul\n').replace('  - number: "102"\n', '  - number: "102"\n    sip_username: sophie\n'));
    const dir = new Directory(store.db, REALM);
    const swapped = EXAMPLE.replace('short_number: "99900"', 'short_number: "TMP"').replace('short_number: "99901"', 'short_number: "99900"').replace('short_number: "TMP"', 'short_number: "99901"')
      .replace('  - number: "101"\n', '  - number: "101"\n    sip_username: sophie\n').replace('  - number: "102"\n', '  - number: "102"\n    sip_username: paul\n');
    importSiteText(store, REALM, swapped);
    assert.equal(dir.queues.findByName('Commercial')!.shortNumber, '99901');
    assert.equal(dir.queues.findByName('SAV')!.shortNumber, '99900');
    const e101 = dir.extensions.findByNumber('101')!;
    assert.equal(e101.sipUsername, 'sophie');
    assert.equal(e101.ha1Md5, createHash('md5').update(`sophie:${REALM}:${e101.secret}`).digest('hex'));
  } finally {
    store.close();
  }
});
