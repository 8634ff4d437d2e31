// Scenarios with real peers: a provider (SIPp on 127.0.0.2) calls numbers through a trunk, hears the IVR, keys RFC 4733 DTMF,
// reaches users (SIPp phones registered to Relais), voicemail, a transfer; offline options; the simulator gives the same path.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startRelais, tempDir, type RelaisProcess } from '../helpers/relais-process.js';
import { describeSipp } from '../helpers/sipp.js';
import { freePort } from '../helpers/ports.js';
import { makeToneWav } from '../helpers/audio.js';
import { ext, writeSite } from './call-site.js';
import { lastEndedCall, queryDb } from './call-support.js';
import { ScenarioRig, providerTrunkYaml, shape, summary } from './scenario-support.js';

const IVR = '+33100000001';
const OFFLINE_BUSY = '+33100000002';
const FORWARD = '+33100000003';
const OFFLINE_VM = '+33100000004';
const OFFLINE_MESSAGE = '+33100000005';
const OFFLINE_FORWARD = '+33100000006';
let relais: RelaisProcess;
let rig: ScenarioRig;

before(async () => {
  const providerPort = await freePort();
  const dir = tempDir('scenario-');
  const yaml = `${providerTrunkYaml(providerPort)}
sounds:
  - { name: closed-message, file: closed-message.wav }
scenarios:
  - name: main
    actions:
      - { type: goto_scenario, scenario: never, when: { dates: ["2000-01-01"] } }
      - type: detect_dtmf
        prompt: choose-service
        timeout: 3
        attempts: 1
        options:
          - { key: "1", name: Sales, actions: [ { type: call_user, user: ann, ring_time: 5 }, { type: call_user, user: ben, ring_time: 5 }, { type: call_user, user: cat, ring_time: 5 } ] }
          - { key: "2", name: Mail, actions: [ { type: voicemail, mailbox: "203" } ] }
          - { key: "3", name: Desk, actions: [ { type: transfer, to: "203" } ] }
        no_match: [ { type: play, prompt: thank-you-goodbye }, { type: hangup } ]
  - name: never
    actions: [ { type: hangup } ]
numbers:
  - { did: "${IVR}", trunk: provider, scenario: main, users: [ann, ben, cat] }
  - { did: "${OFFLINE_BUSY}", trunk: provider, users: [ann], offline_action: { type: busy } }
  - { did: "${FORWARD}", trunk: provider, mode: forward, forward_to: "203" }
  - { did: "${OFFLINE_VM}", trunk: provider, users: [ann], offline_action: { type: voicemail } }
  - { did: "${OFFLINE_MESSAGE}", trunk: provider, users: [ann], offline_action: { type: message, sound: closed-message } }
  - { did: "${OFFLINE_FORWARD}", trunk: provider, users: [ann], offline_action: { type: forward, to: "203" } }
`;
  const site = writeSite(dir, [ext('201', 'Ann', { user: 'ann' }), ext('202', 'Ben', { user: 'ben' }), ext('203', 'Cat', { user: 'cat', voicemail: true })], 'en', yaml);
  relais = await startRelais({ dataDir: path.join(dir, 'data'), args: ['--site', site, '--domain', '127.0.0.1'] });
  // The offline message: one second of tone in the sound library (read when played).
  fs.mkdirSync(path.join(relais.dataDir, 'sounds'), { recursive: true });
  makeToneWav(path.join(relais.dataDir, 'sounds', 'closed-message.wav'), 440, 1);
  rig = new ScenarioRig(relais, dir, providerPort);
});

after(async () => {
  await relais?.stop();
});

test('IVR: the provider hears the menu, keys 1 (RFC 4733); escalation ann (offline) → ben (busy) → cat answers; the simulator gives the same path', async () => {
  const since = Date.now();
  const ben = await rig.phone('202', 'call-uas-busy.xml');
  const cat = await rig.phone('203', 'call-uas.xml');
  await rig.providerCalls(IVR, rig.providerScenario('ivr-sales', { digits: '1', promptMs: 500, talkMs: 4000, end: 'bye' }));
  const [b, c] = await Promise.all([ben.done, cat.done]);
  assert.equal(b.code, 0, `ben: ${describeSipp(b)}`);
  assert.equal(c.code, 0, `cat: ${describeSipp(c)}`);
  const { row, path: live } = await rig.lastPath(since);
  assert.deepEqual(summary(live), ['scenario', 'goto_scenario:skipped', 'detect_dtmf=key', 'call_user=unavailable', 'call_user=busy', 'call_user=answered']);
  assert.equal(live[2]!.key, '1');
  assert.equal(live[2]!.option, 'Sales');
  assert.deepEqual(live.slice(3).map((s) => s.user), ['ann', 'ben', 'cat']);
  assert.ok(row.answered_by, 'answered by cat');
  await rig.unregister('202');
  await rig.unregister('203');
  assert.deepEqual(shape(rig.simulated(['--number', IVR, '--digits', '1', '--online', 'cat'])), shape(live));
});

test('IVR: no key → no_match plays goodbye and Relais hangs up; the simulator agrees', async () => {
  const since = Date.now();
  await rig.online('201');
  await rig.providerCalls(IVR, rig.providerScenario('ivr-nomatch', { promptMs: 0, end: 'wait-bye' }));
  await rig.unregister('201');
  const { row, path: live } = await rig.lastPath(since);
  assert.deepEqual(summary(live), ['scenario', 'goto_scenario:skipped', 'detect_dtmf=no_match', 'play=done', 'hangup']);
  assert.equal(row.cause, 'scenario-hangup');
  assert.deepEqual(shape(rig.simulated(['--number', IVR, '--online', 'ann'])), shape(live));
});

test('IVR: key 2 → voicemail of extension 203 (the caller is already answered); key 3 → transfer to 203 answered', async () => {
  let since = Date.now();
  await rig.online('201');
  await rig.providerCalls(IVR, rig.providerScenario('ivr-mail', { digits: '2', promptMs: 300, talkMs: 1500, end: 'bye' }));
  let { path: live } = await rig.lastPath(since);
  assert.deepEqual(summary(live).slice(2), ['detect_dtmf=key', 'voicemail=ended']);
  assert.ok(queryDb(relais.dataDir, "SELECT 1 FROM call_events WHERE type = 'voicemail.answered' AND at >= ?", since).length > 0, 'voicemail took the call');
  assert.deepEqual(shape(rig.simulated(['--number', IVR, '--digits', '2', '--online', 'ann'])), shape(live));

  since = Date.now();
  const cat = await rig.phone('203', 'call-uas.xml');
  await rig.providerCalls(IVR, rig.providerScenario('ivr-desk', { digits: '3', promptMs: 300, talkMs: 4000, end: 'bye' }));
  const c = await cat.done;
  assert.equal(c.code, 0, `cat: ${describeSipp(c)}`);
  ({ path: live } = await rig.lastPath(since));
  assert.deepEqual(summary(live).slice(2), ['detect_dtmf=key', 'transfer=answered']);
  assert.equal(live[3]!.to, '203');
  await rig.unregister('203');
  await rig.unregister('201');
  assert.deepEqual(shape(rig.simulated(['--number', IVR, '--digits', '3', '--online', 'cat'])), shape(live));
});

test('offline busy: 486 without ever answering (no 200, no media)', async () => {
  const since = Date.now();
  await rig.providerCalls(OFFLINE_BUSY, rig.providerScenario('offline-busy', { end: 'reject', expect: 486 }));
  const { row, path: live } = await rig.lastPath(since);
  assert.deepEqual(summary(live), ['offline']);
  assert.equal(row.cause, 'rejected-486');
  assert.equal(queryDb(relais.dataDir, "SELECT 1 FROM call_events WHERE call_id = ? AND type = 'call.answered_by_relais'", row.id).length, 0);
  assert.deepEqual(shape(rig.simulated(['--number', OFFLINE_BUSY, '--nobody-online'])), shape(live));
});

test('offline voicemail and message: answered by Relais, then voicemail / the message and BYE', async () => {
  let since = Date.now();
  await rig.providerCalls(OFFLINE_VM, rig.providerScenario('offline-vm', { promptMs: 300, talkMs: 1500, end: 'bye' }));
  let { path: live } = await rig.lastPath(since);
  assert.deepEqual(summary(live), ['offline']);
  assert.deepEqual(live[0]!.action, { type: 'voicemail' });
  assert.ok(queryDb(relais.dataDir, "SELECT 1 FROM call_events WHERE type = 'voicemail.answered' AND at >= ?", since).length > 0);

  since = Date.now();
  await rig.providerCalls(OFFLINE_MESSAGE, rig.providerScenario('offline-message', { promptMs: 0, end: 'wait-bye' }));
  ({ path: live } = await rig.lastPath(since));
  assert.deepEqual(summary(live), ['offline']);
  const row = await lastEndedCall<{ cause: string; status: string }>(relais.dataDir, since, 'cause, status');
  assert.equal(row.cause, 'message-played');
});

test('forward all, and offline forward: the call goes to extension 203, which answers', async () => {
  for (const did of [FORWARD, OFFLINE_FORWARD]) {
    const since = Date.now();
    const cat = await rig.phone('203', 'call-uas.xml');
    // Offline = no assigned user online: ann stays unregistered.
    await rig.providerCalls(did, rig.providerScenario(`forward-${did.slice(-1)}`, { promptMs: 200, talkMs: 3000, end: 'bye' }));
    const c = await cat.done;
    assert.equal(c.code, 0, `cat: ${describeSipp(c)}`);
    const { row, path: live } = await rig.lastPath(since);
    assert.deepEqual(summary(live), [did === FORWARD ? 'forward=answered' : 'offline=answered']);
    assert.ok(row.answered_by, 'answered by cat');
    await rig.unregister('203');
  }
});
