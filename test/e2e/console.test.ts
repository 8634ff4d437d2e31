// The console in a real Chromium against a real Relais: login, users and extensions, a live call on the dashboard
// while baresip phones call, a sound upload with progress, a recording played, a user without a right, logout —
// every page screenshotted (test/e2e/screenshots) and checked with axe-core (no serious or critical violation).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { startRelais, tempDir, type RelaisProcess } from '../helpers/relais-process.js';
import { BaresipPhone } from '../helpers/baresip.js';
import { makeToneWav } from '../helpers/audio.js';
import { ADMIN, writeApiSite } from '../interop/api-support.js';
import { axeSerious, launchChromium, screenshot, type Browser } from './browser.js';

let relais: RelaisProcess;
let browser: Browser;
let page: Page;
let dir: string;
const phones: BaresipPhone[] = [];

before(async () => {
  dir = tempDir('e2e-');
  relais = await startRelais({ dataDir: path.join(dir, 'data'), args: ['--site', writeApiSite(dir), '--domain', '127.0.0.1'], env: { RELAIS_RECORD_CALLS: 'all' } });
  browser = await launchChromium();
  page = browser.page;
  page.on('pageerror', (err) => process.stderr.write(`page error: ${err.message}\n`));
});

after(async () => {
  await Promise.all(phones.map((p) => p.stop()));
  await browser?.close();
  await relais?.stop();
});

async function accessible(name: string): Promise<void> {
  await screenshot(page, name);
  const v = await axeSerious(page);
  assert.deepEqual(v, [], `${name}: axe finds ${JSON.stringify(v, null, 1)}`);
}

async function nav(label: string): Promise<void> {
  await page.getByRole('navigation').getByRole('link', { name: label, exact: true }).click();
  await page.getByRole('heading', { level: 1 }).first().waitFor();
}

async function login(username: string, password: string): Promise<void> {
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('heading', { name: 'Dashboard', level: 1 }).waitFor();
}

async function phone(name: string, number: string): Promise<BaresipPhone> {
  const p = await BaresipPhone.start({
    name,
    account: { user: number, password: `secret-${number}`, registrar: `127.0.0.1:${relais.sipPort}`, regint: 600 },
    audioFile: makeToneWav(path.join(dir, `${name}.wav`), number === '201' ? 440 : 880, 60),
  });
  phones.push(p);
  return p;
}

test('log in: a wrong password is shown next to the form, the right one opens the dashboard', async () => {
  await page.goto(relais.url);
  await page.getByRole('heading', { name: 'Log in to Relais' }).waitFor();
  await accessible('01-login');
  await page.getByLabel('Username').fill('admin');
  await page.getByLabel('Password').fill('wrong-password');
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('alert').filter({ hasText: 'wrong' }).waitFor();
  await page.getByLabel('Password').fill(ADMIN.password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('heading', { name: 'Dashboard', level: 1 }).waitFor();
  await page.getByText('Live', { exact: true }).waitFor();
  await page.getByText('No call in progress.').waitFor();
  await accessible('02-dashboard');
});

test('users and extensions: create a user with one right and an extension (its secret shown once)', async () => {
  await nav('Users & extensions');
  const form = page.getByRole('form', { name: 'New user' });
  await form.getByLabel('Username').fill('dora');
  await form.getByLabel('Full name').fill('Dora Martin');
  await form.getByLabel('Password').fill('dora-password');
  await form.getByLabel('Call history').check();
  await form.getByRole('button', { name: 'Create' }).click();
  await page.locator('tr[data-user="dora"]').waitFor();
  // A bad number is refused next to its field.
  const ext = page.getByRole('form', { name: 'New extension' });
  await ext.getByLabel('Number').fill('7');
  await ext.getByRole('button', { name: 'Create' }).click();
  await ext.getByRole('alert').waitFor();
  await ext.getByLabel('Number').fill('270');
  await ext.getByLabel('Display name').fill('Dora desk');
  await ext.getByLabel('User').selectOption({ label: 'dora' });
  await ext.getByRole('button', { name: 'Create' }).click();
  await page.locator('tr[data-extension="270"]').waitFor();
  const notice = await page.getByRole('status').filter({ hasText: 'extension 270' }).textContent();
  assert.match(notice ?? '', /SIP secret of extension 270: [A-Za-z0-9]{16}/);
  await accessible('03-users');
});

test('dashboard: a call between two baresip phones appears live and goes when they hang up', async () => {
  await nav('Dashboard');
  const a = await phone('e2e201', '201');
  const b = await phone('e2e202', '202');
  await Promise.all([a.registered(), b.registered()]);
  await page.locator('td', { hasText: /^202$/ }).first().waitFor();
  await a.dial('202');
  const row = page.locator('tr[data-call]');
  await row.first().waitFor();
  await row.filter({ hasText: 'ringing' }).first().waitFor();
  await b.acceptIncoming();
  await Promise.all([a.established(), b.established()]);
  await row.filter({ hasText: 'in conversation' }).first().waitFor();
  // Two seconds of conversation so the recording has something to play.
  await page.locator('tr[data-call] td', { hasText: /^0:0[2-9]$/ }).first().waitFor();
  await accessible('04-dashboard-live-call');
  await a.hangup();
  await Promise.all([a.closed(), b.closed()]);
  await page.getByText('No call in progress.').waitFor();
});

test('sounds: an MP3 uploads with a progress bar; hold music shows the royalties notice', async () => {
  const wav = makeToneWav(path.join(dir, 'moh.wav'), 523, 25);
  const mp3 = path.join(dir, 'Jazz.mp3');
  const r = spawnSync('ffmpeg', ['-y', '-loglevel', 'error', '-i', wav, '-b:a', '128k', '-ar', '44100', mp3]);
  assert.equal(r.status, 0, r.stderr?.toString());
  await nav('Sounds');
  await page.getByText('No sound uploaded yet.').waitFor();
  await page.getByLabel('Kind').selectOption('moh');
  await page.getByText(/responsible for its lawful use/).waitFor();
  await page.getByLabel('File').setInputFiles(mp3);
  // A slow link (200 KB/s) so the progress can be seen on loopback.
  const cdp = await browser.context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 20, downloadThroughput: -1, uploadThroughput: 200 * 1024 });
  await page.getByRole('button', { name: 'Upload' }).click();
  const progress = page.locator('progress#upload-progress');
  await progress.waitFor();
  await page.waitForFunction(`(() => {
    const p = document.querySelector('relais-app')?.shadowRoot?.querySelector('page-sounds')?.shadowRoot?.querySelector('progress');
    return !!p && Number(p.getAttribute('value')) > 0 && Number(p.getAttribute('value')) < 100;
  })()`);
  await screenshot(page, '05-sounds-uploading');
  await page.getByText('Sound "Jazz" added.').waitFor({ timeout: 30_000 });
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
  await page.locator('tr[data-sound="Jazz"]').waitFor();
  await accessible('06-sounds');
});

test('calls: the recorded call is in the history and plays, with seek', async () => {
  await nav('Calls & voicemail');
  const audio = page.locator('tr[data-call] audio').first();
  await audio.waitFor();
  type Audio = { muted: boolean; duration: number; currentTime: number; play(): Promise<void>; pause(): void; addEventListener(t: string, f: (v: unknown) => void, o: { once: boolean }): void };
  const played = await audio.evaluate(async (el: Audio) => {
    el.muted = true;
    await el.play();
    await new Promise((r) => el.addEventListener('timeupdate', r, { once: true }));
    el.currentTime = 1;
    await new Promise((r) => el.addEventListener('seeked', r, { once: true }));
    const at = el.currentTime;
    el.pause();
    return { duration: el.duration, at };
  });
  assert.ok(played.duration > 1.5, `recording lasts ${played.duration} s`);
  assert.ok(played.at >= 0.9, `seeked to ${played.at}`);
  const download = await page.locator('tr[data-call] a[download]').first().getAttribute('href');
  assert.match(download ?? '', /^\/api\/calls\/.+\/recording$/);
  await accessible('07-calls');
});

test('settings, system and trunks pages render, in French too, and at a phone\'s width', async () => {
  await nav('Trunks');
  await page.getByText('No trunk yet').first().waitFor();
  await accessible('08-trunks');
  await nav('Queues');
  await page.getByText('No queue yet.').waitFor();
  await accessible('08b-queues');
  await nav('Callbacks');
  await page.getByText('No callback to make.').waitFor();
  await accessible('08c-callbacks');
  await nav('System');
  await page.getByRole('link', { name: 'Download a backup' }).waitFor();
  await accessible('09-system');
  await nav('Settings');
  await page.getByLabel('Office name').fill('Cabinet Martin');
  await page.getByLabel('Time zone').selectOption('Europe/Paris');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByRole('status').filter({ hasText: 'Saved' }).waitFor();
  await accessible('10-settings');
  await page.getByLabel('Language').first().selectOption('fr');
  await page.getByRole('heading', { name: 'Réglages', level: 1 }).waitFor();
  await nav('Tableau de bord');
  await accessible('11-dashboard-fr');
  await page.getByLabel('Langue').first().selectOption('en');
  await page.setViewportSize({ width: 390, height: 844 });
  // At a phone's width the menu is behind its button.
  await page.getByRole('button', { name: 'Menu' }).click();
  await nav('Dashboard');
  await accessible('12-dashboard-phone');
  await page.setViewportSize({ width: 1280, height: 720 });
});

test('a user without a right: the module is hidden and its API answers 403; logout', async () => {
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.getByRole('heading', { name: 'Log in to Relais' }).waitFor();
  await login('dora', 'dora-password');
  const links = await page.getByRole('navigation').getByRole('link').allTextContents();
  assert.ok(links.includes('Calls & voicemail'), links.join(', '));
  for (const hidden of ['Sounds', 'Users & extensions', 'System', 'Trunks', 'Scenarios', 'Queues', 'Callbacks']) assert.ok(!links.includes(hidden), `${hidden} hidden: ${links.join(', ')}`);
  const status = await page.evaluate(async () => (await fetch('/api/sounds')).status);
  assert.equal(status, 403);
  await accessible('13-dashboard-limited-user');
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.getByRole('heading', { name: 'Log in to Relais' }).waitFor();
  assert.equal(await page.evaluate(async () => (await fetch('/api/session')).status), 401);
});
