// The call inbox in a real Chromium: a real call from a provider (SIPp on a trunk) lands in the inbox; the console
// shows its path, makes a job of it, marks it spam and blocks the caller after a confirmation; the provider's next
// call from that number is refused (603); the job is assigned and done on the jobs page; the blocklist lists the
// number. Every page checked with axe-core, at 1280×720 and at a phone's width.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { startRelais, tempDir, type RelaisProcess } from '../helpers/relais-process.js';
import { runSipp, describeSipp } from '../helpers/sipp.js';
import { freePort } from '../helpers/ports.js';
import { ADMIN } from '../interop/api-support.js';
import { axeSerious, launchChromium, screenshot, type Browser } from './browser.js';

const DID = '+33100000000';
const PROVIDER = '127.0.0.2';
const CALLER = '0611223344';
let relais: RelaisProcess;
let browser: Browser;
let page: Page;
let providerPort: number;

before(async () => {
  providerPort = await freePort();
  const dir = tempDir('e2e-inbox-');
  const site = path.join(dir, 'site.yaml');
  fs.writeFileSync(
    site,
    [
      'version: 1',
      'settings:',
      '  name: inbox e2e',
      '  language: en',
      'users:',
      '  - { username: alice, name: Alice }',
      'extensions:',
      '  - { number: "201", user: alice, secret: secret-201, digest_algorithm: MD5, voicemail: false }',
      'trunks:',
      '  - name: provider',
      `    host: ${PROVIDER}`,
      `    port: ${providerPort}`,
      '    register: false',
      `    allowed_ips: ["${PROVIDER}"]`,
      'numbers:',
      `  - { did: "${DID}", name: Main, trunk: provider, users: [alice] }`,
      '',
    ].join('\n'),
  );
  relais = await startRelais({ dataDir: path.join(dir, 'data'), args: ['--site', site, '--domain', '127.0.0.1'], env: { RELAIS_RING_TIMEOUT_MS: '1000' } });
  browser = await launchChromium();
  page = browser.page;
  page.on('pageerror', (err) => process.stderr.write(`page error: ${err.message}\n`));
});

after(async () => {
  await browser?.close();
  await relais?.stop();
});

/** The provider calls the DID from CALLER; the final status Relais answered. */
async function providerCalls(): Promise<number> {
  const r = await runSipp({
    scenario: 'trunk-uac-final.xml',
    target: `127.0.0.1:${relais.sipPort}`,
    localAddress: PROVIDER,
    localPort: providerPort,
    service: DID,
    keys: { domain: '127.0.0.1', caller: CALLER, caller_name: 'Spammer' },
    timeoutS: 20,
  });
  assert.equal(r.code, 0, `provider: ${describeSipp(r)}\n${relais.output().slice(-2000)}`);
  const m = /SIP\/2\.0 (603|404|407|480|486|200) /.exec(r.messages);
  assert.ok(m, `a final answer in ${r.messages.slice(-1500)}`);
  return Number(m[1]);
}

async function accessible(name: string): Promise<void> {
  await screenshot(page, name);
  const v = await axeSerious(page);
  assert.deepEqual(v, [], `${name}: axe finds ${JSON.stringify(v, null, 1)}`);
}

async function nav(label: string): Promise<void> {
  await page.getByRole('navigation').getByRole('link', { name: label, exact: true }).click();
  await page.getByRole('heading', { name: label, level: 1 }).waitFor();
}

test('inbox: a real call appears; its path is shown; it becomes a job, then spam, and its caller is blocked after a confirmation', async () => {
  // Alice has no phone registered: nobody answers (the number's unavailable handling), the call is new in the inbox.
  const first = await providerCalls();
  assert.ok([200, 480].includes(first), `first call answered ${first}`);
  await page.goto(relais.url);
  await page.getByLabel('Username').fill(ADMIN.username);
  await page.getByLabel('Password').fill(ADMIN.password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('heading', { name: 'Dashboard', level: 1 }).waitFor();
  await nav('Call inbox');
  const row = page.locator('tr[data-inbox]').filter({ hasText: CALLER });
  await row.waitFor();
  await accessible('inbox-01-new-call');

  // The path the call took through the number's handling.
  await row.getByRole('button', { name: `Details ${CALLER}` }).click();
  await page.locator('ol.path li').first().waitFor();

  // Filters: a number that matches nothing empties the list; the status filter finds it again.
  await page.getByLabel('Number', { exact: true }).fill('0999');
  await page.getByText('No call matches these filters.').waitFor();
  await page.getByLabel('Number', { exact: true }).fill(CALLER.slice(0, 6));
  await row.waitFor();

  await row.getByRole('button', { name: `Make a job ${CALLER}` }).click();
  await page.getByRole('status').filter({ hasText: `Job made from the call of ${CALLER}` }).waitFor();
  assert.equal(await row.getByLabel(`Status of the call from ${CALLER}`).inputValue(), 'job');

  await row.getByLabel(`Status of the call from ${CALLER}`).selectOption('spam');
  await page.getByRole('status').filter({ hasText: `Call from ${CALLER}: Spam.` }).waitFor();

  // Blocking is its own action, confirmed first; the confirmation takes the focus.
  await row.getByRole('button', { name: `Block caller ${CALLER}` }).click();
  const confirm = page.getByRole('alertdialog');
  await confirm.getByText(`Block ${CALLER}?`).waitFor();
  await accessible('inbox-02-confirm-block');
  await confirm.getByRole('button', { name: 'Cancel' }).click();
  assert.equal(await row.getByText('blocked', { exact: true }).count(), 0);
  await row.getByRole('button', { name: `Block caller ${CALLER}` }).click();
  await page.keyboard.press('Enter'); // the focused "Yes, block"
  await row.getByText('blocked', { exact: true }).waitFor();
  await page.getByRole('status').filter({ hasText: `${CALLER} is blocked.` }).waitFor();

  // The status filter: spam shows it, new does not.
  await page.getByLabel('Status', { exact: true }).selectOption('new');
  await page.getByText('No call matches these filters.').waitFor();
  await page.getByLabel('Status', { exact: true }).selectOption('spam');
  await row.waitFor();
  await accessible('inbox-03-spam-blocked');

  // The blocklist works on the next call.
  assert.equal(await providerCalls(), 603);
});

test('jobs page: the job made from the call is assigned, noted and done; the blocklist shows the caller', async () => {
  await nav('Jobs & blocklist');
  const job = page.locator('tr[data-job]').filter({ hasText: CALLER });
  await job.waitFor();
  const title = (await job.locator('td').first().innerText()).split('\n')[0]!.trim();
  await job.getByLabel(`Assigned to (job ${title})`).fill('alice');
  await job.getByLabel(`Notes of job ${title}`).fill('Called twice, selling insurance.');
  await job.getByRole('button', { name: `Save ${title}` }).click();
  await page.getByRole('status').filter({ hasText: `Job "${title}" saved.` }).waitFor();
  // A user who does not exist is refused next to the job.
  await job.getByLabel(`Assigned to (job ${title})`).fill('nobody');
  await job.getByRole('button', { name: `Save ${title}` }).click();
  await job.getByRole('alert').filter({ hasText: 'nobody' }).waitFor();
  await job.getByLabel(`Assigned to (job ${title})`).fill('alice');
  await job.getByRole('button', { name: `Mark done ${title}` }).click();
  await page.getByText('No job here.').waitFor();
  await page.getByLabel('Status', { exact: true }).selectOption('done');
  await job.waitFor();
  assert.equal(await job.getByLabel(`Assigned to (job ${title})`).inputValue(), 'alice');
  assert.match(await job.getByLabel(`Notes of job ${title}`).inputValue(), /insurance/);
  await page.locator(`tr[data-blocked="${CALLER}"]`).waitFor();
  // A bad number for the blocklist is shown next to its field.
  const form = page.getByRole('form', { name: 'Block a number' });
  await form.getByLabel('Number').fill('not a number');
  await form.getByRole('button', { name: 'Block caller' }).click();
  await form.getByRole('alert').waitFor();
  await form.getByLabel('Number').fill('0145678901');
  await form.getByRole('button', { name: 'Block caller' }).click();
  await page.locator('tr[data-blocked="0145678901"]').waitFor();
  await accessible('jobs-01');
  await page.setViewportSize({ width: 390, height: 844 });
  await accessible('jobs-02-phone');
  await page.getByRole('button', { name: 'Menu' }).click();
  await page.getByRole('navigation').getByRole('link', { name: 'Call inbox', exact: true }).click();
  await page.locator('tr[data-inbox]').first().waitFor();
  await accessible('inbox-04-phone');
  await page.setViewportSize({ width: 1280, height: 720 });
});
