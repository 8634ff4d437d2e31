// The injected Clock where time decides behaviour outside the call path (docs/development.md): the holidays year
// rolls over at the site's New Year, a site import and the users it creates are dated by the clock, a backup's
// manifest too, and an uploaded certificate expires by the clock, not by the machine's date.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Store } from '../../../services/storage/index.js';
import { Directory } from '../../../services/directory/index.js';
import { importSiteText } from '../../../services/site/index.js';
import { SITE_APPLIED_KEY } from '../../../services/site/apply.js';
import { CalendarRepository, SiteCalendar } from '../../../services/scenario/calendar/index.js';
import { createBackup } from '../../../services/backup/index.js';
import { ManualClock, validateCertificatePair } from '../../../services/shared/index.js';
import { tempDir } from '../../helpers/relais-process.js';

test('holidays year: it is the site zone that says when the year turns, read from the injected clock', () => {
  const store = Store.open(':memory:');
  try {
    // 23:30 UTC on New Year's Eve: already 2027 in Paris, still 2026 in New York.
    const clock = new ManualClock(Date.UTC(2026, 11, 31, 23, 30));
    importSiteText(store, 'office.test', 'settings:\n  timezone: Europe/Paris\n  holidays: FR\n', 'site.yaml', clock);
    const cal = new SiteCalendar(new CalendarRepository(store.db), clock);
    assert.equal(cal.currentYear(), 2027);
    importSiteText(store, 'office.test', 'settings:\n  timezone: America/New_York\n  holidays: US\n', 'site.yaml', clock);
    assert.equal(cal.currentYear(), 2026);
    clock.advance(5.5 * 3600_000 - 1);
    assert.equal(cal.currentYear(), 2026, 'one millisecond before midnight in New York');
    clock.advance(1);
    assert.equal(cal.currentYear(), 2027, 'New York reaches 2027 five and a half hours later');
  } finally {
    store.close();
  }
});

test('site import: the applied-at setting and the users it creates carry the injected clock time', () => {
  const store = Store.open(':memory:');
  try {
    const at = Date.UTC(2030, 0, 2, 3, 4, 5);
    importSiteText(store, 'office.test', 'users:\n  - { username: ann, name: Ann }\n', 'site.yaml', new ManualClock(at));
    const dir = new Directory(store.db, 'office.test');
    assert.equal(dir.settings.get(SITE_APPLIED_KEY), new Date(at).toISOString());
    assert.equal(dir.users.list().find((u) => u.username === 'ann')?.createdAt, at);
  } finally {
    store.close();
  }
});

test('backup: the manifest is dated by the clock given', async () => {
  const dataDir = tempDir('clock-backup-');
  Store.open(path.join(dataDir, 'relais.db')).close();
  const at = Date.UTC(2031, 5, 6, 7, 8, 9);
  const r = await createBackup(dataDir, path.join(tempDir('clock-backup-out-'), 'b.tar.gz'), { now: () => at });
  assert.equal(r.manifest.createdAt, new Date(at).toISOString());
});

test('uploaded certificate: expiry is judged at the time given (the injected clock), not the machine date', () => {
  const dir = tempDir('clock-cert-');
  const key = path.join(dir, 'key.pem');
  const cert = path.join(dir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-subj', '/CN=clock.test', '-keyout', key, '-out', cert], { stdio: 'ignore' });
  const certPem = fs.readFileSync(cert, 'utf8');
  const keyPem = fs.readFileSync(key, 'utf8');
  assert.ok(validateCertificatePair(certPem, keyPem, Date.now()));
  assert.throws(() => validateCertificatePair(certPem, keyPem, Date.now() + 10 * 86_400_000), /expired/);
});
