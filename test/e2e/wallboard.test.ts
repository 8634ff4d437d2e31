// The wallboard and the notification bell in a real Chromium: an administrator makes a wallboard link; a second
// browser page opens it with no login and shows the queue board live (an agent logs out); a voicemail left by a real
// baresip call rings the bell, whose click opens the voicemail player. Checked with axe-core.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { startRelais, tempDir, ADMIN_AUTH, type RelaisProcess } from '../helpers/relais-process.js';
import { BaresipPhone } from '../helpers/baresip.js';
import { makeSilenceWav } from '../helpers/audio.js';
import { ADMIN } from '../interop/api-support.js';
import { ext, writeSite } from '../interop/call-site.js';
import { axeSerious, launchChromium, screenshot, type Browser } from './browser.js';

let relais: RelaisProcess;
let browser: Browser;
let page: Page;
let dir: string;
const phones: BaresipPhone[] = [];

before(async () => {
  dir = tempDir('e2e-wallboard-');
  const site = writeSite(dir, [ext('401', 'Alice', { user: 'alice' }), ext('402', 'Bob', { voicemail: true, pin: '1234' })], 'en', ['queues:', '  - { name: support, short_number: "300", members: [alice] }'].join('\n'));
  relais = await startRelais({
    dataDir: path.join(dir, 'data'),
    args: ['--site', site, '--domain', '127.0.0.1'],
    env: { RELAIS_RING_TIMEOUT_MS: '2000', RELAIS_VM_SILENCE_MS: '1500', RELAIS_VM_MAX_MS: '20000' },
  });
  browser = await launchChromium();
  page = browser.page;
  page.on('pageerror', (err) => process.stderr.write(`page error: ${err.message}\n`));
});

after(async () => {
  await Promise.all(phones.map((p) => p.stop()));
  await browser?.close();
  await relais?.stop();
});

async function accessible(p: Page, name: string): Promise<void> {
  await screenshot(p, name);
  const v = await axeSerious(p);
  assert.deepEqual(v, [], `${name}: axe finds ${JSON.stringify(v, null, 1)}`);
}

test('wallboard: an administrator makes a link; the TV opens it without a login and follows the queue live', async () => {
  await page.goto(relais.url);
  await page.getByLabel('Username').fill(ADMIN.username);
  await page.getByLabel('Password').fill(ADMIN.password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('heading', { name: 'Dashboard', level: 1 }).waitFor();
  await page.getByRole('navigation').getByRole('link', { name: 'Wallboard', exact: true }).click();
  await page.getByRole('heading', { name: 'Wallboard', level: 1 }).waitFor();
  await page.getByRole('button', { name: 'Create' }).click();
  await page.getByRole('alert').filter({ hasText: 'name' }).waitFor();
  await page.getByLabel('Where the screen is').fill('Hall TV');
  await page.getByRole('button', { name: 'Create' }).click();
  const link = await page.getByRole('status').filter({ hasText: 'Open this link on the TV' }).getByRole('link').getAttribute('href');
  assert.match(link ?? '', /\/wallboard\?token=rwb_/);
  await page.locator('tr[data-wallboard-token="Hall TV"]').waitFor();
  await accessible(page, 'wallboard-01-links');

  // The TV: another browser context, no cookie.
  const b = browser.context.browser();
  const tv = b ? await b.newContext({ viewport: { width: 1920, height: 1080 }, bypassCSP: true }) : undefined;
  const tvPage = tv ? await tv.newPage() : await browser.context.newPage();
  if (!tv) await browser.context.clearCookies();
  await tvPage.goto(link!);
  const panel = tvPage.locator('section[data-queue="support"]');
  await panel.getByText('Alice').waitFor();
  await panel.getByText('Waiting').waitFor();
  await panel.getByText('Service level (20 s)').waitFor();
  await accessible(tvPage, 'wallboard-02-tv');
  const queues = (await (await fetch(`${relais.url}/api/queues`, { headers: ADMIN_AUTH })).json()) as { queues: { id: number }[] };
  const logout = await fetch(`${relais.url}/api/queues/${queues.queues[0]!.id}/logout`, { method: 'POST', headers: { ...ADMIN_AUTH, 'content-type': 'application/json' }, body: JSON.stringify({ user: 'alice' }) });
  assert.equal(logout.status, 200);
  await panel.getByText('logged out').waitFor();
  await tvPage.setViewportSize({ width: 390, height: 844 });
  await accessible(tvPage, 'wallboard-03-tv-phone');
  await tvPage.close();
  await tv?.close();
});

test('notifications: a voicemail left by a real call rings the bell; its click opens the voicemail player', async () => {
  await page.goto(relais.url);
  // The TV's page shared the browser profile and cleared its cookies: log in again when asked.
  await page.getByRole('heading', { name: /^(Dashboard|Log in to Relais)$/, level: 1 }).first().waitFor();
  if (await page.getByLabel('Username').isVisible()) {
    await page.getByLabel('Username').fill(ADMIN.username);
    await page.getByLabel('Password').fill(ADMIN.password);
    await page.getByRole('button', { name: 'Log in' }).click();
  }
  await page.getByRole('heading', { name: 'Dashboard', level: 1 }).waitFor();
  await page.getByRole('button', { name: /^Notifications \(\s*0\s*new\s*\)$/ }).waitFor();
  const tone = path.join(dir, 'speaker.wav');
  const r = spawnSync('sox', ['-n', '-r', '8000', '-c', '1', '-b', '16', tone, 'synth', '6', 'sine', '1000', 'vol', '0.5', 'pad', '0', '40']);
  assert.equal(r.status, 0, r.stderr?.toString());
  const reg = (n: string) => ({ user: n, password: `secret-${n}`, registrar: `127.0.0.1:${relais.sipPort}`, regint: 600 });
  const alice = await BaresipPhone.start({ name: 'wb-alice', account: reg('401'), audioFile: tone });
  phones.push(alice);
  const bob = await BaresipPhone.start({ name: 'wb-bob', account: reg('402'), audioFile: makeSilenceWav(path.join(dir, 'silence.wav'), 30) });
  phones.push(bob);
  await Promise.all([alice.registered(), bob.registered()]);
  await alice.dial('402');
  await bob.waitEvent('CALL_INCOMING');
  await alice.established(15_000);
  await alice.closed(40_000);
  const bell = page.getByRole('button', { name: /^Notifications \(\s*[1-9]\d*\s*new\s*\)$/ });
  await bell.waitFor({ timeout: 20_000 });
  await bell.click();
  const item = page.getByRole('button', { name: /New voicemail from 401/ });
  await item.waitFor();
  await accessible(page, 'notifications-01-bell');
  await item.click();
  await page.getByRole('heading', { name: 'Calls & voicemail', level: 1 }).waitFor();
  // The player of that message has the focus and plays.
  await page.waitForFunction(`(() => {
    const a = document.querySelector('relais-app')?.shadowRoot?.querySelector('page-calls')?.shadowRoot?.activeElement;
    return !!a && a.tagName === 'AUDIO' && !a.paused;
  })()`, undefined, { timeout: 10_000 });
  await screenshot(page, 'notifications-02-voicemail-player');
});

test('sounds: a sound spoken from text in French is made on the box and listed; an empty text is refused next to the field', async () => {
  await page.getByRole('navigation').getByRole('link', { name: 'Sounds', exact: true }).click();
  await page.getByRole('heading', { name: 'Make a sound from text' }).waitFor();
  const form = page.getByRole('form', { name: 'Make a sound from text' });
  await form.getByLabel('Name').fill('Accueil');
  await form.getByRole('button', { name: 'Speak and save' }).click();
  await form.getByRole('alert').waitFor();
  await form.getByLabel('Language').selectOption('fr');
  await form.getByLabel('Text to speak').fill('Bonjour, vous êtes bien au cabinet Martin. Merci de patienter.');
  await form.getByRole('button', { name: 'Speak and save' }).click();
  await page.locator('tr[data-sound="Accueil"]').waitFor({ timeout: 30_000 });
  await accessible(page, 'sounds-tts');
});
