// The scenario module's configuration through a real Relais over real HTTP: scenarios (versions), numbers, behaviours,
// holidays, override (BLF of *60 seen by a SIPp watcher), services, inbox, jobs, blocklist (a blocked caller gets 603
// through a SIPp trunk), rights (403), malformed bodies (400 naming the field), and `relais import` on the running box
// changing the next call without a restart.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { CLI, startRelais, tempDir, type RelaisProcess, ADMIN_AUTH } from '../helpers/relais-process.js';
import { runSipp, startSipp, describeSipp, type SippResult } from '../helpers/sipp.js';
import { freePort } from '../helpers/ports.js';
import { assertError, basic, call, jsonInit } from './api-support.js';
import { until } from './call-support.js';

const DID = '+33100000000';
const PROVIDER = '127.0.0.2';
const ADMIN = { username: 'admin', password: 'test-admin-pw' };
const CAROL = { username: 'carol', password: 'carol-password' }; // scenarios
const DAVE = { username: 'dave', password: 'dave-password' }; // numbers
const ERIN = { username: 'erin', password: 'erin-password' }; // calls
const BOB = { username: 'bob', password: 'bob-password' }; // no rights

let relais: RelaisProcess;
let providerPort: number;
let dir: string;
let api: string;

function siteYaml(opts: { allowed?: string; withNumber?: boolean; reject?: boolean } = {}): string {
  return [
    'version: 1',
    'settings:',
    '  name: scenario api',
    '  language: en',
    '  timezone: Europe/Paris',
    '  holidays: FR',
    'users:',
    `  - { username: carol, password: ${CAROL.password}, rights: [scenarios] }`,
    `  - { username: dave, password: ${DAVE.password}, rights: [numbers] }`,
    `  - { username: erin, password: ${ERIN.password}, rights: [calls] }`,
    `  - { username: bob, password: ${BOB.password} }`,
    '  - { username: alice, name: Alice }',
    'extensions:',
    '  - { number: "201", user: alice, secret: secret-201, digest_algorithm: MD5, voicemail: false }',
    '  - { number: "202", user: carol, secret: secret-202, digest_algorithm: MD5, voicemail: false }',
    'trunks:',
    '  - name: provider',
    `    host: ${PROVIDER}`,
    `    port: ${providerPort}`,
    '    register: false',
    `    allowed_ips: ["${opts.allowed ?? PROVIDER}"]`,
    'queues:',
    '  - { name: support, short_number: "300", members: [alice] }',
    'scenarios:',
    '  - name: main',
    '    actions:',
    '      - { type: call_user, user: alice, ring_time: 5 }',
    '      - { type: voicemail, mailbox: "201" }',
    ...(opts.withNumber === false
      ? []
      : ['numbers:', `  - { did: "${DID}", name: Main, trunk: provider, scenario: main, users: [alice]${opts.reject ? ', mode: reject, unavailable_action: { type: busy }' : ''} }`]),
    '',
  ].join('\n');
}

before(async () => {
  providerPort = await freePort();
  dir = tempDir('scenario-api-');
  const site = path.join(dir, 'site.yaml');
  fs.writeFileSync(site, siteYaml());
  relais = await startRelais({ dataDir: path.join(dir, 'data'), args: ['--site', site, '--domain', '127.0.0.1'], env: { RELAIS_RING_TIMEOUT_MS: '1000' } });
  api = `${relais.url}/api`;
});

after(async () => {
  await relais?.stop();
});

const as = (u: { username: string; password: string }) => basic(u);
const get = (p: string, u = ADMIN) => call(`${api}${p}`, { headers: { authorization: as(u) } });
const send = (method: string, p: string, body: unknown, u = ADMIN) => call(`${api}${p}`, jsonInit(method, body, as(u)));
const del = (p: string, u = ADMIN) => call(`${api}${p}`, { method: 'DELETE', headers: { authorization: as(u) } });

/** The provider (SIPp on PROVIDER) calls the DID from `caller`; returns the final status Relais answered. */
async function providerCalls(caller: string): Promise<{ status: number; r: SippResult }> {
  const r = await runSipp({
    scenario: 'trunk-uac-final.xml',
    target: `127.0.0.1:${relais.sipPort}`,
    localAddress: PROVIDER,
    localPort: providerPort,
    service: DID,
    keys: { domain: '127.0.0.1', caller, caller_name: 'Customer' },
    timeoutS: 20,
  });
  assert.equal(r.code, 0, `provider: ${describeSipp(r)}\n${relais.output().slice(-2000)}`);
  // The first final response is the INVITE's (a BYE's 200 comes after it).
  const m = /SIP\/2\.0 (603|404|407|480|486|200) /.exec(r.messages);
  assert.ok(m, `a final answer in ${r.messages.slice(-1500)}`);
  return { status: Number(m[1]), r };
}

async function externalReloads(): Promise<number> {
  const h = (await (await fetch(`${relais.url}/healthz`, { headers: ADMIN_AUTH })).json()) as { modules: Record<string, { detail?: { reloads?: { external?: number } } }> };
  return h.modules['config-watch']?.detail?.reloads?.external ?? -1;
}

test('rights: scenarios, holidays, override, services need "scenarios"; numbers need "numbers"; inbox, jobs, blocklist need "calls"', async () => {
  for (const p of ['/scenarios', '/holidays', '/override', '/services']) {
    assertError(await get(p, BOB), 403, 'auth.forbidden');
    assertError(await get(p, DAVE), 403, 'auth.forbidden');
    assert.equal((await get(p, CAROL)).status, 200, p);
  }
  assertError(await get('/numbers', CAROL), 403, 'auth.forbidden');
  assert.equal((await get('/numbers', DAVE)).status, 200);
  for (const p of ['/inbox', '/jobs', '/blocklist']) {
    assertError(await get(p, CAROL), 403, 'auth.forbidden');
    assert.equal((await get(p, ERIN)).status, 200, p);
  }
  assertError(await send('PUT', '/override', { mode: 'night' }, BOB), 403, 'auth.forbidden');
  assertError(await send('POST', '/scenarios', { name: 'x', actions: [] }, DAVE), 403, 'auth.forbidden');
  // Generating a number's scenario edits scenarios: the numbers right alone is not enough.
  assertError(await send('POST', '/numbers/1/behaviour', { type: 'forward_only', to: '0612345678' }, DAVE), 403, 'auth.forbidden');
  assertError(await call(`${api}/scenarios`), 401, 'auth.required');
});

test('scenarios: create, save new versions, list the history, restore; bad bodies are 400 naming the field', async () => {
  const created = await send('POST', '/scenarios', { name: 'night', actions: [{ type: 'play', prompt: 'closed' }, { type: 'hangup' }] }, CAROL);
  assert.equal(created.status, 201, JSON.stringify(created.json));
  const s = created.json.scenario as { id: number; version: number };
  assert.equal(s.version, 1);
  const v2 = await send('PUT', `/scenarios/${s.id}`, { actions: [{ type: 'play', prompt: 'closed', when: { holiday: true } }, { type: 'voicemail', mailbox: '201' }] }, CAROL);
  assert.equal((v2.json.scenario as { version: number }).version, 2);
  const same = await send('PUT', `/scenarios/${s.id}`, { actions: (v2.json.scenario as { actions: unknown }).actions }, CAROL);
  assert.equal((same.json.scenario as { version: number }).version, 2, 'identical actions keep the version');
  const versions = await get(`/scenarios/${s.id}/versions`, CAROL);
  const list = versions.json.versions as { version: number; created_by: string | null; actions: unknown[] }[];
  assert.deepEqual(list.map((v) => v.version), [2, 1]);
  assert.equal(list[0]!.created_by, 'carol');
  const restored = await send('POST', `/scenarios/${s.id}/versions/1/restore`, {}, CAROL);
  assert.equal(restored.status, 200, JSON.stringify(restored.json));
  assert.equal((restored.json.scenario as { version: number }).version, 3);
  assert.deepEqual((restored.json.scenario as { actions: unknown }).actions, list[1]!.actions);
  const renamed = await send('PUT', `/scenarios/${s.id}`, { name: 'night-2', actions: list[1]!.actions }, CAROL);
  assert.equal((renamed.json.scenario as { name: string }).name, 'night-2');
  assert.ok(((await get('/scenarios', CAROL)).json.scenarios as { name: string }[]).some((x) => x.name === 'night-2'));

  // Malformed and invalid bodies.
  const raw = await call(`${api}/scenarios`, { method: 'POST', body: '{"name":', headers: { 'content-type': 'application/json', authorization: as(CAROL) } });
  assertError(raw, 400, 'api.json_invalid');
  assertError(await send('POST', '/scenarios', { name: 'y', actions: [], colour: 'red' }, CAROL), 400, 'api.field_unknown', 'colour');
  assertError(await send('POST', '/scenarios', { name: 'y' }, CAROL), 400, 'api.field_missing', 'actions');
  assertError(await send('POST', '/scenarios', { name: 'y', actions: [{ type: 'dance' }] }, CAROL), 400, 'site.invalid', 'actions[0].type');
  assertError(await send('POST', '/scenarios', { name: 'y', actions: [{ type: 'distribute', queue: 'sales' }] }, CAROL), 400, 'site.invalid', 'actions[0].queue');
  assertError(await send('POST', '/scenarios', { name: 'y', actions: [{ type: 'call_user', user: 'zoe' }] }, CAROL), 400, 'site.invalid', 'actions[0].user');
  assertError(await send('POST', '/scenarios', { name: 'y', actions: [{ type: 'play', sound: 'nope' }] }, CAROL), 400, 'site.invalid', 'actions[0].sound');
  assertError(await send('POST', '/scenarios', { name: 'y', actions: [{ type: 'goto_scenario', scenario: 'nope' }] }, CAROL), 400, 'site.invalid', 'actions[0].scenario');
  assertError(
    await send('POST', '/scenarios', { name: 'y', actions: [{ type: 'detect_dtmf', options: [{ key: '1', name: 'A', actions: [{ type: 'hangup' }] }, { key: '2', name: 'B' }] }] }, CAROL),
    400,
    'site.invalid',
    'actions[0].options[1].actions',
  );
  assertError(await send('POST', '/scenarios', { name: 'y', actions: [{ type: 'hangup', when: { period: { from: '2026-05-02', to: '2026-05-01' } } }] }, CAROL), 400, 'site.invalid', 'actions[0].when.period');
  assertError(await send('POST', '/scenarios', { name: 'y', actions: [{ type: 'hangup', when: { weekdays: [] } }] }, CAROL), 400, 'site.invalid', 'actions[0].when.weekdays');
  assertError(await send('POST', '/scenarios', { name: 'y', actions: [{ type: 'hangup', when: { dates: ['2026-02-30'] } }] }, CAROL), 400, 'site.invalid', 'actions[0].when.dates[0]');
  // A goto loop with no exit: y → main would be fine, but y → y is not.
  assertError(await send('POST', '/scenarios', { name: 'y', actions: [{ type: 'play', prompt: 'welcome' }, { type: 'goto_scenario', scenario: 'y' }] }, CAROL), 400, 'site.invalid', 'actions[1].scenario');
  assertError(await send('POST', '/scenarios', { name: 'main', actions: [] }, CAROL), 409, 'scenario.exists', 'name');
  assertError(await get('/scenarios/999', CAROL), 404, 'scenario.not_found');
  assertError(await get('/scenarios/abc', CAROL), 400, 'api.id_invalid', 'id');

  // A scenario still used by a number cannot go; an unused one can.
  const main = ((await get('/scenarios', CAROL)).json.scenarios as { id: number; name: string }[]).find((x) => x.name === 'main')!;
  assertError(await del(`/scenarios/${main.id}`, CAROL), 409, 'site.conflict');
  assert.equal((await del(`/scenarios/${s.id}`, CAROL)).status, 204);
});

test('numbers: every per-number setting through the site file form; 400 naming the field; a behaviour generates its scenario', async () => {
  const list = (await get('/numbers', DAVE)).json.numbers as { id: number; did: string; scenario?: string }[];
  const main = list.find((n) => n.did === DID)!;
  assert.equal(main.scenario, 'main');
  const put = await send('PUT', `/numbers/${main.id}`, { did: DID, name: 'Main line', trunk: 'provider', mode: 'receive', record: true, ring_mode: 'random', offline_action: { type: 'busy' }, unavailable_action: { type: 'hangup' }, scenario: 'main', users: ['alice'] }, DAVE);
  assert.equal(put.status, 200, JSON.stringify(put.json));
  const n = put.json.number as Record<string, unknown>;
  assert.equal(n.ring_mode, 'random');
  assert.equal(n.record, true);
  assert.deepEqual(n.offline_action, { type: 'busy' });
  assertError(await send('PUT', `/numbers/${main.id}`, { did: DID, mode: 'sometimes' }, DAVE), 400, 'site.invalid', 'mode');
  assertError(await send('PUT', `/numbers/${main.id}`, { did: DID, mode: 'forward' }, DAVE), 400, 'site.invalid', 'forward_to');
  assertError(await send('PUT', `/numbers/${main.id}`, { did: DID, users: ['zoe'] }, DAVE), 400, 'site.invalid', 'users[0]');
  assertError(await send('PUT', `/numbers/${main.id}`, { did: DID, unavailable_action: { type: 'forward', to: '1' } }, DAVE), 400, 'site.invalid', 'unavailable_action.type');
  assertError(await send('PUT', `/numbers/${main.id}`, { did: DID, scenario: 'nope' }, DAVE), 400, 'site.invalid', 'scenario');
  assertError(await send('PUT', `/numbers/${main.id}`, { did: 'abc' }, DAVE), 400, 'site.invalid', 'did');
  assertError(await send('PUT', `/numbers/${main.id}`, { did: DID, colour: 1 }, DAVE), 400, 'site.invalid', 'colour');
  const second = await send('POST', '/numbers', { did: '+33100000001', name: 'Second', mode: 'reject', unavailable_action: { type: 'busy' } }, DAVE);
  assert.equal(second.status, 201, JSON.stringify(second.json));
  assertError(await send('POST', '/numbers', { did: '+33100000001' }, DAVE), 409, 'number.exists', 'did');
  const id2 = (second.json.number as { id: number }).id;

  // Behaviour (admin: numbers + scenarios): forward then smart answering after 20 s.
  const b = await send('POST', `/numbers/${id2}/behaviour`, { type: 'forward_then_smart', to: '0612345678', ring_time: 20 });
  assert.equal(b.status, 200, JSON.stringify(b.json));
  const bn = b.json.number as { behaviour: string; scenario: string; record: boolean };
  assert.equal(bn.behaviour, 'forward_then_smart');
  assert.equal(bn.record, true, 'choosing a behaviour turns recording on');
  const bs = b.json.scenario as { name: string; actions: { type: string; ring_time?: number }[]; version: number };
  assert.equal(bs.name, bn.scenario);
  assert.deepEqual(bs.actions[0], { type: 'transfer', to: '0612345678', ring_time: 20 });
  // Choosing again makes a new version of the same scenario, which the admin can open and edit.
  const again = await send('POST', `/numbers/${id2}/behaviour`, { type: 'smart_answering', languages: ['en'] });
  assert.equal((again.json.scenario as { version: number }).version, 2);
  assertError(await send('POST', `/numbers/${id2}/behaviour`, { type: 'forward_only' }), 400, 'behaviour.invalid', 'to');
  assert.equal((await del(`/numbers/${id2}`, DAVE)).status, 204);
  assertError(await get(`/numbers/${id2}`, DAVE), 404, 'number.not_found');
});

test('holidays, services and the override: read, change, 400 naming the field', async () => {
  const h = await get('/holidays?year=2026', CAROL);
  assert.equal(h.json.country, 'FR');
  assert.ok((h.json.holidays as { date: string; name: string }[]).some((x) => x.date === '2026-05-14' && x.name === 'Ascension'));
  const put = await send('PUT', '/holidays', { country: 'UK', dates: [{ date: '2026-12-24', name: 'Christmas Eve' }] }, CAROL);
  assert.equal(put.status, 200, JSON.stringify(put.json));
  const h2 = await get('/holidays?year=2026', CAROL);
  assert.equal(h2.json.country, 'UK');
  const days = (h2.json.holidays as { date: string; source: string }[]).map((x) => `${x.date}/${x.source}`);
  assert.ok(days.includes('2026-12-28/country') && days.includes('2026-12-24/site'), days.join(' '));
  assertError(await send('PUT', '/holidays', { country: 'DE' }, CAROL), 400, 'site.invalid', 'country');
  assertError(await send('PUT', '/holidays', { dates: [{ date: '2026-02-30' }] }, CAROL), 400, 'site.invalid', 'dates[0].date');
  assertError(await send('PUT', '/holidays', { dates: [{ day: '2026-02-03' }] }, CAROL), 400, 'site.invalid', 'dates[0].day');
  assertError(await get('/holidays?year=12', CAROL), 400, 'api.param_invalid', 'year');

  const cats = [{ name: { fr: 'Dépannage', en: 'Repairs' }, services: [{ name: { fr: 'Chauffage', en: 'Heating' } }, { name: 'Plomberie' }] }];
  const s = await send('PUT', '/services', { categories: cats }, CAROL);
  assert.equal(s.status, 200, JSON.stringify(s.json));
  assert.deepEqual((await get('/services', CAROL)).json.categories, cats);
  assertError(await send('PUT', '/services', { categories: [{ name: 'x', services: [] }] }, CAROL), 400, 'site.invalid', 'categories[0].services');
  assertError(await send('PUT', '/services', { categories: [{ name: { de: 'x' }, services: [{ name: 'y' }] }] }, CAROL), 400, 'site.invalid', 'categories[0].name.de');

  assert.deepEqual((await get('/override', CAROL)).json.override, { mode: 'auto', since: null, by: null });
  const o = await send('PUT', '/override', { mode: 'holiday' }, CAROL);
  assert.equal((o.json.override as { mode: string; by: string }).mode, 'holiday');
  assert.equal((o.json.override as { by: string }).by, 'carol');
  assertError(await send('PUT', '/override', { mode: 'weekend' }, CAROL), 400, 'override.mode_invalid', 'mode');
  assertError(await send('PUT', '/override', {}, CAROL), 400, 'api.field_missing', 'mode');
  await send('PUT', '/override', { mode: 'auto' }, CAROL);
});

test('override lamp: a phone subscribed to *60 gets a confirmed NOTIFY when the office is switched to day, then its dialog terminated', async () => {
  const subs = async (): Promise<number> => {
    const h = (await (await fetch(`${relais.url}/healthz`, { headers: ADMIN_AUTH })).json()) as { modules: Record<string, { detail?: { subscriptions?: number } }> };
    return h.modules['presence']?.detail?.subscriptions ?? -1;
  };
  const before = await subs();
  const watcher = await startSipp({
    scenario: 'subscribe-blf-call.xml',
    target: `127.0.0.1:${relais.sipPort}`,
    keys: { user: '201', target: '*60', domain: '127.0.0.1' },
    auth: { username: '201', password: 'secret-201' },
    timeoutS: 25,
  });
  await until(async () => (await subs()) > before, 'the *60 subscription is active', 30_000);
  assert.equal((await send('PUT', '/override', { mode: 'day' }, CAROL)).status, 200);
  assert.equal((await send('PUT', '/override', { mode: 'auto' }, CAROL)).status, 200);
  const w = await watcher.done;
  assert.equal(w.code, 0, `watcher: ${describeSipp(w)}\n${relais.output().slice(-2000)}`);
  assert.match(w.messages, /entity="sip:\*60@[^"]*">\r\n  <dialog id="override-60">\r\n    <state>confirmed<\/state>/);
  // Back to automatic: the lamp's dialog is reported terminated (RFC 4235), not an empty document.
  assert.match(w.messages, /entity="sip:\*60@[^"]*">\r\n  <dialog id="override-60">\r\n    <state>terminated<\/state>/);
  await until(async () => (await subs()) <= before, 'the *60 subscription is gone', 30_000);
});

test('override feature code: a phone dials *61 (night), hears the confirmation, the *61 lamp lights; no right → 403', async () => {
  const subs = async (): Promise<number> => {
    const h = (await (await fetch(`${relais.url}/healthz`, { headers: ADMIN_AUTH })).json()) as { modules: Record<string, { detail?: { subscriptions?: number } }> };
    return h.modules['presence']?.detail?.subscriptions ?? -1;
  };
  const before = await subs();
  const watcher = await startSipp({
    scenario: 'subscribe-blf-call.xml',
    target: `127.0.0.1:${relais.sipPort}`,
    keys: { user: '201', target: '*61', domain: '127.0.0.1' },
    auth: { username: '201', password: 'secret-201' },
    timeoutS: 30,
  });
  try {
    await until(async () => (await subs()) > before, 'the *61 subscription is active', 30_000);
  } catch (err) {
    watcher.kill();
    assert.fail(`${String(err)}: ${describeSipp(await watcher.done)}`);
  }
  // Alice (no scenarios right) may not switch the office.
  const refused = await runSipp({
    scenario: 'call-uac-reject.xml',
    target: `127.0.0.1:${relais.sipPort}`,
    service: '*60',
    keys: { domain: '127.0.0.1', caller: '201', caller_name: 'Alice' },
    auth: { username: '201', password: 'secret-201' },
    timeoutS: 20,
  });
  assert.equal(refused.code, 0, describeSipp(refused));
  assert.match(refused.messages, /SIP\/2\.0 403 Forbidden/);
  assert.equal(((await get('/override', CAROL)).json.override as { mode: string }).mode, 'auto');
  // Carol (scenarios right) dials *61 from extension 202: answered, confirmation played, Relais hangs up.
  const r = await runSipp({
    scenario: 'call-uac-wait-bye.xml',
    target: `127.0.0.1:${relais.sipPort}`,
    service: '*61',
    keys: { domain: '127.0.0.1', caller: '202', caller_name: 'Carol' },
    auth: { username: '202', password: 'secret-202' },
    timeoutS: 20,
  });
  assert.equal(r.code, 0, `carol: ${describeSipp(r)}\n${relais.output().slice(-2000)}`);
  const o = (await get('/override', CAROL)).json.override as { mode: string; by: string };
  assert.deepEqual([o.mode, o.by], ['night', 'phone:202']);
  // Back to automatic (through the API this time): the lamp goes off and the watcher ends.
  assert.equal((await send('PUT', '/override', { mode: 'auto' }, CAROL)).status, 200);
  const w = await watcher.done;
  assert.equal(w.code, 0, `watcher: ${describeSipp(w)}`);
  assert.match(w.messages, /entity="sip:\*61@[^"]*">\r\n  <dialog id="override-61">\r\n    <state>confirmed<\/state>/);
  assert.match(w.messages, /entity="sip:\*61@[^"]*">\r\n  <dialog id="override-61">\r\n    <state>terminated<\/state>/);
});

test('inbox, jobs and blocklist: a real call is marked spam, made a job, its caller blocked; the next call from it gets 603', async () => {
  // Alice has no phone registered: the call is not answered (480), but it is in the inbox as a new call.
  const first = await providerCalls('0611223344');
  assert.notEqual(first.status, 603);
  let inbox: { id: string; caller: string; status: string; blocked: boolean }[] = [];
  await until(async () => {
    inbox = (await get('/inbox?status=new', ERIN)).json.calls as typeof inbox;
    return inbox.some((c) => c.caller === '0611223344');
  }, 'the call is in the inbox', 30_000);
  const c = inbox.find((x) => x.caller === '0611223344')!;
  assert.equal(c.status, 'new');
  assert.equal(c.blocked, false);

  const spam = await send('PATCH', `/calls/${c.id}`, { status: 'spam' }, ERIN);
  assert.equal(spam.status, 200, JSON.stringify(spam.json));
  assert.equal((spam.json.call as { status: string; blocked: boolean }).status, 'spam');
  assert.equal((spam.json.call as { blocked: boolean }).blocked, false, 'spam does not block: that is a separate choice');
  assertError(await send('PATCH', `/calls/${c.id}`, { status: 'archived' }, ERIN), 400, 'api.field_invalid', 'status');
  assertError(await send('PATCH', `/calls/${c.id}`, { block_caller: 'yes' }, ERIN), 400, 'api.field_type', 'block_caller');
  assertError(await send('PATCH', `/calls/${c.id}`, {}, ERIN), 400, 'api.field_missing', 'status');
  assertError(await send('PATCH', `/calls/nope!`, { status: 'spam' }, ERIN), 400, 'api.id_invalid', 'id');
  assertError(await send('PATCH', `/calls/unknown-call`, { status: 'spam' }, ERIN), 404, 'call.not_found');

  // A job from the call: title and caller from it, the call becomes "job".
  const job = await send('POST', '/jobs', { call_id: c.id, assignee: 'alice', notes: 'call back about the quote' }, ERIN);
  assert.equal(job.status, 201, JSON.stringify(job.json));
  const j = job.json.job as { id: number; title: string; caller: string; call_id: string; assignee: string; status: string };
  assert.equal(j.caller, '0611223344');
  assert.equal(j.call_id, c.id);
  assert.equal(j.assignee, 'alice');
  assert.equal(j.status, 'open');
  assert.match(j.title, /0611223344/);
  assert.equal(((await get(`/inbox?status=job`, ERIN)).json.calls as { id: string }[])[0]?.id, c.id);
  const done = await send('PATCH', `/jobs/${j.id}`, { status: 'done', notes: 'called back' }, ERIN);
  assert.equal((done.json.job as { status: string }).status, 'done');
  assert.equal(((await get('/jobs?status=done', ERIN)).json.jobs as unknown[]).length, 1);
  assertError(await send('POST', '/jobs', { notes: 'x' }, ERIN), 400, 'api.field_missing', 'title');
  assertError(await send('POST', '/jobs', { title: 'x', assignee: 'zoe' }, ERIN), 400, 'api.field_invalid', 'assignee');
  assertError(await send('POST', '/jobs', { call_id: 'unknown-call' }, ERIN), 400, 'call.not_found', 'call_id');
  assertError(await send('PATCH', `/jobs/${j.id}`, { status: 'maybe' }, ERIN), 400, 'api.field_invalid', 'status');
  const other = await send('POST', '/jobs', { title: 'Order toner' }, ERIN);
  assert.equal((await del(`/jobs/${(other.json.job as { id: number }).id}`, ERIN)).status, 204);

  // Block the caller (an explicit choice): the next call from the number is declined without being answered.
  const blocked = await send('PATCH', `/calls/${c.id}`, { block_caller: true }, ERIN);
  assert.equal(blocked.status, 200, JSON.stringify(blocked.json));
  assert.equal((blocked.json.call as { blocked: boolean }).blocked, true);
  const list = (await get('/blocklist', ERIN)).json.blocklist as { id: number; number: string; action: string }[];
  assert.deepEqual(list.map((b) => [b.number, b.action]), [['0611223344', 'decline']]);
  const second = await providerCalls('0611223344');
  assert.equal(second.status, 603, 'a blocked caller gets 603 Decline');
  assert.doesNotMatch(second.r.messages, /SIP\/2\.0 (180|183|200) /, 'never rung nor answered');
  // Others still get through to the number.
  assert.notEqual((await providerCalls('0699887766')).status, 603);

  // The blocklist through the API.
  const added = await send('POST', '/blocklist', { number: '+33 6 00 00 00 01', note: 'robocaller' }, ERIN);
  assert.equal(added.status, 201, JSON.stringify(added.json));
  assert.equal((await providerCalls('0033600000001')).status, 603, '+33 6… and 0033 6… are the same caller');
  assertError(await send('POST', '/blocklist', { number: 'call me' }, ERIN), 400, 'blocklist.number_invalid', 'number');
  assertError(await send('POST', '/blocklist', { number: '0611223344' }, ERIN), 409, 'blocklist.exists', 'number');
  assertError(await send('POST', '/blocklist', { number: '0600000002', action: 'scenario' }, ERIN), 400, 'blocklist.scenario_missing', 'scenario');
  assertError(await send('POST', '/blocklist', { number: '0600000002', action: 'scenario', scenario: 'nope' }, ERIN), 400, 'blocklist.scenario_unknown', 'scenario');
  const patched = await send('PATCH', `/blocklist/${(added.json.blocked as { id: number }).id}`, { note: 'robocaller (fr)' }, ERIN);
  assert.equal((patched.json.blocked as { note: string }).note, 'robocaller (fr)');
  for (const b of (await get('/blocklist', ERIN)).json.blocklist as { id: number }[]) assert.equal((await del(`/blocklist/${b.id}`, ERIN)).status, 204);
  assert.notEqual((await providerCalls('0611223344')).status, 603, 'unblocked: the caller gets through again');
});

test('relais import on the running box changes the next call without a restart (numbers, trunks)', async () => {
  const importSite = async (yaml: string): Promise<void> => {
    const before = await externalReloads();
    const file = path.join(dir, `import-${Date.now()}.yaml`);
    fs.writeFileSync(file, yaml);
    const r = spawnSync(process.execPath, [CLI, 'import', file, '--data-dir', relais.dataDir], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, RELAIS_ADMIN_PASSWORD: '' } });
    assert.equal(r.status, 0, `${r.stderr}${r.stdout}`);
    assert.match(r.stdout, /no restart needed/);
    await until(async () => (await externalReloads()) > before, 'the running Relais noticed the import', 30_000);
  };
  assert.notEqual((await providerCalls('0611000001')).status, 404);
  // The number stops accepting calls: the next call gets its unavailable answer (busy: 486, never answered).
  await importSite(siteYaml({ reject: true }));
  const busy = await providerCalls('0611000005');
  assert.equal(busy.status, 486);
  assert.doesNotMatch(busy.r.messages, /SIP\/2\.0 200 /);
  // The number is removed: the next call to it is refused as unknown.
  await importSite(siteYaml({ withNumber: false }));
  assert.equal((await providerCalls('0611000002')).status, 404);
  // The trunk no longer accepts the provider's address: the next INVITE is not taken for the trunk (challenged).
  await importSite(siteYaml({ allowed: '127.0.0.3' }));
  assert.equal((await providerCalls('0611000003')).status, 407);
  // And back: the provider is the trunk again and the number exists.
  await importSite(siteYaml());
  assert.notEqual((await providerCalls('0611000004')).status, 404);
});
