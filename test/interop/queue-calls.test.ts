// Queues with real phones: baresip agents and a baresip caller dialling queue short numbers on a running Relais.
// Two agents answering at once → one bridged; as listed: ring time then the next; wrap-up blocks; *42 logs out and
// a SIPp BLF watcher of *41<short> sees the lamp go idle; nobody logged in → timeout action; abandon → LostCall callback.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startRelais, tempDir, type RelaisProcess } from '../helpers/relais-process.js';
import { BaresipPhone, type BaresipEvent } from '../helpers/baresip.js';
import { startSipp, describeSipp } from '../helpers/sipp.js';
import { makeToneWav } from '../helpers/audio.js';
import { ext, writeSite } from './call-site.js';
import { until } from './call-support.js';
import { ADMIN, basic, call, jsonInit } from './api-support.js';

const DOMAIN = '127.0.0.1';
let relais: RelaisProcess;
let dir: string;
let a: BaresipPhone;
let b: BaresipPhone;
let c: BaresipPhone;

const QUEUES = `queues:
  - name: race
    short_number: "901"
    strategy: simultaneous
    wrap_up: 0
    members: [ana, ben]
  - name: support
    short_number: "900"
    strategy: as_listed
    ring_time: 5
    wrap_up: 30
    lost_call_rules: {after_abandon: true, min_wait: 1, business_hours_only: false}
    members: [ana, ben]
`;

before(async () => {
  dir = tempDir('queue-calls-');
  const site = writeSite(dir, [ext('301', 'Ana', { user: 'ana' }), ext('302', 'Ben', { user: 'ben' }), ext('303', 'Cid', { user: 'cid' })], 'en', QUEUES);
  relais = await startRelais({ dataDir: path.join(dir, 'data'), args: ['--site', site, '--domain', DOMAIN] });
  const start = (name: string, number: string, hz: number) =>
    BaresipPhone.start({ name, account: { user: number, password: `secret-${number}`, registrar: `127.0.0.1:${relais.sipPort}`, regint: 600 }, audioFile: makeToneWav(path.join(dir, `${name}.wav`), hz, 180) });
  [a, b, c] = await Promise.all([start('ana', '301', 500), start('ben', '302', 700), start('cid', '303', 900)]);
  await Promise.all([a.registered(), b.registered(), c.registered()]);
});

after(async () => {
  await Promise.all([a, b, c].map((p) => p?.stop()));
  await relais?.stop();
});

type QueueView = { name: string; participants: { user: string; loggedIn: boolean; state: string }[]; waiting: unknown[]; connected: { user: string }[] };

async function queue(name: string): Promise<QueueView> {
  const r = await call(`${relais.url}/api/queues`, { headers: { authorization: basic(ADMIN) } });
  return (r.json.queues as QueueView[]).find((q) => q.name === name)!;
}

/** Marks the phones' call events seen so far as used (a test waits only for its own calls' events). */
async function drain(): Promise<void> {
  for (const p of [a, b, c]) {
    for (;;) {
      try {
        await p.waitEvent(['CALL_INCOMING', 'CALL_CLOSED', 'CALL_ESTABLISHED', 'CALL_RINGING', 'CALL_PROGRESS'], 1);
      } catch {
        break;
      }
    }
  }
}

/** Resolves with the phone's next event of one of these types, or null after ms. */
function maybeEvent(p: BaresipPhone, type: string, ms: number): Promise<BaresipEvent | null> {
  return p.waitEvent(type, ms).catch(() => null);
}

test('two agents answering within milliseconds: exactly one is bridged, the other leg is released', async () => {
  await c.dial('901');
  await Promise.all([a.waitEvent('CALL_INCOMING'), b.waitEvent('CALL_INCOMING')]);
  const closedA = maybeEvent(a, 'CALL_CLOSED', 8_000);
  const closedB = maybeEvent(b, 'CALL_CLOSED', 8_000);
  const estA = maybeEvent(a, 'CALL_ESTABLISHED', 8_000);
  const estB = maybeEvent(b, 'CALL_ESTABLISHED', 8_000);
  // Both answer at once (two commands sent back to back: the 200 OKs reach Relais within a few ms).
  await Promise.allSettled([a.accept(), b.accept()]);
  await c.established();
  const q = await (async () => {
    await until(async () => (await queue('race')).connected.length === 1, 'one agent connected');
    return queue('race');
  })();
  const winner = q.connected[0]!.user === 'ana' ? a : b;
  const loser = winner === a ? b : a;
  assert.ok(await (winner === a ? estA : estB), 'the winner is established');
  // The loser's 200 was answered with ACK + BYE (or its INVITE CANCELled before): its call closes.
  assert.ok(await (loser === a ? closedA : closedB), 'the other agent leg is released');
  assert.equal((await queue('race')).connected.length, 1, 'the caller is bridged once');
  const cClosed = c.closed();
  await winner.hangup();
  await cClosed;
  await until(async () => (await queue('race')).connected.length === 0, 'queue call ended');
});

test('as listed: the first participant rings for the ring time, then the next; wrap-up keeps an agent out', async () => {
  await drain();
  await c.dial('900');
  await a.waitEvent('CALL_INCOMING');
  const aClosed = a.closed(10_000);
  const t0 = Date.now();
  await b.acceptIncoming(10_000);
  const dt = Date.now() - t0;
  const hist = await call(`${relais.url}/api/queues/history?limit=30`, { headers: { authorization: basic(ADMIN) } });
  assert.ok(dt > 3_500, `ben rang after ana's 5 s ring time (${dt} ms)\n${JSON.stringify(hist.json, null, 0).replace(/},{/g, '},\n{')}`);
  await aClosed;
  await Promise.all([c.established(), b.established()]);
  const cClosed = c.closed();
  await b.hangup();
  await cClosed;
  // Ben is in wrap-up for 30 s: the next caller rings Ana, then (after her ring time and a pause) Ana again.
  await until(async () => (await queue('support')).participants.find((p) => p.user === 'ben')!.state === 'wrap_up', 'ben in wrap-up');
  const benRang = maybeEvent(b, 'CALL_INCOMING', 11_000);
  await c.dial('900');
  await a.waitEvent('CALL_INCOMING');
  await a.closed(10_000);
  await a.acceptIncoming(10_000);
  assert.equal(await benRang, null, 'ben in wrap-up got no queue call');
  await Promise.all([c.established(), a.established()]);
  const cc = c.closed();
  await a.hangup();
  await cc;
});

test('*42<short> logs out (a BLF watcher of *41<short> sees the lamp go idle); nobody logged in → timeout action', async () => {
  await drain();
  // The watcher is Ana's phone account: the lamp shows Ana's own login.
  const watcher = await startSipp({
    scenario: 'subscribe-blf-call.xml',
    target: `127.0.0.1:${relais.sipPort}`,
    keys: { user: '301', target: '*41900', domain: DOMAIN },
    auth: { username: '301', password: 'secret-301' },
    timeoutS: 25,
  });
  await new Promise((r) => setTimeout(r, 1_000)); // let the subscription settle (its first NOTIFY shows "confirmed")
  for (const p of [a, b]) {
    await p.dial('*42900');
    await p.established();
    await p.closed(10_000);
  }
  const w = await watcher.done;
  assert.equal(w.code, 0, `watcher: ${describeSipp(w)}`);
  assert.match(w.messages, /entity="sip:\*41900@/);
  const q = await queue('support');
  assert.deepEqual(q.participants.map((p) => [p.user, p.loggedIn]), [['ana', false], ['ben', false]]);
  // Nobody logged in: the timeout action (hang up) at once.
  const t0 = Date.now();
  await c.dial('900');
  const closed = await c.closed(10_000);
  assert.ok(Date.now() - t0 < 5_000);
  assert.match(String(closed.param), /480|Temporarily|closed/i, String(closed.param));
  // *41 logs back in.
  await a.dial('*41900');
  await a.established();
  await a.closed(10_000);
  assert.equal((await queue('support')).participants[0]!.loggedIn, true);
});

test('a caller hanging up while waiting → a Scheduled LostCall callback', async () => {
  await drain();
  // Ana is still in her 30 s wrap-up and Ben logged out: the caller waits, then gives up.
  await c.dial('900');
  await until(async () => (await queue('support')).waiting.length === 1, 'the caller waits');
  await new Promise((r) => setTimeout(r, 1_500));
  await c.hangup();
  await until(async () => {
    const r = await call(`${relais.url}/api/callbacks`, { headers: { authorization: basic(ADMIN) } });
    return (r.json.callbacks as { number: string }[]).some((x) => x.number === '303');
  }, 'callback for 303');
  const r = await call(`${relais.url}/api/callbacks`, { headers: { authorization: basic(ADMIN) } });
  const cb = (r.json.callbacks as { number: string; status: string; linkType: string; queue: string; source: string }[]).find((x) => x.number === '303')!;
  assert.deepEqual([cb.status, cb.linkType, cb.queue, cb.source], ['scheduled', 'LostCall', 'support', 'lost_call']);
});

async function callbacks(): Promise<{ id: number; number: string; status: string; linkType: string | null; queue: string | null }[]> {
  const r = await call(`${relais.url}/api/callbacks`, { headers: { authorization: basic(ADMIN) } });
  return r.json.callbacks as { id: number; number: string; status: string; linkType: string | null; queue: string | null }[];
}

test('Neglected: the same caller calls again and is served → the LostCall callback is cancelled as neglected', async () => {
  await drain();
  // Keep Ana out of "support" so its callback waits (she takes calls of "race" only).
  const support = await call(`${relais.url}/api/queues`, { headers: { authorization: basic(ADMIN) } });
  const supportId = (support.json.queues as { id: number; name: string }[]).find((q) => q.name === 'support')!.id;
  await call(`${relais.url}/api/queues/${supportId}/pause`, jsonInit('POST', { user: 'ana', reason: 'test' }, basic(ADMIN)));
  // Wrap-up counts in every queue: wait until someone of "race" is free, then whoever rings answers.
  await until(async () => (await queue('race')).participants.some((p) => p.state === 'free'), 'a free agent', 35_000);
  await c.dial('901');
  const agent = await Promise.race([a, b].map((p) => p.waitEvent('CALL_INCOMING', 15_000).then(() => p)));
  await agent.accept();
  await c.established();
  await until(async () => (await callbacks()).find((x) => x.number === '303' && x.linkType === 'LostCall')?.status === 'neglected', 'LostCall callback neglected');
  const cc = c.closed();
  await agent.hangup();
  await cc;
});

test('a callback: when its turn comes the participant is called, then the caller, and they are bridged', async () => {
  await drain();
  await until(async () => (await queue('race')).participants.some((p) => p.state === 'free'), 'a free agent', 35_000);
  const r = await call(`${relais.url}/api/callbacks`, jsonInit('POST', { number: '303', queue: 'race', notes: 'call back' }, basic(ADMIN)));
  assert.equal(r.status, 201, JSON.stringify(r.json));
  const id = (r.json as { id: number }).id;
  // Agent first: the free participants ring (simultaneous); one answers; only then Cid's phone rings.
  const agent = await Promise.race([a, b].map((p) => p.waitEvent('CALL_INCOMING', 15_000).then(() => p)));
  const cRangEarly = c.waitEvent('CALL_INCOMING', 800).then(() => true, () => false);
  assert.equal(await cRangEarly, false, 'the caller is not called before an agent answered');
  await agent.accept();
  await agent.established();
  const inc = await c.waitEvent('CALL_INCOMING', 10_000);
  assert.match(String(inc.param), /sip:/);
  await c.accept();
  await c.established();
  await until(async () => (await callbacks()).find((x) => x.id === id)?.status === 'done', 'callback done');
  const ac = agent.closed();
  await c.hangup();
  await ac;
});
