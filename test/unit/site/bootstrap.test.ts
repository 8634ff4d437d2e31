// First start: default site, first-run admin, realm changes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { Store } from '../../../services/storage/index.js';
import { silentLogger } from '../../../services/shared/index.js';
import { bootstrapSite } from '../../../services/site/index.js';
import { tempDir, PROJECT_ROOT } from '../../helpers/relais-process.js';

test('first start: default site applied, admin created with a generated password printed once', () => {
  const store = Store.open(':memory:');
  try {
    const lines: string[] = [];
    const r = bootstrapSite(store, { domain: 'relais.local', siteFile: undefined, adminPassword: undefined }, { log: silentLogger, print: (l) => lines.push(l) });
    assert.equal(lines.length, 1);
    const m = /^First-run admin password for user "admin": (\S{16})$/.exec(lines[0]!);
    assert.ok(m, lines[0]);
    assert.equal(r.generatedAdminPassword, m[1]);
    assert.ok(r.directory.users.verify('admin', m[1]!));
    assert.equal(r.directory.users.findByUsername('admin')!.role, 'admin');
    assert.equal(r.directory.extensions.list().length, 4);
    assert.ok(r.appliedSite?.endsWith('default-site.yaml'));

    const again: string[] = [];
    const r2 = bootstrapSite(store, { domain: 'relais.local', siteFile: undefined, adminPassword: undefined }, { log: silentLogger, print: (l) => again.push(l) });
    assert.deepEqual(again, []);
    assert.equal(r2.appliedSite, undefined);
    assert.equal(r2.directory.extensions.list().length, 4);
  } finally {
    store.close();
  }
});

test('RELAIS_ADMIN_PASSWORD is used and not printed; --site FILE replaces the default site', () => {
  const store = Store.open(':memory:');
  try {
    const lines: string[] = [];
    const r = bootstrapSite(
      store,
      { domain: 'relais.local', siteFile: path.join(PROJECT_ROOT, 'examples/small-office.yaml'), adminPassword: 'from-the-env-1' },
      { log: silentLogger, print: (l) => lines.push(l) },
    );
    assert.deepEqual(lines, []);
    // The example names an admin with a password (marie): no extra first-run admin.
    assert.equal(r.directory.users.findByUsername('admin'), undefined);
    assert.equal(r.directory.numbers.list().length, 2);
  } finally {
    store.close();
  }
  const s2 = Store.open(':memory:');
  try {
    const r = bootstrapSite(s2, { domain: 'relais.local', siteFile: undefined, adminPassword: 'from-the-env-1' }, { log: silentLogger, print: () => assert.fail('nothing printed') });
    assert.ok(r.directory.users.verify('admin', 'from-the-env-1'));
  } finally {
    s2.close();
  }
});

test('a changed domain recomputes every HA1; a missing --site file is a clear error', () => {
  const file = path.join(tempDir(), 'r.db');
  const store = Store.open(file);
  try {
    bootstrapSite(store, { domain: 'a.example', siteFile: undefined, adminPassword: 'password-1' }, { log: silentLogger });
    const r = bootstrapSite(store, { domain: 'b.example', siteFile: undefined, adminPassword: 'password-1' }, { log: silentLogger });
    const e = r.directory.extensions.findByNumber('100')!;
    assert.equal(e.ha1Md5, createHash('md5').update(`100:b.example:${e.secret}`).digest('hex'));
  } finally {
    store.close();
  }
  const s2 = Store.open(':memory:');
  try {
    assert.throws(
      () => bootstrapSite(s2, { domain: 'x', siteFile: '/nonexistent/site.yaml', adminPassword: 'password-1' }, { log: silentLogger }),
      /cannot read site file \/nonexistent\/site.yaml: ENOENT/,
    );
  } finally {
    s2.close();
  }
  assert.ok(fs.existsSync(path.join(PROJECT_ROOT, 'services/site/default-site.yaml')));
});

test('a site emptied on purpose is not refilled with the default site at the next start', async () => {
  const { importSiteText } = await import('../../../services/site/index.js');
  const store = Store.open(':memory:');
  try {
    importSiteText(store, 'relais.local', 'users:\n  - username: only-me\n    role: admin\n    password: password-123\n');
    const r = bootstrapSite(store, { domain: 'relais.local', siteFile: undefined, adminPassword: undefined }, { log: silentLogger, print: () => assert.fail('nothing printed') });
    assert.equal(r.appliedSite, undefined);
    assert.deepEqual(r.directory.users.list().map((u) => u.username), ['only-me']);
    assert.equal(r.directory.extensions.list().length, 0);
  } finally {
    store.close();
  }
});
