// SIPp uac → Relais (B2BUA) → SIPp uas: BYE from each side, CANCEL, 486, 404/480, re-INVITE hold, REFER blind transfer.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startRelais, tempDir, type RelaisProcess, ADMIN_AUTH } from '../helpers/relais-process.js';
import { runSipp, startSipp, describeSipp, type SippOptions, type SippProcess } from '../helpers/sipp.js';
import { freePort } from '../helpers/ports.js';
import { ext, writeSite } from './call-site.js';
import { lastEndedCall, queryDb } from './call-support.js';

const DOMAIN = '127.0.0.1';
let relais: RelaisProcess;

before(async () => {
  const dir = tempDir('call-sipp-');
  const site = writeSite(dir, [ext('201', 'Alice'), ext('202', 'Bob'), ext('203', 'Carol'), ext('204', 'Dave'), ext('205', 'Eve')]);
  relais = await startRelais({
    dataDir: path.join(dir, 'data'),
    args: ['--site', site, '--domain', DOMAIN],
    env: { RELAIS_RING_TIMEOUT_MS: '4000' },
  });
});

after(async () => {
  await relais?.stop();
});

function target(): string {
  return `127.0.0.1:${relais.sipPort}`;
}

/** Registers `number` from `port` (where a SIPp UAS will then listen). */
async function register(number: string, port: number): Promise<void> {
  const r = await runSipp({
    scenario: 'call-register.xml',
    target: target(),
    localPort: port,
    keys: { user: number, domain: DOMAIN, expires: '300' },
    auth: { username: number, password: `secret-${number}` },
    timeoutS: 10,
  });
  assert.equal(r.code, 0, `REGISTER ${number}: ${describeSipp(r)}\n${relais.output().slice(-3000)}`);
}

/** A SIPp UAS registered as `number`; holdMs is how long call-uas-bye waits before its BYE. */
async function uas(number: string, scenario: string, holdMs = 500): Promise<SippProcess> {
  const port = await freePort();
  await register(number, port);
  return startSipp({ scenario, localPort: port, timeoutS: 20, extraArgs: ['-d', String(holdMs)] });
}

function uacOptions(scenario: string, callee: string, keys: Record<string, string> = {}, extra: string[] = []): SippOptions {
  return {
    scenario,
    target: target(),
    service: callee,
    authUri: `${callee}@127.0.0.1:${relais.sipPort}`,
    keys: { domain: DOMAIN, caller: '201', caller_name: 'Alice', ...keys },
    auth: { username: '201', password: 'secret-201' },
    timeoutS: 20,
    extraArgs: ['-d', '500', ...extra],
  };
}

async function uac(scenario: string, callee: string, keys: Record<string, string> = {}, extra: string[] = []) {
  return runSipp(uacOptions(scenario, callee, keys, extra));
}

type CallRow = { status: string; cause: string | null; caller: string; callee: string; id: string };

/** Calls the B2BUA has answered so far (health counter), to wait for a call to be up before acting on it. */
async function answeredCalls(): Promise<number> {
  const h = (await (await fetch(`${relais.url}/healthz`, { headers: ADMIN_AUTH })).json()) as { modules: Record<string, { detail?: { answered?: number } }> };
  return h.modules.calls?.detail?.answered ?? 0;
}

async function waitAnswered(count: number, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while ((await answeredCalls()) < count) {
    assert.ok(Date.now() < deadline, `${what} was not answered`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const eventTypes = (callId: string): string[] =>
  queryDb<{ type: string }>(relais.dataDir, 'SELECT type FROM call_events WHERE call_id = ? ORDER BY id', callId).map((e) => e.type);

const lastCall = (since: number): Promise<CallRow> => lastEndedCall<CallRow>(relais.dataDir, since, 'id, status, cause, caller, callee');

test('call answered, caller hangs up: both SIPp sides complete, history says caller-hangup', async () => {
  const since = Date.now();
  const callee = await uas('202', 'call-uas.xml');
  const r = await uac('call-uac.xml', '202');
  const u = await callee.done;
  assert.equal(r.code, 0, `uac: ${describeSipp(r)}\n${relais.output().slice(-4000)}`);
  assert.equal(u.code, 0, `uas: ${describeSipp(u)}`);
  assert.match(u.messages, /From: "Alice" <sip:201@127\.0\.0\.1>/, 'caller ID: the calling extension and its name');
  const c = await lastCall(since);
  assert.equal(c.status, 'ended');
  assert.equal(c.cause, 'caller-hangup');
  assert.equal(c.callee, '202');
});

test('call answered, callee hangs up: caller gets BYE', async () => {
  const since = Date.now();
  const callee = await uas('202', 'call-uas-bye.xml');
  const r = await uac('call-uac-wait-bye.xml', '202');
  const u = await callee.done;
  assert.equal(r.code, 0, `uac: ${describeSipp(r)}`);
  assert.equal(u.code, 0, `uas: ${describeSipp(u)}`);
  assert.equal((await lastCall(since)).cause, 'callee-hangup');
});

test('CANCEL while ringing: callee gets CANCEL, caller gets 487', async () => {
  const since = Date.now();
  const callee = await uas('203', 'call-uas-ring.xml');
  const r = await uac('call-uac-cancel.xml', '203');
  const u = await callee.done;
  assert.equal(r.code, 0, `uac: ${describeSipp(r)}`);
  assert.equal(u.code, 0, `uas: ${describeSipp(u)}`);
  assert.equal((await lastCall(since)).cause, 'cancelled');
});

test('486 Busy Here from the callee comes back to the caller as 486', async () => {
  const since = Date.now();
  const callee = await uas('204', 'call-uas-busy.xml');
  const r = await uac('call-uac-busy.xml', '204');
  const u = await callee.done;
  assert.equal(r.code, 0, `uac: ${describeSipp(r)}`);
  assert.equal(u.code, 0, `uas: ${describeSipp(u)}`);
  assert.equal((await lastCall(since)).cause, 'busy');
});

test('unknown number gets 404; an unregistered extension without voicemail gets 480', async () => {
  const r404 = await uac('call-uac-reject.xml', '299');
  assert.equal(r404.code, 0, describeSipp(r404));
  assert.match(r404.messages, /SIP\/2.0 404/);
  const r480 = await uac('call-uac-reject.xml', '205');
  assert.equal(r480.code, 0, describeSipp(r480));
  assert.match(r480.messages, /SIP\/2.0 480/);
});

test('re-INVITE hold (a=sendonly → recvonly) and resume, then BYE', async () => {
  const since = Date.now();
  const callee = await uas('202', 'call-uas.xml');
  const r = await uac('call-uac-hold.xml', '202');
  const u = await callee.done;
  assert.equal(r.code, 0, `uac: ${describeSipp(r)}\n${relais.output().slice(-3000)}`);
  assert.equal(u.code, 0, `uas: ${describeSipp(u)}`);
  const types = eventTypes((await lastCall(since)).id);
  assert.ok(types.includes('call.hold') && types.includes('call.resume'), types.join(','));
});

test('session timer (RFC 4028): the 200 carries Session-Expires and Require: timer, an UPDATE refresh is answered with it; 30 s gets 422 Min-SE: 90', async () => {
  const since = Date.now();
  const callee = await uas('202', 'call-uas.xml');
  const r = await uac('call-uac-session-timer.xml', '202');
  const u = await callee.done;
  assert.equal(r.code, 0, `uac: ${describeSipp(r)}\n${relais.output().slice(-3000)}`);
  assert.equal(u.code, 0, `uas: ${describeSipp(u)}`);
  assert.equal((await lastCall(since)).cause, 'caller-hangup');
  const small = await uac('call-uac-se-too-small.xml', '202');
  assert.equal(small.code, 0, `422: ${describeSipp(small)}`);
  assert.match(small.messages, /SIP\/2.0 422 Session Interval Too Small/);
});

test('REFER blind transfer: NOTIFY 100/200, transferee bridged to the target, target hangs up, everyone released', async () => {
  const since = Date.now();
  const bob = await uas('202', 'call-uas.xml');
  const carol = await uas('203', 'call-uas-bye.xml', 800);
  // Alice (uac) calls Bob, then REFERs Bob to Carol and leaves; Carol hangs up → Bob gets BYE.
  const r = await uac('call-uac-refer.xml', '202', { refer_to: '203', refer_params: '' });
  const [b, c] = await Promise.all([bob.done, carol.done]);
  assert.equal(r.code, 0, `uac: ${describeSipp(r)}\n${relais.output().slice(-3000)}`);
  assert.equal(c.code, 0, `carol: ${describeSipp(c)}`);
  assert.equal(b.code, 0, `bob: ${describeSipp(b)}`);
  const call = await lastCall(since);
  assert.equal(call.callee, '202');
  const types = eventTypes(call.id);
  assert.ok(types.includes('call.transferred'), types.join(','));
});

test('BLF: a watcher of 202 is notified early (ringing), confirmed (answered), then idle (ended)', async () => {
  const watcher = await startSipp({
    scenario: 'call-blf-watch.xml',
    target: target(),
    keys: { user: '203', target: '202', domain: DOMAIN },
    auth: { username: '203', password: 'secret-203' },
    authUri: `202@127.0.0.1:${relais.sipPort}`,
    timeoutS: 20,
  });
  // Subscribed once the presence module counts the subscription (bounded poll on /healthz).
  const deadline = Date.now() + 5000;
  for (;;) {
    const h = (await (await fetch(`${relais.url}/healthz`, { headers: ADMIN_AUTH })).json()) as { modules: Record<string, { detail?: { subscriptions?: number } }> };
    if ((h.modules.presence?.detail?.subscriptions ?? 0) > 0) break;
    assert.ok(Date.now() < deadline, 'the BLF subscription was not established');
    await new Promise((r) => setTimeout(r, 50));
  }
  const callee = await uas('202', 'call-uas.xml');
  const r = await uac('call-uac.xml', '202');
  const [u, w] = await Promise.all([callee.done, watcher.done]);
  assert.equal(r.code, 0, `uac: ${describeSipp(r)}`);
  assert.equal(u.code, 0, `uas: ${describeSipp(u)}`);
  assert.equal(w.code, 0, `watcher: ${describeSipp(w)}`);
  const states = [...w.messages.matchAll(/<dialog-info[^>]*>([\s\S]*?)<\/dialog-info>/g)].map((m) => /<state>(\w+)<\/state>/.exec(m[1]!)?.[1] ?? 'idle');
  // Off: the call's dialog reported terminated (RFC 4235).
  assert.deepEqual(states.slice(-3), ['early', 'confirmed', 'terminated'], `dialog states seen: ${states.join(', ')}`);
});

test('late offer: an INVITE without SDP gets our offer in the 200 and the answer from the ACK; the call completes', async () => {
  const since = Date.now();
  const callee = await uas('202', 'call-uas.xml');
  const r = await uac('call-uac-late-offer.xml', '202');
  const u = await callee.done;
  assert.equal(r.code, 0, `uac: ${describeSipp(r)}\n${relais.output().slice(-3000)}`);
  assert.equal(u.code, 0, `uas: ${describeSipp(u)}`);
  assert.equal((await lastCall(since)).cause, 'caller-hangup');
});

test('attended transfer (REFER with Replaces, RFC 3891): Bob and Carol are joined, Alice released from both calls', async () => {
  const since = Date.now();
  const bob = await uas('202', 'call-uas.xml');
  const carol = await uas('203', 'call-uas-bye.xml', 3000);
  // Alice's consultation call to Carol, with a Call-ID the REFER can name.
  const before = await answeredCalls();
  const consult = await startSipp({ ...uacOptions('call-uac-wait-bye.xml', '203'), extraArgs: ['-cid_str', 'consult-%u@relais-test'] });
  await waitAnswered(before + 1, 'the consultation call');
  const replaces = encodeURIComponent('consult-1@relais-test;to-tag=x;from-tag=y');
  const r = await uac('call-uac-refer.xml', '202', { refer_to: '203', refer_params: `?Replaces=${replaces}` });
  const [b, c, k] = await Promise.all([bob.done, carol.done, consult.done]);
  assert.equal(r.code, 0, `alice (transferor): ${describeSipp(r)}\n${relais.output().slice(-3000)}`);
  assert.equal(k.code, 0, `alice's consultation leg (released by Relais): ${describeSipp(k)}`);
  assert.equal(c.code, 0, `carol: ${describeSipp(c)}`);
  assert.equal(b.code, 0, `bob (gets BYE when Carol hangs up): ${describeSipp(b)}`);
  const rows = queryDb<{ data: string }>(relais.dataDir, "SELECT e.data FROM call_events e JOIN calls c ON c.id = e.call_id WHERE e.type = 'call.transferred' AND c.started_at >= ?", since);
  assert.ok(rows.some((e) => JSON.parse(e.data).kind === 'attended'), JSON.stringify(rows));
});

test('INVITE with Replaces (RFC 3891): Carol takes Alice\'s place in her answered call with Bob', async () => {
  const since = Date.now();
  const bob = await uas('202', 'call-uas.xml');
  const before = await answeredCalls();
  const alice = await startSipp({ ...uacOptions('call-uac-wait-bye.xml', '202'), extraArgs: ['-cid_str', 'replaced-%u@relais-test'] });
  await waitAnswered(before + 1, "Alice's call");
  const carol = await runSipp({
    ...uacOptions('call-uac-replaces.xml', '202', { caller: '203', caller_name: 'Carol', replaces: 'replaced-1@relais-test;to-tag=x;from-tag=y' }),
    auth: { username: '203', password: 'secret-203' },
  });
  const [a, b] = await Promise.all([alice.done, bob.done]);
  assert.equal(carol.code, 0, `carol: ${describeSipp(carol)}\n${relais.output().slice(-3000)}`);
  assert.equal(a.code, 0, `alice (replaced, gets BYE): ${describeSipp(a)}`);
  assert.equal(b.code, 0, `bob (gets BYE when Carol hangs up): ${describeSipp(b)}`);
  const rows = queryDb<{ data: string }>(relais.dataDir, "SELECT e.data FROM call_events e JOIN calls c ON c.id = e.call_id WHERE e.type = 'call.transferred' AND c.started_at >= ?", since);
  assert.ok(rows.some((e) => JSON.parse(e.data).to === '203'), JSON.stringify(rows));
});
