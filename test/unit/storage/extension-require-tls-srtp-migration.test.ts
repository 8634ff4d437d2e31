// Migration 202612081501-extension-require-tls-srtp, and the setting through the repository and the site file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { MIGRATIONS, Store } from '../../../services/storage/index.js';
import { Directory } from '../../../services/directory/index.js';
import { exportSiteText, importSiteText, SiteFileError } from '../../../services/site/index.js';
import { tempDir } from '../../helpers/relais-process.js';

test('202612081501-extension-require-tls-srtp: existing extensions get false; the flag round-trips through repository and site file', () => {
  const i = MIGRATIONS.findIndex((m) => m.version === '202612081501');
  assert.ok(i > 0);
  const file = path.join(tempDir('migration-'), 'old.db');
  const old = Store.open(file, { migrations: MIGRATIONS.slice(0, i) });
  old.db
    .prepare("INSERT INTO extensions (number, sip_username, secret, ha1_md5, ha1_sha256, created_at) VALUES ('201', '201', 'secret-201', 'x', 'y', 1)")
    .run();
  old.close();
  const s = Store.open(file);
  try {
    const dir = new Directory(s.db, 'office.test');
    const e = dir.extensions.findByNumber('201')!;
    assert.equal(e.requireTlsSrtp, false);
    assert.equal(dir.extensions.update(e.id, { requireTlsSrtp: true }).requireTlsSrtp, true);
    const text = exportSiteText(s, 'office.test');
    assert.match(text, /require_tls_srtp: true/);
    const t = Store.open(':memory:');
    try {
      importSiteText(t, 'office.test', text);
      assert.equal(new Directory(t.db, 'office.test').extensions.findByNumber('201')?.requireTlsSrtp, true);
      assert.throws(
        () => importSiteText(t, 'office.test', text.replace('require_tls_srtp: true', 'require_tls_srtp: maybe')),
        (err: unknown) => err instanceof SiteFileError && /require_tls_srtp/.test(err.message),
      );
    } finally {
      t.close();
    }
  } finally {
    s.close();
  }
});
