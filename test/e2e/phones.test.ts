// The console's phone page in a real Chromium: a phone that asked for its file appears as unassigned, gets the next
// free extension with one click, and the plug-and-play switch changes the setting; checked with axe-core.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { startRelais, tempDir, type RelaisProcess } from '../helpers/relais-process.js';
import { ADMIN } from '../interop/api-support.js';
import { ext, writeSite } from '../interop/call-site.js';
import { axeSerious, launchChromium, screenshot, type Browser } from './browser.js';

const MAC = '805ec0aa0001';
let relais: RelaisProcess;
let browser: Browser;
let page: Page;

before(async () => {
  const dir = tempDir('e2e-phones-');
  const site = writeSite(dir, [ext('201', 'Anne'), ext('202', 'Bert')], 'en', ['phones:', '  - mac: "001565aa0002"', '    vendor: yealink', '    extension: "201"'].join('\n'));
  relais = await startRelais({ dataDir: path.join(dir, 'data'), args: ['--site', site, '--domain', '127.0.0.1'] });
  browser = await launchChromium();
  page = browser.page;
  page.on('pageerror', (err) => process.stderr.write(`page error: ${err.message}\n`));
});

after(async () => {
  await browser?.close();
  await relais?.stop();
});

test('phones page: an unknown phone shows as unassigned, "Next free extension" gives it 202, plug-and-play can be turned off', async () => {
  // What a Yealink does at boot: ask for its file (404: unknown), which puts it in the inventory.
  const seen = await fetch(`${relais.url}/provisioning/${MAC}.cfg`, { headers: { 'User-Agent': 'Yealink SIP-T54W 96.85.0.5' } });
  assert.equal(seen.status, 404);
  await page.goto(relais.url);
  await page.getByLabel('Username').fill(ADMIN.username);
  await page.getByLabel('Password').fill(ADMIN.password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('heading', { name: 'Dashboard', level: 1 }).waitFor();
  await page.getByRole('navigation').getByRole('link', { name: 'Phones', exact: true }).click();
  await page.getByRole('heading', { name: 'Phones', level: 1 }).waitFor().catch(async (err: unknown) => {
    await screenshot(page, 'phones-00-failed');
    throw new Error(`${String(err)}\n${(await page.locator('main').innerText().catch(() => '')).slice(0, 500)}`);
  });
  const row = page.getByRole('row').filter({ hasText: MAC });
  await row.getByText('Unassigned', { exact: true }).waitFor();
  await row.getByText('T54W').waitFor();
  await screenshot(page, 'phones-01-unassigned');
  assert.deepEqual(await axeSerious(page), []);
  await row.getByRole('button', { name: 'Next free extension' }).click();
  await row.getByText('Provisioned', { exact: true }).waitFor();
  assert.equal(await row.getByLabel(`Extension ${MAC}`).inputValue(), '202');
  const pnp = page.getByLabel(/Answer SIP plug-and-play/);
  assert.equal(await pnp.isChecked(), true);
  await pnp.uncheck();
  for (let i = 0; i < 50; i++) {
    const s = (await (await fetch(`${relais.url}/api/phones/settings`, { headers: { Authorization: `Basic ${Buffer.from(`${ADMIN.username}:${ADMIN.password}`).toString('base64')}` } })).json()) as { pnp: boolean };
    if (!s.pnp) break;
    await page.waitForTimeout(100);
  }
  const after = (await (await fetch(`${relais.url}/api/phones/settings`, { headers: { Authorization: `Basic ${Buffer.from(`${ADMIN.username}:${ADMIN.password}`).toString('base64')}` } })).json()) as { pnp: boolean };
  assert.equal(after.pnp, false);
  await screenshot(page, 'phones-02-assigned');
});
