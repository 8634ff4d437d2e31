// The queues module over a real SQLite store: lost-call callbacks, dedupe, Neglected, retries, restart recovery,
// participant state written through, stats.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { Store } from '../../../services/storage/index.js';
import { Directory, conditionMatches } from '../../../services/directory/index.js';
import { ManualClock, Logger } from '../../../services/shared/index.js';
import { QueueService, type QueueServiceEvent } from '../../../services/queue/index.js';
import { FakeLive, FakeRinger, flush } from './fakes.js';
import { tempDir } from '../../helpers/relais-process.js';

function world(file = ':memory:', clock = new ManualClock()) {
  const store = Store.open(file);
  const dir = new Directory(store.db, 'relais.test', () => clock.now());
  return { store, dir, clock };
}

function service(w: ReturnType<typeof world>, live = new FakeLive(), ringer = new FakeRinger()) {
  const svc = new QueueService({ db: w.store.db, queues: w.dir.queues, clock: w.clock, logger: new Logger('silent'), live, ringer, conditions: { matches: (c, at) => conditionMatches(c, at, 'UTC') }, pollMs: 0 });
  const events: QueueServiceEvent[] = [];
  svc.observer.on('event', (e) => events.push(e));
  return { svc, live, ringer, events };
}

function office(w: ReturnType<typeof world>, rules = {}) {
  const alice = w.dir.users.create({ username: 'alice' });
  const bob = w.dir.users.create({ username: 'bob' });
  const q = w.dir.queues.create({ name: 'support', shortNumber: '900', lostCallRules: { afterAbandon: true, afterTimeout: false, afterNoAgent: true, minWaitSeconds: 10, businessHoursOnly: false, maxAttempts: 2, retryDelayMinutes: 5, ...rules } });
  w.dir.queues.setMembers(q.id, [{ userId: alice.id }, { userId: bob.id }]);
  return { alice: alice.id, bob: bob.id, q: q.id };
}

function addCall(w: ReturnType<typeof world>, id: string, caller: string, ivr: Record<string, string> = {}): void {
  w.store.db.prepare("INSERT INTO calls (id, direction, caller, callee, started_at, ivr_data) VALUES (?, 'inbound', ?, '0100', ?, ?)").run(id, caller, w.clock.now(), JSON.stringify(ivr));
}

test('new queues get the defaults; round_robin and fewest_calls are stored; a bad strategy is refused by name', () => {
  const w = world();
  const q = w.dir.queues.create({ name: 'a', shortNumber: '901' });
  assert.equal(q.strategy, 'as_listed');
  assert.equal(q.ringTime, 20);
  assert.equal(q.maxWait, 300);
  assert.equal(q.wrapUp, 10);
  assert.equal(q.autoPauseAfter, 0);
  assert.equal(q.callbackOrder, 'agent_first');
  assert.equal(q.lostCallRules.afterAbandon, false);
  assert.equal(w.dir.queues.update(q.id, { strategy: 'round_robin' }).strategy, 'round_robin');
  assert.equal(w.dir.queues.update(q.id, { strategy: 'fewest_calls' }).strategy, 'fewest_calls');
  assert.throws(() => w.dir.queues.update(q.id, { strategy: 'bogus' as never }), /strategy "bogus"/);
  assert.throws(() => w.store.db.prepare("UPDATE queues SET strategy = 'bogus'").run(), /CHECK constraint/);
  assert.throws(() => w.dir.queues.update(q.id, { lostCallRules: { ...q.lostCallRules, maxAttempts: 0 } }), (e: Error & { field?: string }) => e.field === 'lostCallRules.maxAttempts');
  w.store.close();
});

test('abandon after the minimum wait → a Scheduled LostCall callback linked to its origin, with what the caller keyed in', async () => {
  const w = world();
  const o = office(w);
  const { svc, live, events } = service(w);
  live.registered.add(o.alice);
  live.inCall.add(o.alice);
  await svc.start();
  addCall(w, 'call-1', '+33612345678', { callback_number: '0612345678', service: 'billing' });
  const e = svc.distribute({ queueId: o.q, caller: '+33612345678', callId: 'call-1' });
  w.clock.advance(9_000);
  addCall(w, 'call-0', '0699999999');
  const short = svc.distribute({ queueId: o.q, caller: '0699999999', callId: 'call-0' });
  w.clock.advance(2_000);
  svc.engine.leave(short.entryId!); // waited 2 s: not a lost call
  svc.engine.leave(e.entryId!); // waited 11 s: lost
  const cbs = svc.callbacks.list();
  assert.equal(cbs.length, 1);
  const cb = cbs[0]!;
  assert.equal(cb.status, 'scheduled');
  assert.equal(cb.linkType, 'LostCall');
  assert.equal(cb.source, 'lost_call');
  assert.equal(cb.originCallId, 'call-1');
  assert.equal(cb.number, '+33612345678');
  assert.deepEqual(cb.data, { callback_number: '0612345678', service: 'billing' });
  const ev = w.store.db.prepare("SELECT type, data FROM call_events WHERE call_id = 'call-1'").all() as { type: string; data: string }[];
  assert.deepEqual(ev, [{ type: 'LostCall', data: JSON.stringify({ callbackId: cb.id }) }]);
  assert.ok(events.some((x) => x.type === 'callback.scheduled'));
  // The same caller abandons again (national form): never two pending callbacks for one number in one queue.
  const again = svc.distribute({ queueId: o.q, caller: '0612345678', callId: null });
  w.clock.advance(20_000);
  svc.engine.leave(again.entryId!);
  assert.equal(svc.callbacks.list().length, 1);
  assert.equal(svc.createCallback({ number: '0033612345678', queueId: o.q }).created, false);
  await svc.stop();
  w.store.close();
});

test('nobody logged in → timeout action, and a callback when the no-agent rule asks', async () => {
  const w = world();
  const o = office(w);
  const { svc } = service(w);
  await svc.start();
  const e = svc.distribute({ queueId: o.q, caller: '0611111111', callId: null });
  const out = await e.outcome;
  assert.equal(out.type === 'timeout' && out.reason, 'no_agent');
  assert.equal(svc.callbacks.list()[0]?.number, '0611111111');
  await svc.stop();
  w.store.close();
});

test('Neglected: a later call from the same number served by a person cancels Scheduled LostCall callbacks only', async () => {
  const w = world();
  const o = office(w);
  const { svc, live, ringer, events } = service(w);
  live.registered.add(o.alice);
  await svc.start();
  const lost = svc.createCallback({ number: '0612345678', queueId: o.q, linkType: 'LostCall', source: 'lost_call', dueAt: w.clock.now() + 3_600_000 }).callback;
  const manual = svc.createCallback({ number: '0612345678', dueAt: w.clock.now() + 3_600_000 }).callback;
  const offer = svc.createCallback({ number: '0612345678', queueId: null, linkType: 'CallBack', source: 'offer' }).callback;
  assert.equal(offer.id, manual.id, 'same number, same (no) queue: the pending one gets the link');
  const e = svc.distribute({ queueId: o.q, caller: '+33 6 12 34 56 78', callId: null });
  ringer.current(e.entryId!)!.settle({ answered: o.alice });
  await flush();
  assert.equal(svc.callbacks.require(lost.id).status, 'neglected');
  assert.equal(svc.callbacks.require(manual.id).status, 'scheduled', 'CallBack-linked callbacks stay');
  assert.ok(events.some((x) => x.type === 'callback.neglected'));
  assert.equal(svc.callbackEntry(lost.id), undefined, 'no longer waiting in the queue');
  await svc.stop();
  w.store.close();
});

test('a callback keeps its place; when its turn comes an agent is rung; retries after a delay, then failed', async () => {
  const w = world();
  const o = office(w);
  const { svc, live, ringer, events } = service(w);
  live.registered.add(o.alice);
  await svc.start();
  const cb = svc.createCallback({ number: '0612345678', queueId: o.q, linkType: 'CallBack', source: 'offer', delayMinutes: 2, arrivedAt: w.clock.now() - 60_000 }).callback;
  assert.equal(ringer.rings.length, 0, 'not before its delay');
  w.clock.advance(120_000);
  const ring = ringer.rings[0]!;
  assert.equal(ring.req.entry.kind, 'callback');
  assert.equal(ring.req.entry.callbackId, cb.id);
  ring.settle({ answered: o.alice });
  await flush();
  assert.equal(svc.callbacks.require(cb.id).status, 'dialling');
  svc.engine.entryEnded(ring.req.entry.id);
  const retry = svc.callbackAttempt(cb.id, 'no_answer');
  assert.equal(retry.status, 'scheduled');
  assert.equal(retry.attempts, 1);
  assert.equal(retry.dueAt, w.clock.now() + 5 * 60_000);
  w.clock.advance(5 * 60_000 + 10_000);
  assert.equal(ringer.rings.length, 2, 'dialled again after the retry delay');
  assert.equal(svc.callbackAttempt(cb.id, 'no_answer').status, 'failed', 'two attempts allowed');
  assert.ok(events.some((x) => x.type === 'callback.failed'));
  await svc.stop();
  w.store.close();
});

test('callbacks via the API shape: bad number and unknown queue name the field; cancel, reschedule, link later', async () => {
  const w = world();
  const o = office(w);
  const { svc } = service(w);
  await svc.start();
  assert.throws(() => svc.createCallback({ number: 'x' }), (e: Error & { field?: string }) => e.field === 'number');
  assert.throws(() => svc.createCallback({ number: '0611', queueId: 999 }), (e: Error & { field?: string }) => e.field === 'queueId');
  const cb = svc.createCallback({ number: '0611223344', queueId: o.q, dueAt: w.clock.now() + 3_600_000 }).callback;
  assert.equal(cb.linkType, null);
  addCall(w, 'orig', '0611223344');
  const linked = svc.updateCallback(cb.id, { linkType: 'LostCall', originCallId: 'orig' });
  assert.equal(linked.linkType, 'LostCall');
  assert.equal(linked.originCallId, 'orig');
  const moved = svc.updateCallback(cb.id, { dueAt: w.clock.now() + 60_000 });
  assert.equal(moved.dueAt, w.clock.now() + 60_000);
  assert.equal(svc.cancelCallback(cb.id).status, 'cancelled');
  assert.throws(() => svc.cancelCallback(cb.id), /cancelled/);
  await svc.stop();
  w.store.close();
});

test('restart: participant login/pause and pending callbacks survive; callers waiting become lost calls (callbacks by rule)', async () => {
  const file = path.join(tempDir('queue-restart-'), 'relais.db');
  const clock = new ManualClock();
  const w1 = world(file, clock);
  const o = office(w1);
  const a = service(w1);
  a.live.registered.add(o.alice);
  a.live.registered.add(o.bob);
  a.live.inCall.add(o.alice);
  a.live.inCall.add(o.bob);
  await a.svc.start();
  a.svc.setLoggedIn(o.q, o.bob, false);
  a.svc.setPaused(o.alice, true, 'lunch');
  const kept = a.svc.createCallback({ number: '0655555555', queueId: o.q, dueAt: clock.now() + 3_600_000 }).callback;
  a.svc.distribute({ queueId: o.q, caller: '0677777777', callId: null });
  clock.advance(30_000);
  // Crash: no stop(). A new process opens the same database.
  const w2 = { store: Store.open(file), dir: undefined as unknown as Directory, clock };
  w2.dir = new Directory(w2.store.db, 'relais.test', () => clock.now());
  const b = service(w2);
  b.live.registered.add(o.alice);
  await b.svc.start();
  const view = b.svc.engine.views()[0]!;
  assert.deepEqual(view.participants.map((p) => [p.userId, p.loggedIn, p.paused, p.pauseReason]), [[o.alice, true, true, 'lunch'], [o.bob, false, false, null]]);
  assert.equal(view.waiting.filter((x) => x.kind === 'call').length, 0);
  const cbs = b.svc.callbacks.list();
  assert.deepEqual(cbs.map((c) => [c.number, c.status]).sort(), [['0655555555', 'scheduled'], ['0677777777', 'scheduled']]);
  assert.ok(b.svc.callbackEntry(kept.id), 'pending callback back in its queue');
  const row = w2.store.db.prepare("SELECT outcome, reason FROM queue_calls WHERE caller = '0677777777'").get();
  assert.deepEqual({ ...(row as object) }, { outcome: 'lost', reason: 'restart' });
  await b.svc.stop();
  w2.store.close();
  w1.store.close();
});

test('stats per queue and per agent', async () => {
  const w = world();
  const o = office(w);
  const { svc, live, ringer } = service(w);
  live.registered.add(o.alice);
  await svc.start();
  const e1 = svc.distribute({ queueId: o.q, caller: '0611111111', callId: null });
  w.clock.advance(5_000);
  ringer.current(e1.entryId!)!.settle({ answered: o.alice });
  live.inCall.add(o.alice);
  await flush();
  w.clock.advance(60_000);
  live.inCall.delete(o.alice);
  svc.engine.entryEnded(e1.entryId!);
  w.clock.advance(10_000);
  const e2 = svc.distribute({ queueId: o.q, caller: '0622222222', callId: null });
  w.clock.advance(30_000);
  ringer.current(e2.entryId!)!.settle({ answered: o.alice });
  live.inCall.add(o.alice);
  await flush();
  const e3 = svc.distribute({ queueId: o.q, caller: '0633333333', callId: null });
  w.clock.advance(15_000);
  svc.engine.leave(e3.entryId!);
  const s = svc.stats(o.q, 0);
  assert.equal(s.answered, 2);
  assert.equal(s.abandoned, 1);
  assert.equal(s.serviceLevel, 1 / 3, 'one of three answered within 20 s');
  assert.equal(s.averageWaitMs, 17_500);
  assert.equal(s.averageTalkMs, 60_000);
  const ag = svc.agentStats(0).find((x) => x.userId === o.alice)!;
  assert.equal(ag.calls, 2);
  assert.equal(ag.talkMs, 60_000);
  await svc.stop();
  w.store.close();
});

test('site file: the queue engine fields import, export (only when not default) and name the field when wrong', async () => {
  const { importSiteText, exportSiteText } = await import('../../../services/site/index.js');
  const w = world();
  const text = `users:
  - username: alice
queues:
  - name: support
    short_number: "900"
    strategy: round_robin
    auto_pause_after: 3
    callback_order: caller_first
    service_level: 30
    lost_call_rules: {after_abandon: true, min_wait: 20, retry_delay: 15}
    members: [alice]
  - name: sales
    short_number: "901"
`;
  importSiteText(w.store, 'relais.test', text);
  const q = w.dir.queues.findByName('support')!;
  assert.equal(q.strategy, 'round_robin');
  assert.equal(q.autoPauseAfter, 3);
  assert.equal(q.callbackOrder, 'caller_first');
  assert.equal(q.serviceLevel, 30);
  assert.deepEqual(q.lostCallRules, { afterAbandon: true, afterTimeout: false, afterNoAgent: false, minWaitSeconds: 20, businessHoursOnly: true, maxAttempts: 3, retryDelayMinutes: 15 });
  const out = exportSiteText(w.store, 'relais.test');
  assert.match(out, /lost_call_rules:\n\s+after_abandon: true\n\s+min_wait: 20\n\s+retry_delay: 15/);
  assert.doesNotMatch(out.split('name: sales')[1]!, /auto_pause_after|lost_call_rules|callback_order/);
  assert.throws(() => importSiteText(w.store, 'relais.test', text.replace('min_wait: 20', 'min_wait: -1')), /queues\[0\]\.lost_call_rules\.min_wait/);
  assert.throws(() => importSiteText(w.store, 'relais.test', text.replace('caller_first', 'both')), /queues\[0\]\.callback_order/);
  w.store.close();
});
