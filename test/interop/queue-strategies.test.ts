// Queue strategies and timeouts with real phones: three baresip agents and a baresip caller on a running Relais.
// Round robin keeps its place between callers; longest idle and fewest calls pick by what each participant received
// (a declined ring is not a call received); random rings one participant at a time; max wait → the timeout action
// (a transfer); the last participant logging out (*42) while a caller waits → the timeout action at once.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startRelais, tempDir, type RelaisProcess } from '../helpers/relais-process.js';
import { BaresipPhone } from '../helpers/baresip.js';
import { makeToneWav } from '../helpers/audio.js';
import { ext, writeSite } from './call-site.js';
import { until } from './call-support.js';
import { ADMIN, basic, call, jsonInit } from './api-support.js';

let relais: RelaisProcess;
let ana: BaresipPhone;
let ben: BaresipPhone;
let cid: BaresipPhone;
let dan: BaresipPhone;
let agents: BaresipPhone[];

const member = (name: string, short: string, strategy: string, members: string[], extra = ''): string =>
  `  - { name: ${name}, short_number: "${short}", strategy: ${strategy}, ring_time: 5, wrap_up: 0, members: [${members.join(', ')}]${extra} }`;

const QUEUES = [
  'queues:',
  member('rr', '910', 'round_robin', ['ana', 'ben', 'cid']),
  member('idle', '911', 'longest_idle', ['ana', 'ben', 'cid']),
  member('fewest', '912', 'fewest_calls', ['ana', 'ben', 'cid']),
  member('rand', '913', 'random', ['ana', 'ben', 'cid']),
  member('wait', '914', 'as_listed', ['ben'], ', max_wait: 10, timeout_action: { type: transfer, to: "301" }'),
  member('out', '915', 'as_listed', ['cid'], ', max_wait: 600'),
].join('\n');

before(async () => {
  const dir = tempDir('queue-strategies-');
  const site = writeSite(dir, [ext('301', 'Ana', { user: 'ana' }), ext('302', 'Ben', { user: 'ben' }), ext('303', 'Cid', { user: 'cid' }), ext('304', 'Dan', { user: 'dan' })], 'en', QUEUES);
  relais = await startRelais({ dataDir: path.join(dir, 'data'), args: ['--site', site, '--domain', '127.0.0.1'] });
  const start = (name: string, number: string, hz: number) =>
    BaresipPhone.start({ name: `${name}-s`, account: { user: number, password: `secret-${number}`, registrar: `127.0.0.1:${relais.sipPort}`, regint: 600 }, audioFile: makeToneWav(path.join(dir, `${name}.wav`), hz, 240) });
  [ana, ben, cid, dan] = await Promise.all([start('ana', '301', 500), start('ben', '302', 700), start('cid', '303', 900), start('dan', '304', 1100)]);
  agents = [ana, ben, cid];
  await Promise.all([ana, ben, cid, dan].map((p) => p.registered()));
});

after(async () => {
  await Promise.all([ana, ben, cid, dan].map((p) => p?.stop()));
  await relais?.stop();
});

type QueueView = { id: number; name: string; participants: { user: string; loggedIn: boolean; state: string }[]; waiting: unknown[] };

async function queue(name: string): Promise<QueueView> {
  const r = await call(`${relais.url}/api/queues`, { headers: { authorization: basic(ADMIN) } });
  return (r.json.queues as QueueView[]).find((q) => q.name === name)!;
}

/** Marks every phone's events so far as used: waits below see only the events of the call in hand. */
async function drain(): Promise<void> {
  for (const p of [ana, ben, cid, dan]) {
    for (;;) {
      try {
        await p.waitEvent(['CALL_INCOMING', 'CALL_CLOSED', 'CALL_ESTABLISHED', 'CALL_RINGING', 'CALL_PROGRESS', 'CALL_ANSWERED'], 1);
      } catch {
        break;
      }
    }
  }
}

/** The agent that rings next (its first CALL_INCOMING after `cursor`), checking that no other agent rings with it. */
async function nextRung(cursor: Map<BaresipPhone, number>): Promise<BaresipPhone> {
  const rang = (p: BaresipPhone): boolean => p.events.slice(cursor.get(p)).some((e) => e.type === 'CALL_INCOMING');
  await until(() => agents.some(rang), 'an agent to ring', 15_000);
  const ringing = agents.filter(rang);
  assert.equal(ringing.length, 1, `one participant rings at a time (${ringing.map((p) => p.name).join(', ')})`);
  return ringing[0]!;
}

const mark = (): Map<BaresipPhone, number> => new Map(agents.map((p) => [p, p.events.length]));

/**
 * Dan calls the queue; each of `decline` rings first in turn and declines (its ring ends, the next is tried); then
 * the next agent to ring answers, talks, and hangs up. Returns the names of the agents rung, in order.
 */
async function serve(short: string, decline: BaresipPhone[] = []): Promise<string[]> {
  await drain();
  const rung: string[] = [];
  let cursor = mark();
  await dan.dial(short);
  for (const d of decline) {
    const p = await nextRung(cursor);
    rung.push(p.name);
    assert.equal(p, d, `${d.name} rings first, got ${p.name}`);
    cursor = mark();
    await p.hangup();
    await p.closed();
  }
  const p = await nextRung(cursor);
  rung.push(p.name);
  await p.waitEvent('CALL_INCOMING');
  await p.accept();
  await Promise.all([p.established(), dan.established()]);
  const closed = dan.closed();
  await p.hangup();
  await Promise.all([closed, p.closed()]);
  // wrap_up 0: free again once the queue has seen the end of the call.
  await until(async () => (await queue('rr')).participants.every((x) => x.state === 'free'), 'every agent free');
  return rung.map((n) => n.replace(/-s$/, ''));
}

test('round robin with memory: consecutive callers go to the next participant after the one rung last, wrapping round', async () => {
  assert.deepEqual(await serve('910'), ['ana']);
  assert.deepEqual(await serve('910'), ['ben']);
  assert.deepEqual(await serve('910'), ['cid']);
  assert.deepEqual(await serve('910'), ['ana']);
});

test('longest idle: since the participant last received a queue call (a declined ring does not count), ties in list order', async () => {
  // Ana declines, Ben takes the call: Ana has still received none.
  assert.deepEqual(await serve('911', [ana]), ['ana', 'ben']);
  // Ana and Cid never received one: list order → Ana (round robin would ring Cid, after Ben).
  assert.deepEqual(await serve('911'), ['ana']);
  // Cid never received one (as listed would ring Ana).
  assert.deepEqual(await serve('911'), ['cid']);
  // All received one: Ben's is the oldest.
  assert.deepEqual(await serve('911'), ['ben']);
});

test('fewest calls: the participant with the fewest queue calls taken, ties in list order', async () => {
  assert.deepEqual(await serve('912', [ana]), ['ana', 'ben']);
  assert.deepEqual(await serve('912'), ['ana']);
  assert.deepEqual(await serve('912'), ['cid']);
  // One call each: a tie, list order → Ana (longest idle would ring Ben).
  assert.deepEqual(await serve('912'), ['ana']);
});

test('random: one participant rings at a time, a member of the queue', async () => {
  for (let i = 0; i < 3; i++) {
    const [who] = await serve('913');
    assert.ok(['ana', 'ben', 'cid'].includes(who!), who);
  }
});

test('max wait: the caller waiting max_wait seconds gets the timeout action (transfer to 301)', async () => {
  await drain();
  const auth = basic(ADMIN);
  const wait = await queue('wait');
  // Ben paused: still logged in (no timeout at once), but never rung.
  assert.equal((await call(`${relais.url}/api/queues/${wait.id}/pause`, jsonInit('POST', { user: 'ben', reason: 'test' }, auth))).status, 200);
  const t0 = Date.now();
  await dan.dial('914');
  await until(async () => (await queue('wait')).waiting.length === 1, 'Dan waiting');
  const inc = await ana.waitEvent('CALL_INCOMING', 20_000);
  const waited = Date.now() - t0;
  assert.ok(waited >= 9_000, `the transfer came after max_wait (${waited} ms)`);
  assert.match(String(inc.param), /sip:304@/, 'Ana is rung with Dan as the caller');
  await ana.accept();
  await Promise.all([ana.established(), dan.established()]);
  const closed = dan.closed();
  await ana.hangup();
  await Promise.all([closed, ana.closed()]);
  assert.equal((await queue('wait')).waiting.length, 0);
  await call(`${relais.url}/api/queues/${wait.id}/unpause`, jsonInit('POST', { user: 'ben' }, auth));
});

test('the last participant logs out (*42) while a caller waits: the timeout action (hang up) at once', async () => {
  await drain();
  const auth = basic(ADMIN);
  const out = await queue('out');
  assert.equal((await call(`${relais.url}/api/queues/${out.id}/pause`, jsonInit('POST', { user: 'cid', reason: 'test' }, auth))).status, 200);
  await dan.dial('915');
  await until(async () => (await queue('out')).waiting.length === 1, 'Dan waiting');
  const t0 = Date.now();
  await cid.dial('*42915');
  await cid.established();
  await cid.closed(10_000);
  const closed = await dan.closed(10_000);
  assert.ok(Date.now() - t0 < 8_000, `the caller is handled at the logout, not at max_wait (${Date.now() - t0} ms)`);
  assert.match(String(closed.param), /480|Temporarily|closed|unavailable/i, String(closed.param));
  const q = await queue('out');
  assert.equal(q.waiting.length, 0);
  assert.equal(q.participants[0]!.loggedIn, false);
});
