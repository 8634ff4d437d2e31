// The console's security switches in a real Chromium: "Require TLS + SRTP" per extension (the API says so and the
// extension's phone file moves to SIP over TLS with SRTP at once), "Redirect HTTP to HTTPS" in the settings (plain
// HTTP then answers 308 to the HTTPS port, phones' provisioning stays on HTTP; turned off again from the console
// reached over HTTPS) and the phones page's "every phone on TLS" (SRTP offered); each page checked with axe-core.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { ADMIN_AUTH, startRelais, tempDir, type RelaisProcess } from '../helpers/relais-process.js';
import { ADMIN } from '../interop/api-support.js';
import { ext, writeSite } from '../interop/call-site.js';
import { seedBoxCertificate } from '../interop/tls-support.js';
import { assertAccessible, launchChromium, logIn, openPage, type Browser } from './browser.js';

const PHONE = '001565aa0301';
const OTHER_PHONE = '001565aa0302';
let relais: RelaisProcess;
let browser: Browser;
let page: Page;
let httpsPort: number;

before(async () => {
  const dir = tempDir('e2e-security-');
  const site = writeSite(dir, [ext('201', 'Anne'), ext('202', 'Bert')], 'en', ['phones:', `  - mac: "${PHONE}"`, '    vendor: yealink', '    extension: "201"', `  - mac: "${OTHER_PHONE}"`, '    vendor: yealink', '    extension: "202"'].join('\n'));
  const dataDir = path.join(dir, 'data');
  seedBoxCertificate(dataDir);
  relais = await startRelais({ dataDir, args: ['--site', site, '--domain', '127.0.0.1', '--https-port', '0', '--sip-tls-port', '0'] });
  const health = (await (await fetch(`${relais.url}/healthz`, { headers: ADMIN_AUTH })).json()) as { modules: Record<string, { detail?: Record<string, unknown> }> };
  httpsPort = Number(health.modules['api']?.detail?.['httpsPort']);
  assert.ok(httpsPort > 0);
  browser = await launchChromium(undefined, { ignoreHTTPSErrors: true });
  page = browser.page;
  page.on('pageerror', (err) => process.stderr.write(`page error: ${err.message}\n`));
});

after(async () => {
  await browser?.close();
  await relais?.stop();
});

async function extension(number: string): Promise<{ requireTlsSrtp: boolean }> {
  const r = (await (await fetch(`${relais.url}/api/extensions?limit=100`, { headers: ADMIN_AUTH })).json()) as { extensions: { number: string; requireTlsSrtp: boolean }[] };
  return r.extensions.find((e) => e.number === number)!;
}

test('Require TLS + SRTP: the switch of extension 201 turns it on; the API and the phone\'s file follow at once', async () => {
  await page.goto(relais.url);
  await logIn(page, ADMIN.username, ADMIN.password);
  await openPage(page, 'Users & extensions');
  const sw = page.getByRole('switch', { name: 'Require TLS + SRTP 201' });
  assert.equal(await sw.isChecked(), false);
  const saved = page.waitForResponse((r) => r.request().method() === 'PATCH' && r.url().includes('/api/extensions/'));
  await sw.check();
  assert.equal((await saved).status(), 200);
  assert.equal((await extension('201')).requireTlsSrtp, true);
  assert.equal((await extension('202')).requireTlsSrtp, false);
  const file = await (await fetch(`${relais.url}/provisioning/${PHONE}.cfg`)).text();
  assert.match(file, /^account\.1\.sip_server\.1\.transport_type = 2$/m);
  assert.match(file, /^account\.1\.srtp_encryption = 2$/m);
  // Still on after the list reloads (a live config change event re-reads it).
  await page.reload();
  await page.getByRole('switch', { name: 'Require TLS + SRTP 201' }).waitFor();
  assert.equal(await page.getByRole('switch', { name: 'Require TLS + SRTP 201' }).isChecked(), true);
  await assertAccessible(page, 'security-01-extensions');
});

test('Redirect HTTP to HTTPS: saved from the settings, plain HTTP answers 308 to the HTTPS port; turned off again over HTTPS', async () => {
  await openPage(page, 'Settings');
  const sw = page.getByRole('switch', { name: 'Redirect HTTP to HTTPS' });
  assert.equal(await sw.isChecked(), false);
  await sw.check();
  await page.getByRole('button', { name: 'Save' }).first().click();
  await page.getByRole('status').filter({ hasText: 'Saved' }).waitFor();
  await assertAccessible(page, 'security-02-settings');
  const redirected = await fetch(`${relais.url}/settings`, { redirect: 'manual' });
  assert.equal(redirected.status, 308);
  assert.equal(redirected.headers.get('location'), `https://127.0.0.1:${httpsPort}/settings`);
  // Phones keep fetching over plain HTTP.
  assert.equal((await fetch(`${relais.url}/provisioning/${PHONE}.cfg`, { redirect: 'manual' })).status, 200);
  // The browser follows the redirect to the console over HTTPS (the box's certificate), logs in there, turns it off.
  await page.goto(`${relais.url}/`);
  assert.ok(page.url().startsWith(`https://127.0.0.1:${httpsPort}/`), page.url());
  if (await page.getByLabel('Username').isVisible().catch(() => false)) await logIn(page, ADMIN.username, ADMIN.password);
  await openPage(page, 'Settings');
  const again = page.getByRole('switch', { name: 'Redirect HTTP to HTTPS' });
  assert.equal(await again.isChecked(), true);
  await again.uncheck();
  await page.getByRole('button', { name: 'Save' }).first().click();
  await page.getByRole('status').filter({ hasText: 'Saved' }).waitFor();
  assert.equal((await fetch(`${relais.url}/settings`, { redirect: 'manual' })).status, 200);
});

test('Phones: "Move every phone to SIP over TLS" makes the phone of an extension without the requirement TLS with SRTP optional', async () => {
  await openPage(page, 'Phones');
  const sw = page.getByLabel(/Move every phone to SIP over TLS/);
  assert.equal(await sw.isChecked(), false);
  const saved = page.waitForResponse((r) => r.request().method() !== 'GET' && r.url().includes('/api/phones/settings'));
  await sw.check();
  assert.equal((await saved).status(), 200);
  await assertAccessible(page, 'security-03-phones');
  const file = await (await fetch(`${relais.url}/provisioning/${OTHER_PHONE}.cfg`)).text();
  assert.match(file, /^account\.1\.sip_server\.1\.transport_type = 2$/m);
  assert.match(file, /^account\.1\.srtp_encryption = 1$/m, 'SRTP offered, not required: extension 202 does not require it');
});
