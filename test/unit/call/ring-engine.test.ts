// Ring engine (modes, one winner, per-target ring time on the manual clock) and the feature-code registry.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Store } from '../../../services/storage/index.js';
import { ExtensionRepository, UserRepository } from '../../../services/directory/index.js';
import { ManualClock } from '../../../services/shared/index.js';
import { Call, FeatureCodes, RingEngine, type CallDialog, type RingMode } from '../../../services/call/index.js';
import { FakeRegistrar, FakeSip, type UacCall } from './fakes.js';

const REALM = 'relais.test';

function setup(random?: () => number) {
  const store = Store.open(':memory:');
  const clock = new ManualClock();
  const ext = new ExtensionRepository(store.db, REALM);
  const users = new UserRepository(store.db);
  const ids: number[] = [];
  for (const [i, name] of ['ann', 'ben', 'cat'].entries()) {
    const u = users.create({ username: name, name });
    ids.push(u.id);
    ext.create({ number: String(201 + i), displayName: name, secret: `secret-${i}-xxxx`, userId: u.id });
  }
  const sip = new FakeSip();
  const registrar = new FakeRegistrar(REALM, clock);
  registrar.add('201', 7001);
  registrar.add('202', 7002);
  registrar.add('203', 7003);
  const released: CallDialog[] = [];
  const busy = new Set<string>();
  const engine = new RingEngine({
    sip,
    registrar,
    extensions: ext,
    clock,
    domain: REALM,
    release: (d) => released.push(d),
    isBusy: (e) => busy.has(e.number),
    ...(random ? { random } : {}),
  });
  const call = new Call('c1', 'inbound', { number: '0600', displayName: 'Caller', isExtension: false }, { number: '+331', displayName: '+331', isExtension: false }, 0);
  return { store, clock, sip, engine, call, ids, released, busy };
}

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (cond()) return;
    await new Promise((r) => setImmediate(r));
  }
  assert.fail(`condition never met: ${what}`);
}

const port = (u: UacCall): number => u.opts.target!.port;

test('simultaneous: every target rings at once, the first 200 wins, the others are CANCELled', async () => {
  const t = setup();
  const p = t.engine.ring({ call: t.call, caller: t.call.caller, targets: t.ids.map((userId) => ({ kind: 'user' as const, userId })), mode: 'simultaneous', offer: 'v=0' });
  await until(() => t.sip.uacs.length === 3, 'three branches');
  t.sip.uacs[1]!.answer();
  const r = await p;
  assert.ok(r.ok);
  assert.equal(r.target.party.number, '202');
  assert.equal(t.sip.uacs[0]!.aborted, true);
  assert.equal(t.sip.uacs[2]!.aborted, true);
  assert.equal(t.call.attempts.size, 0);
  t.store.close();
});

test('a second 200 after the winner is released with BYE: never two bridged parties', async () => {
  const t = setup();
  const p = t.engine.ring({ call: t.call, caller: t.call.caller, targets: [{ kind: 'extension', number: '201' }, { kind: 'extension', number: '202' }], mode: 'simultaneous', offer: 'v=0' });
  await until(() => t.sip.uacs.length === 2, 'two branches');
  t.sip.uacs[0]!.answer();
  const late = t.sip.uacs[1]!.answer(); // within the same millisecond
  const r = await p;
  assert.ok(r.ok);
  await until(() => t.released.length === 1, 'late dialog released');
  assert.equal(t.released[0], late);
  t.store.close();
});

test('sequential: each target for its own ring time, as listed, then the failure', async () => {
  const t = setup();
  const tried: string[] = [];
  const p = t.engine.ring({
    call: t.call,
    caller: t.call.caller,
    targets: t.ids.map((userId) => ({ kind: 'user' as const, userId })),
    mode: 'sequential',
    ringTimeMs: 15_000,
    offer: 'v=0',
    onTry: (r) => tried.push(r.party.number),
  });
  await until(() => t.sip.uacs.length === 1, 'first target');
  t.clock.advance(14_999);
  assert.equal(t.sip.uacs.length, 1);
  t.clock.advance(1);
  await until(() => t.sip.uacs.length === 2, 'second target');
  t.sip.uacs[1]!.fail(486);
  await until(() => t.sip.uacs.length === 3, 'third target');
  t.clock.advance(15_000);
  const r = await p;
  assert.equal(r.ok, false);
  assert.deepEqual(tried, ['201', '202', '203']);
  assert.deepEqual(t.sip.uacs.map(port), [7001, 7002, 7003]);
  if (!r.ok) assert.equal(r.status, 486, 'busy beats no answer');
  t.store.close();
});

test('random: only free targets, in the order the random source gives; default ring time 30 s', async () => {
  const t = setup(() => 0); // Fisher-Yates with 0 always: [a,b,c] → [b,c,a]
  t.busy.add('202');
  const p = t.engine.ring({ call: t.call, caller: t.call.caller, targets: t.ids.map((userId) => ({ kind: 'user' as const, userId })), mode: 'random', offer: 'v=0' });
  await until(() => t.sip.uacs.length === 1, 'first');
  t.clock.advance(29_999);
  assert.equal(t.sip.uacs.length, 1);
  t.clock.advance(1);
  await until(() => t.sip.uacs.length === 2, 'second');
  t.sip.uacs[1]!.answer();
  const r = await p;
  assert.ok(r.ok);
  assert.deepEqual(t.sip.uacs.map(port), [7003, 7001]);
  t.store.close();
});

test('longest idle: the user who answered longest ago (or never) rings first', async () => {
  const t = setup();
  t.engine.noteAnswered(t.ids[0]!, 5000);
  t.engine.noteAnswered(t.ids[2]!, 1000);
  const modes: RingMode[] = ['longest_idle'];
  for (const mode of modes) {
    const p = t.engine.ring({ call: t.call, caller: t.call.caller, targets: t.ids.map((userId) => ({ kind: 'user' as const, userId })), mode, offer: 'v=0' });
    await until(() => t.sip.uacs.length === 1, 'first');
    t.sip.uacs[0]!.answer();
    const r = await p;
    assert.ok(r.ok);
    assert.equal(r.target.party.number, '202', 'ben never answered');
  }
  t.store.close();
});

test('unregistered targets are unavailable (480); caller abort gives cancelled', async () => {
  const t = setup();
  const none = await t.engine.ring({ call: t.call, caller: t.call.caller, targets: [{ kind: 'extension', number: '999' }], mode: 'sequential', offer: 'v=0' });
  assert.deepEqual(none.ok ? 'won' : [none.status, none.reason], [480, 'unavailable']);
  const ac = new AbortController();
  const p = t.engine.ring({ call: t.call, caller: t.call.caller, targets: [{ kind: 'extension', number: '201' }], mode: 'sequential', offer: 'v=0', signal: ac.signal });
  await until(() => t.sip.uacs.length === 1, 'ringing');
  ac.abort();
  const r = await p;
  assert.deepEqual(r.ok ? 'won' : [r.reason, r.cancelled], ['cancelled', true]);
  t.store.close();
});

test('feature codes: exact and <digits> patterns, longest fixed part first, duplicates and bad patterns refused', () => {
  const codes = new FeatureCodes();
  const seen: string[] = [];
  codes.register('*97', async () => void seen.push('vm'));
  codes.register('*41<digits>', async (f) => void seen.push(`login ${f.digits}`));
  codes.register('*4<digits>', async () => void seen.push('short'));
  assert.equal(codes.match('*97')?.pattern, '*97');
  assert.equal(codes.match('*971'), undefined);
  assert.deepEqual([codes.match('*41123')?.pattern, codes.match('*41123')?.digits], ['*41<digits>', '123']);
  assert.deepEqual([codes.match('*41')?.pattern, codes.match('*41')?.digits], ['*4<digits>', '1'], '<digits> needs at least one digit');
  assert.equal(codes.match('*4'), undefined);
  assert.equal(codes.match('*45')?.pattern, '*4<digits>');
  assert.throws(() => codes.register('*97', async () => undefined), /already registered/);
  assert.throws(() => codes.register('97', async () => undefined), /must be \* or #/);
  const release = codes.register('*99', async () => undefined);
  release();
  assert.equal(codes.match('*99'), undefined);
  assert.deepEqual(codes.list().map((e) => e.pattern), ['*97', '*41<digits>', '*4<digits>']);
});
