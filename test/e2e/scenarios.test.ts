// The console's configuration pages in a real Chromium against a real Relais: a number's settings (an error next to
// its field, then saved) and its forward-then-smart-answering behaviour; a scenario built in the editor (actions
// added, reordered by keyboard and by drag, a time condition) run in the simulator panel (the path shown, a skipped
// step with its reason); version restore; services; override and holidays; a user without the scenarios right.
// Every page is screenshotted (test/e2e/screenshots) and checked with axe-core.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { startRelais, tempDir, ADMIN_AUTH, type RelaisProcess } from '../helpers/relais-process.js';
import { ADMIN } from '../interop/api-support.js';
import { SCREENSHOTS, assertAccessible, launchChromium, logIn, openPage, screenshot, type Browser } from './browser.js';

const MAIN = '+33100000001';
const SUPPORT = '+33100000002';
let relais: RelaisProcess;
let browser: Browser;
let page: Page;

function writeSite(dir: string): string {
  const file = path.join(dir, 'site.yaml');
  fs.writeFileSync(
    file,
    [
      'version: 1',
      'settings:',
      '  name: scenarios e2e',
      '  language: en',
      '  timezone: Europe/Paris',
      '  holidays: FR',
      'service_categories:',
      '  - name: { fr: Commercial, en: Sales }',
      '    services:',
      '      - name: { fr: Devis, en: Quote }',
      'users:',
      '  - username: sophie',
      '    name: Sophie',
      '    password: sophie-password',
      '    rights: [numbers, history]',
      '  - username: marc',
      '    name: Marc',
      'extensions:',
      '  - number: "201"',
      '    secret: secret-201',
      '    user: sophie',
      '  - number: "202"',
      '    secret: secret-202',
      '    user: marc',
      'queues:',
      '  - name: Sales',
      '    short_number: "500"',
      '    members: [marc]',
      'numbers:',
      `  - did: "${MAIN}"`,
      '    name: Main line',
      `  - did: "${SUPPORT}"`,
      '    name: Support line',
      '',
    ].join('\n'),
  );
  return file;
}

async function api<T>(p: string): Promise<T> {
  const res = await fetch(`${relais.url}/api${p}`, { headers: ADMIN_AUTH });
  assert.equal(res.status, 200, `GET ${p}: ${res.status}`);
  return (await res.json()) as T;
}

before(async () => {
  const dir = tempDir('e2e-scen-');
  relais = await startRelais({ dataDir: path.join(dir, 'data'), args: ['--site', writeSite(dir), '--domain', '127.0.0.1'] });
  browser = await launchChromium();
  page = browser.page;
  page.on('pageerror', (err) => process.stderr.write(`page error: ${err.message}\n`));
});

after(async () => {
  await browser?.close();
  await relais?.stop();
});

const accessible = (name: string): Promise<void> => assertAccessible(page, name);
const nav = (label: string): Promise<void> => openPage(page, label);
const login = (username: string, password: string): Promise<void> => logIn(page, username, password);

/** Drags with the mouse in small steps (an HTML5 drag starts after the pointer moves a few pixels). */
async function dragOnto(source: Locator, target: Locator): Promise<void> {
  await target.scrollIntoViewIfNeeded();
  const a = (await source.boundingBox())!;
  const b = (await target.boundingBox())!;
  await page.mouse.move(a.x + a.width / 2, a.y + a.height / 2);
  await page.mouse.down();
  await page.mouse.move(a.x + a.width / 2, a.y + a.height / 2 + 8, { steps: 4 });
  await page.mouse.move(b.x + b.width / 2, b.y + b.height / 2, { steps: 10 });
  await page.mouse.up();
}

/** The console's state read until it is the one wanted (a render follows each click), at most 10 s. */
async function eventually<T>(read: () => Promise<T>, want: T): Promise<void> {
  let got = await read();
  for (let i = 0; i < 100 && JSON.stringify(got) !== JSON.stringify(want); i++) {
    await page.waitForTimeout(100);
    got = await read();
  }
  assert.deepEqual(got, want);
}

const actionTypes = (): Promise<(string | null)[]> => page.locator('li.action').evaluateAll((els) => els.map((e) => e.getAttribute('data-action')));

const numberCard = (did: string): Locator => page.locator(`section[data-number="${did}"]`);
const action = (p: string): Locator => page.locator(`li.action[data-path="${p}"]`);

interface NumberView {
  did: string;
  mode?: string;
  record?: boolean;
  ring_mode?: string;
  behaviour?: string;
  scenario?: string;
  forward_to?: string;
  offline_action?: { type: string; to?: string };
}

test('numbers: an error is shown next to its field; settings saved; forward then smart answering after 20 s', async () => {
  await page.goto(relais.url);
  await login(ADMIN.username, ADMIN.password);
  await nav('Numbers');
  const card = numberCard(MAIN);
  const settings = card.getByRole('form', { name: `Settings of ${MAIN}` });
  await settings.getByLabel('Forward all incoming calls').check();
  // No number to forward to: the API names the field, the console shows it there.
  await settings.getByRole('button', { name: 'Save' }).click();
  await settings.locator('#n1-forward-to-error, [id$="-forward-to-error"]').first().waitFor();
  await screenshot(page, 'scen-01-number-error');
  await settings.getByLabel('Receive incoming calls').check();
  await settings.getByLabel('Record phone calls').check();
  await settings.getByLabel('Longest idle').check();
  await settings.getByLabel('Forward the call').check();
  await settings.getByLabel('Forward to').fill('0611111111');
  await settings.getByRole('button', { name: 'Save' }).click();
  await card.getByRole('status').filter({ hasText: 'Saved: applies to the next call.' }).waitFor();
  let n = (await api<{ numbers: NumberView[] }>('/numbers')).numbers.find((x) => x.did === MAIN)!;
  assert.equal(n.record, true);
  assert.equal(n.ring_mode, 'longest_idle');
  assert.deepEqual(n.offline_action, { type: 'forward', to: '0611111111' });

  const behaviour = card.getByRole('form', { name: `Answering behaviour of ${MAIN}` });
  await behaviour.getByLabel('Forward, then smart answering if no answer').check();
  await behaviour.getByLabel('Forward to').fill('0612345678');
  await behaviour.getByLabel('Seconds before smart answering').fill('20');
  await behaviour.getByRole('button', { name: 'Apply this behaviour' }).click();
  await card.getByRole('status').filter({ hasText: 'Scenario "33100000001-answering" generated' }).waitFor();
  await card.getByText('Current: Forward, then smart answering if no answer').waitFor();
  n = (await api<{ numbers: NumberView[] }>('/numbers')).numbers.find((x) => x.did === MAIN)!;
  assert.equal(n.behaviour, 'forward_then_smart');
  assert.equal(n.scenario, '33100000001-answering');
  const scenarios = (await api<{ scenarios: { name: string; actions: Record<string, unknown>[] }[] }>('/scenarios')).scenarios;
  const generated = scenarios.find((s) => s.name === '33100000001-answering')!;
  assert.deepEqual(generated.actions[0], { type: 'transfer', to: '0612345678', ring_time: 20 });
  assert.ok(generated.actions.some((a) => a.type === 'voicemail'), 'smart answering follows the forward');
  await accessible('scen-02-numbers');
});

test('scenario editor: build a scenario with a time condition, reorder, save; the simulator shows the path', async () => {
  await nav('Scenarios');
  await page.getByLabel('Name of a new scenario').fill('hours');
  await page.getByRole('button', { name: 'New scenario' }).click();
  await page.getByRole('heading', { name: 'Scenario hours (version 1)' }).waitFor();
  const add = async (type: string): Promise<void> => {
    await page.getByLabel('New action in Actions').selectOption(type);
    await page.getByRole('button', { name: 'Add the new action to Actions' }).click();
  };
  await add('voicemail');
  await add('transfer');
  await add('distribute');
  // Distribute carries its hint; then it goes again.
  await action('actions[3]').getByText('If the queue is closed, the scenario goes on to the next action.').waitFor();
  await action('actions[3]').getByRole('button', { name: 'Remove action 4' }).click();
  // Keyboard: the transfer goes before the voicemail.
  await action('actions[2]').getByRole('button', { name: 'Move action 3 up' }).focus();
  await page.keyboard.press('Enter');
  await eventually(actionTypes, ['answer', 'transfer', 'voicemail']);
  // Drag: the voicemail (now third) onto the first place, then back by keyboard.
  // (A tall window: both ends of the drag on screen.)
  await page.setViewportSize({ width: 1280, height: 1400 });
  await dragOnto(action('actions[2]').locator('.handle'), action('actions[0]'));
  await page.setViewportSize({ width: 1280, height: 720 });
  await eventually(actionTypes, ['voicemail', 'answer', 'transfer']);
  await action('actions[0]').getByRole('button', { name: 'Move action 1 down' }).click();
  await action('actions[1]').getByRole('button', { name: 'Move action 2 down' }).click();
  await eventually(actionTypes, ['answer', 'transfer', 'voicemail']);
  const transfer = action('actions[1]');
  await transfer.getByLabel('Number to dial').fill('0600000001');
  await transfer.getByLabel('Only when…').check();
  for (const d of ['Mon', 'Tue', 'Wed', 'Thu', 'Fri']) await transfer.getByLabel(d, { exact: true }).check();
  await transfer.getByLabel('Times (HH:MM-HH:MM, comma-separated)').fill('09:00-12:00, 14:00-18:00');
  await transfer.getByLabel('Times (HH:MM-HH:MM, comma-separated)').press('Tab');
  // An impossible condition is refused on the field's action.
  await transfer.getByLabel('Dates (YYYY-MM-DD, comma-separated)').fill('2026-02-30');
  await transfer.getByLabel('Dates (YYYY-MM-DD, comma-separated)').press('Tab');
  await page.getByRole('button', { name: 'Save as a new version' }).click();
  await transfer.getByRole('alert').first().waitFor();
  await screenshot(page, 'scen-03-scenario-error');
  await transfer.getByLabel('Dates (YYYY-MM-DD, comma-separated)').fill('');
  await transfer.getByLabel('Dates (YYYY-MM-DD, comma-separated)').press('Tab');
  await page.getByRole('button', { name: 'Save as a new version' }).click();
  await page.getByRole('status').filter({ hasText: 'Saved as version 2' }).waitFor();
  const hours = (await api<{ scenarios: { name: string; actions: unknown[] }[] }>('/scenarios')).scenarios.find((s) => s.name === 'hours')!;
  assert.deepEqual(hours.actions, [
    { type: 'answer' },
    { type: 'transfer', to: '0600000001', when: { weekdays: ['mon', 'tue', 'wed', 'thu', 'fri'], times: ['09:00-12:00', '14:00-18:00'] } },
    { type: 'voicemail' },
  ]);
  await accessible('scen-04-scenario-editor');

  // The support line runs it (set on the numbers page).
  await nav('Numbers');
  const settings = numberCard(SUPPORT).getByRole('form', { name: `Settings of ${SUPPORT}` });
  await settings.getByLabel('IVR (scenario)').selectOption('hours');
  await settings.getByRole('button', { name: 'Save' }).click();
  await numberCard(SUPPORT).getByRole('status').filter({ hasText: 'Saved' }).waitFor();

  await nav('Scenarios');
  const sim = page.getByRole('form', { name: 'Simulator' });
  await sim.getByLabel('Number called').selectOption(SUPPORT);
  await sim.getByLabel('Caller').fill('0699999999');
  await sim.getByLabel('These users only').check();
  await sim.getByLabel('marc', { exact: true }).check();
  // Saturday morning: the transfer's condition does not match.
  await sim.getByLabel('Time').fill('2026-12-05T10:00');
  await sim.getByRole('button', { name: 'Simulate' }).click();
  const result = page.getByRole('region', { name: 'Path of the call' });
  await result.locator('li[data-type="voicemail"]').waitFor();
  const steps = await result.locator('ol.path > li').evaluateAll((els) => els.map((e) => `${e.getAttribute('data-type')}: ${(e.textContent ?? '').replace(/\s+/g, ' ').trim()}`));
  assert.equal(steps.length, 4, steps.join('\n'));
  assert.match(steps[0]!, /^scenario: Scenario .*hours/);
  assert.match(steps[1]!, /^answer: /);
  assert.match(steps[2]!, /^transfer: Transfer .*0600000001.*skipped.*condition did not match \(mon tue wed thu fri · 09:00-12:00, 14:00-18:00\)/);
  assert.match(steps[3]!, /^voicemail: /);
  assert.match((await result.locator('.outcome').textContent()) ?? '', /voicemail/);
  await accessible('scen-05-simulator-saturday');
  await page.locator('scenario-simulator section').screenshot({ path: path.join(SCREENSHOTS, 'scen-05b-simulator-panel.png') });
  // Monday 10:00: the transfer runs and the outside number answers.
  await sim.getByLabel('Time').fill('2026-12-07T10:00');
  await sim.getByRole('button', { name: 'Simulate' }).click();
  await result.locator('li[data-type="transfer"]', { hasText: 'answered' }).waitFor();
  assert.equal(await result.locator('li[data-type="voicemail"]').count(), 0);
  assert.match((await result.locator('.outcome').textContent()) ?? '', /answered by 0600000001/);
  // A bad time is refused next to its field.
  await sim.getByLabel('Number called').selectOption(MAIN);
  await sim.getByLabel('Keys pressed').fill('1, x');
  await sim.getByRole('button', { name: 'Simulate' }).click();
  await sim.locator('#sim-digits-error').waitFor();
  await sim.getByLabel('Keys pressed').fill('');
});

test('scenario editor: version history restores an older version; menus nest actions', async () => {
  await page.getByLabel('Scenario', { exact: true }).selectOption({ label: 'hours (v2)' });
  await page.getByRole('heading', { name: 'Scenario hours (version 2)' }).waitFor();
  await page.getByRole('button', { name: 'Restore version 1' }).click();
  await page.getByRole('status').filter({ hasText: 'Version 1 restored as version 3' }).waitFor();
  await page.getByRole('heading', { name: 'Scenario hours (version 3)' }).waitFor();
  await page.locator('tr[data-version="3"]').waitFor();
  // The history list is fetched again after the restore: its rows can be re-rendered between two reads.
  await eventually(() => page.locator('tr[data-version]').count(), 3);
  await eventually(actionTypes, ['answer']);
  // A menu: key 1 → distribute to Sales, no key → voicemail.
  await page.getByLabel('New action in Actions').selectOption('detect_dtmf');
  await page.getByRole('button', { name: 'Add the new action to Actions' }).click();
  const menu = action('actions[1]');
  await menu.getByLabel('Option name').fill('Sales');
  await menu.getByLabel('New action in 2 key 1').selectOption('distribute');
  await menu.getByRole('button', { name: 'Add the new action to 2 key 1' }).click();
  await action('actions[1].options[0].actions[0]').getByText('If the queue is closed').waitFor();
  await menu.getByLabel('When no valid key is pressed').check();
  await menu.getByLabel('New action in 2 no key').selectOption('voicemail');
  await menu.getByRole('button', { name: 'Add the new action to 2 no key' }).click();
  await page.getByRole('button', { name: 'Save as a new version' }).click();
  await page.getByRole('status').filter({ hasText: 'Saved as version 4' }).waitFor();
  const hours = (await api<{ scenarios: { name: string; actions: Record<string, unknown>[] }[] }>('/scenarios')).scenarios.find((s) => s.name === 'hours')!;
  assert.deepEqual(hours.actions[1], {
    type: 'detect_dtmf',
    announce_options: true,
    options: [{ key: '1', name: 'Sales', actions: [{ type: 'distribute', queue: 'Sales' }] }],
    no_match: [{ type: 'voicemail' }],
  });
  await accessible('scen-06-scenario-menu');
});

test('services, override and holidays', async () => {
  await nav('Services');
  await page.getByLabel('Category 1 (EN)').waitFor();
  await page.getByRole('button', { name: 'Add a category' }).click();
  await page.getByLabel('Category 2 (FR)').fill('Comptabilité');
  await page.getByLabel('Category 2 (EN)').fill('Accounts');
  await page.getByLabel('Category 2 (ES)').fill('Contabilidad');
  await page.getByLabel('Service 2.1 (FR)').fill('Factures');
  await page.getByLabel('Service 2.1 (EN)').fill('Invoices');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByRole('status').filter({ hasText: 'Saved' }).waitFor();
  const cats = (await api<{ categories: unknown[] }>('/services')).categories;
  assert.deepEqual(cats[1], { name: { fr: 'Comptabilité', en: 'Accounts', es: 'Contabilidad' }, services: [{ name: { fr: 'Factures', en: 'Invoices' } }] });
  await accessible('scen-07-services');

  await nav('Scenarios');
  await page.getByLabel('Night (closed)').check();
  await page.getByText(/Since .*, by admin/).waitFor();
  assert.equal((await api<{ override: { mode: string } }>('/override')).override.mode, 'night');
  await page.getByRole('button', { name: 'Add a day off' }).click();
  await page.getByLabel('Date of day off 1').fill('2026-12-24');
  await page.getByLabel('Name of day off 1').fill('Réveillon');
  await page.getByRole('form', { name: 'Holidays' }).getByRole('button', { name: 'Save' }).click();
  await page.getByRole('form', { name: 'Holidays' }).getByRole('status').waitFor();
  const h = await api<{ dates: { date: string; name: string }[] }>('/holidays');
  assert.deepEqual(h.dates, [{ date: '2026-12-24', name: 'Réveillon' }]);
  await page.getByLabel('Automatic (clock and calendar)').check();
  await accessible('scen-08-scenarios-calendar');
  // French, and a phone's width.
  await page.getByLabel('Language').first().selectOption('fr');
  await page.getByRole('heading', { name: 'Scénarios', level: 1 }).waitFor();
  await page.getByRole('heading', { name: 'Simulateur' }).waitFor();
  await accessible('scen-09-scenarios-fr');
  await page.getByLabel('Langue').first().selectOption('en');
  await page.setViewportSize({ width: 390, height: 844 });
  await page.getByRole('heading', { name: 'Scenarios', level: 1 }).waitFor();
  await accessible('scen-10-scenarios-phone');
  await page.getByRole('button', { name: 'Menu', exact: true }).click();
  await nav('Numbers');
  await accessible('scen-11-numbers-phone');
  await page.setViewportSize({ width: 1280, height: 720 });
});

test('a user without the scenarios right: no scenario module, its API answers 403; numbers without behaviours', async () => {
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.getByRole('heading', { name: 'Log in to Relais' }).waitFor();
  await login('sophie', 'sophie-password');
  const links = await page.getByRole('navigation').getByRole('link').allTextContents();
  assert.ok(links.includes('Numbers'), links.join(', '));
  for (const hidden of ['Scenarios', 'Services']) assert.ok(!links.includes(hidden), `${hidden} hidden: ${links.join(', ')}`);
  const status = await page.evaluate(async () => [(await fetch('/api/scenarios')).status, (await fetch('/api/services')).status, (await fetch('/api/holidays')).status]);
  assert.deepEqual(status, [403, 403, 403]);
  // Typing the address shows the refusal, not the module.
  await page.goto(`${relais.url}/scenarios`);
  await page.getByText('You do not have access to this page.').waitFor();
  await nav('Numbers');
  await numberCard(MAIN).getByRole('form', { name: `Settings of ${MAIN}` }).waitFor();
  assert.equal(await page.getByRole('form', { name: `Answering behaviour of ${MAIN}` }).count(), 0);
  await accessible('scen-12-numbers-limited-user');
});
