// Scenario paths with real peers, each compared with the simulator through the API (GET /api/calls/:id against
// POST /api/simulate): an extension dialling one of the box's numbers, the ringing and hangup offline options,
// forward-only, forward then smart answering, and blocked callers (sent to a chosen scenario, or declined with 603).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startRelais, tempDir, type RelaisProcess } from '../helpers/relais-process.js';
import { runSipp, describeSipp } from '../helpers/sipp.js';
import { freePort } from '../helpers/ports.js';
import { makeToneWav } from '../helpers/audio.js';
import { ext, writeSite } from './call-site.js';
import { queryDb } from './call-support.js';
import { ScenarioRig, providerTrunkYaml, shape, summary, type PathStep } from './scenario-support.js';

const DESK = '+33100000011';
const RINGING = '+33100000012';
const HANGUP = '+33100000013';
const FORWARD_ONLY = '+33100000014';
const FORWARD_SMART = '+33100000015';
let relais: RelaisProcess;
let rig: ScenarioRig;

before(async () => {
  const providerPort = await freePort();
  const dir = tempDir('scenario-paths-');
  const yaml = `${providerTrunkYaml(providerPort)}
sounds:
  - { name: blocked-message, file: blocked-message.wav }
scenarios:
  - name: desk
    actions: [ { type: call_user, user: cat, ring_time: 10 }, { type: hangup } ]
  - name: blocked-callers
    actions: [ { type: play, sound: blocked-message }, { type: hangup } ]
numbers:
  - { did: "${DESK}", trunk: provider, scenario: desk, users: [cat] }
  - { did: "${RINGING}", trunk: provider, users: [ann], offline_action: { type: ringing } }
  - { did: "${HANGUP}", trunk: provider, users: [ann], offline_action: { type: hangup } }
  - { did: "${FORWARD_ONLY}", trunk: provider, users: [cat] }
  - { did: "${FORWARD_SMART}", trunk: provider, users: [cat] }
`;
  const site = writeSite(dir, [ext('201', 'Ann', { user: 'ann' }), ext('203', 'Cat', { user: 'cat', voicemail: true })], 'en', yaml);
  relais = await startRelais({ dataDir: path.join(dir, 'data'), args: ['--site', site, '--domain', '127.0.0.1'] });
  fs.mkdirSync(path.join(relais.dataDir, 'sounds'), { recursive: true });
  makeToneWav(path.join(relais.dataDir, 'sounds', 'blocked-message.wav'), 440, 1);
  rig = new ScenarioRig(relais, dir, providerPort);
});

after(async () => {
  await relais?.stop();
});

/** The live path as GET /api/calls/:id gives it, and the same case through POST /api/simulate: the two must agree. */
async function sameAsSimulated(callId: string, sim: Record<string, unknown>): Promise<PathStep[]> {
  const live = await rig.apiPath(callId);
  const simulated = await rig.apiSimulated(sim);
  assert.deepEqual(shape(simulated), shape(live), `simulated ${JSON.stringify(simulated)}\nlive ${JSON.stringify(live)}`);
  return live;
}

async function numberId(did: string): Promise<number> {
  const { numbers } = (await rig.api('GET', '/api/numbers', undefined)) as { numbers: { id: number; did: string }[] };
  return numbers.find((n) => n.did === did)!.id;
}

test('an extension dialling one of the box\'s numbers runs its scenario like a trunk call: cat answers through call_user', async () => {
  const since = Date.now();
  const cat = await rig.phone('203', 'call-uas.xml');
  const r = await runSipp({
    scenario: 'call-uac.xml',
    target: `127.0.0.1:${relais.sipPort}`,
    service: DESK,
    authUri: `${DESK}@127.0.0.1:${relais.sipPort}`,
    keys: { domain: '127.0.0.1', caller: '201', caller_name: 'Ann' },
    auth: { username: '201', password: 'secret-201' },
    timeoutS: 30,
    extraArgs: ['-d', '3000'],
  });
  assert.equal(r.code, 0, `ann: ${describeSipp(r)}\n${relais.output().slice(-3000)}`);
  const c = await cat.done;
  assert.equal(c.code, 0, `cat: ${describeSipp(c)}`);
  const { row, path: db } = await rig.lastPath(since);
  assert.deepEqual(summary(db), ['scenario', 'call_user=answered']);
  assert.ok(row.answered_by, 'answered by cat');
  const [call] = queryDb<{ direction: string; did: string | null }>(relais.dataDir, 'SELECT c.direction, n.did FROM calls c LEFT JOIN numbers n ON n.id = c.number_id WHERE c.id = ?', row.id);
  assert.equal(call?.direction, 'internal');
  assert.equal(call?.did, DESK, 'the call is the number\'s');
  await sameAsSimulated(row.id, { number: DESK, from: '201', online: ['cat'] });
  await rig.unregister('203');
});

test('offline ringing: the caller hears 180 and is never answered (here until it CANCELs); offline hangup: 480 at once', async () => {
  let since = Date.now();
  await rig.providerCalls(RINGING, rig.providerScenario('offline-ringing', { promptMs: 1500, end: 'cancel' }));
  let { row, path: live } = await rig.lastPath(since);
  assert.deepEqual(summary(live), ['offline']);
  assert.deepEqual(live[0]!.action, { type: 'ringing' });
  assert.equal(queryDb(relais.dataDir, "SELECT 1 FROM call_events WHERE call_id = ? AND type = 'call.answered_by_relais'", row.id).length, 0);
  await sameAsSimulated(row.id, { number: RINGING, online: [] });

  since = Date.now();
  await rig.providerCalls(HANGUP, rig.providerScenario('offline-hangup', { end: 'reject', expect: 480 }));
  ({ row, path: live } = await rig.lastPath(since));
  assert.deepEqual(summary(live), ['offline']);
  assert.deepEqual(live[0]!.action, { type: 'hangup' });
  assert.equal(row.cause, 'rejected-480');
  await sameAsSimulated(row.id, { number: HANGUP, online: [] });
});

test('forward only (behaviour): the call goes to 203, which answers', async () => {
  await rig.api('POST', `/api/numbers/${await numberId(FORWARD_ONLY)}/behaviour`, { type: 'forward_only', to: '203' });
  const since = Date.now();
  const cat = await rig.phone('203', 'call-uas.xml');
  await rig.providerCalls(FORWARD_ONLY, rig.providerScenario('forward-only', { promptMs: 200, talkMs: 3000, end: 'bye' }));
  const c = await cat.done;
  assert.equal(c.code, 0, `cat: ${describeSipp(c)}`);
  const { row, path: live } = await rig.lastPath(since);
  assert.deepEqual(summary(live), ['scenario', 'transfer=answered']);
  assert.equal(live[1]!.to, '203');
  await sameAsSimulated(row.id, { number: FORWARD_ONLY, online: ['cat'] });
  await rig.unregister('203');
});

test('forward then smart answering (5 s configured): 203 rings unanswered, then smart answering takes the callback number and a message', async () => {
  await rig.api('POST', `/api/numbers/${await numberId(FORWARD_SMART)}/behaviour`, { type: 'forward_then_smart', to: '203', ring_time: 5, then: { type: 'smart_answering', languages: ['en'] } });
  const since = Date.now();
  const cat = await rig.phone('203', 'call-uas-ring.xml');
  // Distinct keys in a row: the capture of a key replayed twice carries the same RTP timestamp, one event to a receiver.
  await rig.providerCalls(FORWARD_SMART, rig.providerScenario('forward-smart', { promptMs: 3000, digits: '0612345789#', talkMs: 4000, end: 'bye' }));
  const c = await cat.done;
  assert.equal(c.code, 0, `cat rang and was cancelled: ${describeSipp(c)}`);
  const { row, path: live } = await rig.lastPath(since);
  assert.deepEqual(summary(live), ['scenario', 'transfer=no-answer', 'answer=answered', 'play=done', 'set_language', 'collect_digits=collected', 'play=done', 'voicemail=ended']);
  assert.equal(live[5]!.digits, '0612345789');
  assert.ok(queryDb(relais.dataDir, "SELECT 1 FROM call_events WHERE call_id = ? AND type = 'voicemail.answered'", row.id).length > 0, 'the message was taken');
  await sameAsSimulated(row.id, { number: FORWARD_SMART, online: ['cat'], no_answer: true, digits: ['0612345789'] });
  await rig.unregister('203');
});

test('blocked callers: one sent to a chosen scenario hears its message, never the number\'s handling; one declined gets 603 unanswered', async () => {
  await rig.api('POST', '/api/blocklist', { number: '0699999999', action: 'scenario', scenario: 'blocked-callers' }, 201);
  await rig.online('203');
  let since = Date.now();
  await rig.providerCalls(DESK, rig.providerScenario('blocked-scenario', { promptMs: 0, end: 'wait-bye' }), '0699999999');
  const { row, path: live } = await rig.lastPath(since);
  assert.deepEqual(summary(live), ['blocked', 'scenario', 'play=done', 'hangup']);
  assert.equal(live[0]!.scenario, 'blocked-callers');
  await sameAsSimulated(row.id, { number: DESK, from: '0699999999', online: ['cat'] });

  await rig.api('POST', '/api/blocklist', { number: '0688888888' }, 201);
  since = Date.now();
  await rig.providerCalls(DESK, rig.providerScenario('blocked-decline', { end: 'reject', expect: 603 }), '0688888888');
  assert.equal(queryDb(relais.dataDir, 'SELECT 1 FROM calls WHERE started_at >= ?', since).length, 0, 'declined before any call exists');
  const sim = await rig.apiSimulated({ number: DESK, from: '0688888888', online: ['cat'] });
  assert.deepEqual(summary(sim), ['blocked']);
  assert.equal(sim[0]!.action, 'decline');
  await rig.unregister('203');
});
