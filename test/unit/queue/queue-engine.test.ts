// The queue engine on an injected clock: strategies, wrap-up, fair order across queues, timeouts, exactly one winner.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pickAgents, ROUND_PAUSE_MS, type Candidate } from '../../../services/queue/index.js';
import { conditionMatches } from '../../../services/directory/index.js';
import { queueConfig, setup, flush, seeded } from './fakes.js';

const A = 1, B = 2, C = 3, D = 4;

test('as listed: from the top of the list each time; after the ring time the next participant rings', async () => {
  const q = queueConfig({ members: [A, B, C] });
  const { engine, ringer, live, clock } = setup([q]);
  const first = engine.enqueue({ queueId: q.id, caller: '0611111111', callId: 'c1' });
  assert.deepEqual(ringer.rung(), [[A]]);
  ringer.current(first.entryId!)!.settle({ unanswered: [A] });
  await flush();
  assert.deepEqual(ringer.rung(), [[A], [B]]);
  ringer.current(first.entryId!)!.settle({ answered: B });
  live.inCall.add(B);
  await flush();
  assert.deepEqual(await first.outcome, { type: 'answered', userId: B, waitMs: 0 });
  // Next caller: the top of the list again (A), not "after B".
  const second = engine.enqueue({ queueId: q.id, caller: '0622222222', callId: 'c2' });
  assert.deepEqual(ringer.rung()[2], [A]);
  // A and C do not answer: B is busy, so after C the round starts again at A.
  ringer.current(second.entryId!)!.settle({ unanswered: [A] });
  await flush();
  assert.deepEqual(ringer.rung()[3], [C]);
  ringer.current(second.entryId!)!.settle({ unanswered: [C] });
  await flush();
  assert.equal(ringer.rings.length, 4, 'everyone free was tried: a pause before the next round');
  clock.advance(ROUND_PAUSE_MS);
  assert.deepEqual(ringer.rung()[4], [A]);
});

test('the engine gives up on a ringer that never answers after ring time + guard, then rings the next', async () => {
  const q = queueConfig({ members: [A, B], ringTime: 15 });
  const { engine, ringer, clock } = setup([q]);
  engine.enqueue({ queueId: q.id, caller: '1', callId: 'c1' });
  assert.deepEqual(ringer.rung(), [[A]]);
  assert.equal(ringer.rings[0]!.req.ringTimeMs, 15_000);
  clock.advance(20_000);
  await flush();
  assert.equal(ringer.rings[0]!.cancelled, true);
  assert.deepEqual(ringer.rung(), [[A], [B]]);
});

test('round robin with memory: consecutive callers go to the next participant after the one rung last', async () => {
  const q = queueConfig({ members: [A, B, C], strategy: 'round_robin', wrapUp: 0 });
  const { engine, ringer, live } = setup([q]);
  const order: number[] = [];
  for (let i = 0; i < 5; i++) {
    const e = engine.enqueue({ queueId: q.id, caller: `${i}`, callId: `c${i}` });
    const r = ringer.current(e.entryId!)!;
    order.push(r.req.userIds[0]!);
    r.settle({ answered: r.req.userIds[0]! });
    live.inCall.add(r.req.userIds[0]!);
    await flush();
    live.inCall.delete(r.req.userIds[0]!);
    engine.entryEnded(e.entryId!);
  }
  assert.deepEqual(order, [A, B, C, A, B]);
});

test('wrap-up blocks the next queue call until it has run out', async () => {
  const q = queueConfig({ members: [A, B], wrapUp: 30 });
  const { engine, ringer, live, clock } = setup([q]);
  const e1 = engine.enqueue({ queueId: q.id, caller: '1', callId: 'c1' });
  ringer.current(e1.entryId!)!.settle({ answered: A });
  live.inCall.add(A);
  await flush();
  clock.advance(60_000);
  live.inCall.delete(A);
  engine.entryEnded(e1.entryId!);
  assert.equal(engine.agentState(q.id, A), 'wrap_up');
  const e2 = engine.enqueue({ queueId: q.id, caller: '2', callId: 'c2' });
  assert.deepEqual(ringer.current(e2.entryId!)!.req.userIds, [B], 'A in wrap-up: B rings');
  ringer.current(e2.entryId!)!.settle({ unanswered: [B] });
  await flush();
  // Only B is free, and it was tried: after the round pause B rings again; A still in wrap-up.
  clock.advance(ROUND_PAUSE_MS);
  assert.deepEqual(ringer.current(e2.entryId!)!.req.userIds, [B]);
  ringer.current(e2.entryId!)!.settle({ unanswered: [B] });
  await flush();
  clock.advance(29_000 - ROUND_PAUSE_MS);
  assert.equal(engine.agentState(q.id, A), 'wrap_up');
  clock.advance(1_000);
  assert.equal(engine.agentState(q.id, A), 'free', 'wrap-up over');
  ringer.current(e2.entryId!)!.settle({ unanswered: [B] });
  await flush();
  assert.deepEqual(ringer.current(e2.entryId!)!.req.userIds, [A], 'A gets the waiting caller');
});

test('longest idle: since the participant last received a queue call, never first, ties in list order', async () => {
  const q = queueConfig({ members: [A, B, C, D], strategy: 'longest_idle', wrapUp: 0 });
  q.participants[0]!.lastReceivedAt = 3_000; // A
  q.participants[1]!.lastReceivedAt = 1_000; // B
  // C and D never received one: a tie, list order says C.
  const { engine, ringer, live, clock } = setup([q]);
  const order: number[] = [];
  for (let i = 0; i < 4; i++) {
    clock.advance(1_000);
    const e = engine.enqueue({ queueId: q.id, caller: `${i}`, callId: `c${i}` });
    const r = ringer.current(e.entryId!)!;
    order.push(r.req.userIds[0]!);
    r.settle({ answered: r.req.userIds[0]! });
    live.inCall.add(r.req.userIds[0]!);
    await flush();
    live.inCall.delete(r.req.userIds[0]!);
    engine.entryEnded(e.entryId!);
  }
  assert.deepEqual(order, [C, D, B, A]);
});

test('longest idle counts calls received, not rings missed', async () => {
  const q = queueConfig({ members: [A, B], strategy: 'longest_idle', wrapUp: 0 });
  const { engine, ringer, live } = setup([q]);
  const e = engine.enqueue({ queueId: q.id, caller: '1', callId: 'c1' });
  ringer.current(e.entryId!)!.settle({ unanswered: [A] });
  await flush();
  ringer.current(e.entryId!)!.settle({ answered: B });
  live.inCall.add(B);
  await flush();
  live.inCall.delete(B);
  engine.entryEnded(e.entryId!);
  const e2 = engine.enqueue({ queueId: q.id, caller: '2', callId: 'c2' });
  assert.deepEqual(ringer.current(e2.entryId!)!.req.userIds, [A], 'A only missed a ring: still the longest idle');
});

test('fewest calls: the participant with the fewest queue calls, ties in list order', () => {
  const q = queueConfig({ members: [A, B, C], strategy: 'fewest_calls' });
  q.participants[0]!.callsTaken = 5;
  q.participants[1]!.callsTaken = 2;
  q.participants[2]!.callsTaken = 2;
  const { engine, ringer } = setup([q]);
  const e = engine.enqueue({ queueId: q.id, caller: '1', callId: 'c1' });
  assert.deepEqual(ringer.current(e.entryId!)!.req.userIds, [B]);
});

test('simultaneous: every free participant rings, not those in a call, in wrap-up or paused', () => {
  const q = queueConfig({ members: [A, B, C, D], strategy: 'simultaneous' });
  const { engine, ringer, live } = setup([q]);
  live.inCall.add(B);
  engine.setPaused(D, true, 'lunch');
  const e = engine.enqueue({ queueId: q.id, caller: '1', callId: 'c1' });
  assert.deepEqual(ringer.current(e.entryId!)!.req.userIds, [A, C]);
});

test('random is fair: 10,000 draws over four participants are within 5 % of a quarter each', () => {
  const rnd = seeded(42);
  const free: Candidate[] = [A, B, C, D].map((userId, position) => ({ userId, position, lastReceivedAt: null, callsTaken: 0 }));
  const counts = new Map<number, number>();
  for (let i = 0; i < 10_000; i++) {
    const [u] = pickAgents('random', { free, tried: new Set(), lastPosition: -1, random: rnd });
    counts.set(u!, (counts.get(u!) ?? 0) + 1);
  }
  for (const u of [A, B, C, D]) {
    const n = counts.get(u) ?? 0;
    assert.ok(Math.abs(n - 2_500) < 125, `participant ${u} drawn ${n} times`);
  }
});

test('random through the engine does not ring the one who just missed while others are untried', async () => {
  const q = queueConfig({ members: [A, B], strategy: 'random' });
  const { engine, ringer } = setup([q], { random: seeded(7) });
  const e = engine.enqueue({ queueId: q.id, caller: '1', callId: 'c1' });
  const first = ringer.current(e.entryId!)!.req.userIds[0]!;
  ringer.current(e.entryId!)!.settle({ unanswered: [first] });
  await flush();
  assert.notEqual(ringer.current(e.entryId!)!.req.userIds[0], first);
});

test('fair order across queues: an agent serving two queues takes the caller who arrived first', async () => {
  const q1 = queueConfig({ members: [A] });
  const q2 = queueConfig({ members: [A] });
  const { engine, ringer, live, clock } = setup([q1, q2]);
  live.inCall.add(A); // busy with something else
  engine.agentChanged();
  const early = engine.enqueue({ queueId: q2.id, caller: 'early', callId: 'c1' });
  clock.advance(5_000);
  const late = engine.enqueue({ queueId: q1.id, caller: 'late', callId: 'c2' });
  assert.equal(ringer.rings.length, 0);
  live.inCall.delete(A);
  engine.agentChanged();
  assert.equal(ringer.rings.length, 1);
  assert.equal(ringer.rings[0]!.req.entry.id, early.entryId);
  assert.equal(engine.position(late.entryId!), 1);
});

test('fair order: same arrival time, higher priority first', () => {
  const q1 = queueConfig({ members: [A] });
  const q2 = queueConfig({ members: [A] });
  const { engine, ringer, live } = setup([q1, q2]);
  live.inCall.add(A);
  engine.agentChanged();
  engine.enqueue({ queueId: q1.id, caller: 'low', callId: 'c1', priority: 0 });
  const high = engine.enqueue({ queueId: q2.id, caller: 'high', callId: 'c2', priority: 5 });
  live.inCall.delete(A);
  engine.agentChanged();
  assert.equal(ringer.rings[0]!.req.entry.id, high.entryId);
});

test('max wait: the caller gets the timeout action and sound', async () => {
  const q = queueConfig({ members: [A], maxWait: 60, timeoutAction: { type: 'transfer', to: '200' }, timeoutSoundId: 7 });
  const { engine, ringer, live, clock } = setup([q]);
  live.inCall.add(A);
  engine.agentChanged();
  const e = engine.enqueue({ queueId: q.id, caller: '1', callId: 'c1' });
  clock.advance(59_999);
  assert.equal(engine.position(e.entryId!), 1);
  clock.advance(1);
  assert.deepEqual(await e.outcome, { type: 'timeout', reason: 'max_wait', action: { type: 'transfer', to: '200' }, soundId: 7, waitMs: 60_000 });
  assert.equal(ringer.rings.length, 0);
});

test('max wait while ringing cancels the ring', async () => {
  const q = queueConfig({ members: [A], maxWait: 10, ringTime: 20 });
  const { engine, ringer, clock } = setup([q]);
  const e = engine.enqueue({ queueId: q.id, caller: '1', callId: 'c1' });
  clock.advance(10_000);
  assert.equal((await e.outcome).type, 'timeout');
  assert.equal(ringer.rings[0]!.cancelled, true);
  assert.equal(engine.agentState(q.id, A), 'free');
});

test('nobody logged in (or registered): the timeout action at once; paused still counts as logged in', async () => {
  const q = queueConfig({ members: [A, B], timeoutAction: { type: 'queue', queue: 'other' } });
  const { engine, live } = setup([q], { registered: [B] });
  engine.setLoggedIn(q.id, B, false);
  const e = engine.enqueue({ queueId: q.id, caller: '1', callId: 'c1' });
  assert.equal(e.entryId, null);
  assert.deepEqual(await e.outcome, { type: 'timeout', reason: 'no_agent', action: { type: 'queue', queue: 'other' }, soundId: null, waitMs: 0 });
  engine.setLoggedIn(q.id, B, true);
  engine.setPaused(B, true, 'meeting');
  const e2 = engine.enqueue({ queueId: q.id, caller: '2', callId: 'c2' });
  assert.notEqual(e2.entryId, null, 'paused participant is logged in: the caller waits');
  live.registered.delete(B);
  engine.agentChanged();
  assert.equal((await e2.outcome).type, 'timeout', 'last registered participant gone: waiting caller times out');
});

test('callers already waiting time out when the last participant logs out', async () => {
  const q = queueConfig({ members: [A] });
  const { engine, live, clock } = setup([q]);
  live.inCall.add(A);
  engine.agentChanged();
  const e1 = engine.enqueue({ queueId: q.id, caller: '1', callId: 'c1' });
  const e2 = engine.enqueue({ queueId: q.id, caller: '2', callId: 'c2' });
  clock.advance(4_000);
  engine.setLoggedIn(q.id, A, false);
  const o1 = await e1.outcome;
  const o2 = await e2.outcome;
  assert.equal(o1.type === 'timeout' && o1.reason, 'no_agent');
  assert.equal(o2.type === 'timeout' && o2.waitMs, 4_000);
});

test('closed, opening hours and exceptional closure', async () => {
  const q = queueConfig({ members: [A], openingHours: [{ weekdays: ['mon', 'tue', 'wed', 'thu', 'fri'], times: ['08:00-18:00'] }] });
  const { engine, clock } = setup([q]);
  // ManualClock starts Wed 2026-11-25 09:00 UTC; the site calendar is judged in UTC.
  const tz = 'UTC';
  const e0 = new (await import('../../../services/queue/index.js')).QueueEngine({ clock, live: { isRegistered: () => true, isInCall: () => false }, ringer: { ring: () => ({ result: new Promise(() => undefined), cancel: () => undefined }) }, conditions: { matches: (c, at) => conditionMatches(c, at, tz) } });
  e0.configure([q]);
  assert.equal(e0.availability(q.id), 'open');
  assert.equal(e0.availability(q.id, Date.UTC(2026, 10, 25, 19, 0)), 'closed');
  assert.equal(e0.availability(q.id, Date.UTC(2026, 10, 28, 10, 0)), 'closed', 'saturday');
  e0.configure([{ ...q, closed: true }]);
  assert.deepEqual(await e0.enqueue({ queueId: q.id, caller: '1' }).outcome, { type: 'closed' });
  e0.configure([{ ...q, exceptionalClosure: true, closureAction: { type: 'forward', to: '0611' } }]);
  assert.deepEqual(await e0.enqueue({ queueId: q.id, caller: '1' }).outcome, { type: 'exceptional_closure', action: { type: 'forward', to: '0611' } });
  e0.close();
  engine.close();
});

test('automatic pause after N unanswered rings in a row, with reason no_answer', async () => {
  const q = queueConfig({ members: [A, B], autoPauseAfter: 2 });
  const { engine, ringer, events, clock } = setup([q]);
  const e = engine.enqueue({ queueId: q.id, caller: '1', callId: 'c1' });
  ringer.current(e.entryId!)!.settle({ unanswered: [A] });
  await flush();
  ringer.current(e.entryId!)!.settle({ unanswered: [B] });
  await flush();
  clock.advance(ROUND_PAUSE_MS);
  ringer.current(e.entryId!)!.settle({ unanswered: [A] });
  await flush();
  assert.equal(engine.agentState(q.id, A), 'paused');
  assert.ok(events.some((x) => x.type === 'agent.pause' && x.userId === A && x.paused && x.reason === 'no_answer'));
  assert.deepEqual(ringer.current(e.entryId!)!.req.userIds, [B]);
});

test('never stuck busy: a connected agent without a live call is reconciled into wrap-up', async () => {
  const q = queueConfig({ members: [A], wrapUp: 5 });
  const { engine, ringer, live, clock } = setup([q]);
  const e = engine.enqueue({ queueId: q.id, caller: '1', callId: 'c1' });
  ringer.current(e.entryId!)!.settle({ answered: A });
  live.inCall.add(A);
  await flush();
  assert.equal(engine.agentState(q.id, A), 'in_call');
  clock.advance(10_000);
  live.inCall.delete(A); // the call's end event was lost
  engine.agentChanged();
  assert.equal(engine.agentState(q.id, A), 'wrap_up');
  clock.advance(5_000);
  assert.equal(engine.agentState(q.id, A), 'free');
});

test('exactly one winner: an answer from someone not rung, or after the caller left, connects nobody', async () => {
  const q = queueConfig({ members: [A, B], strategy: 'simultaneous' });
  const { engine, ringer, events } = setup([q]);
  const e = engine.enqueue({ queueId: q.id, caller: '1', callId: 'c1' });
  const ring = ringer.current(e.entryId!)!;
  engine.leave(e.entryId!);
  ring.settle({ answered: A });
  await flush();
  assert.equal((await e.outcome).type, 'abandoned');
  assert.equal(events.filter((x) => x.type === 'queue.answered').length, 0);
  const e2 = engine.enqueue({ queueId: q.id, caller: '2', callId: 'c2' });
  ringer.current(e2.entryId!)!.settle({ answered: 99 });
  await flush();
  assert.equal(events.filter((x) => x.type === 'queue.answered').length, 0);
});

test('a callback keeps its place (origin arrival) but is not offered before its delay', async () => {
  const q = queueConfig({ members: [A] });
  const { engine, ringer, live, clock } = setup([q]);
  live.inCall.add(A);
  engine.agentChanged();
  const t0 = clock.now();
  clock.advance(1_000);
  engine.enqueue({ queueId: q.id, caller: 'later', callId: 'c2' });
  const cb = engine.enqueue({ queueId: q.id, kind: 'callback', callbackId: 9, caller: 'early', arrivedAt: t0, notBefore: t0 + 120_000 });
  assert.equal(engine.position(cb.entryId!), 1, 'kept its place');
  live.inCall.delete(A);
  engine.agentChanged();
  assert.equal(ringer.rings[0]!.req.entry.caller, 'later', 'callback not due yet');
  ringer.rings[0]!.settle({ answered: A });
  await flush();
  clock.advance(119_000); // callbacks have no max wait; A still in the call
  assert.equal(ringer.rings.length, 1);
  const last = ringer.rings.length;
  live.inCall.delete(A);
  engine.entryEnded(ringer.rings[0]!.req.entry.id);
  clock.advance(10_000);
  assert.equal(ringer.rings.length, last + 1);
  assert.equal(ringer.rings[last]!.req.entry.kind, 'callback');
});

test('events: join, ringing, answered, call ended, agent states', async () => {
  const q = queueConfig({ members: [A], wrapUp: 0 });
  const { engine, ringer, live, events } = setup([q]);
  const e = engine.enqueue({ queueId: q.id, caller: '1', callId: 'c1' });
  ringer.current(e.entryId!)!.settle({ answered: A });
  live.inCall.add(A);
  await flush();
  live.inCall.delete(A);
  engine.entryEnded(e.entryId!);
  const types = events.map((x) => (x.type === 'agent.state' ? `state:${x.state}` : x.type));
  assert.deepEqual(types, ['state:free', 'queue.joined', 'queue.ringing', 'state:ringing', 'queue.answered', 'state:in_call', 'queue.call_ended', 'state:free']);
});

test('a participant whose phone fails at once is not rung in a tight loop: one ring per round pause', async () => {
  const q = queueConfig({ members: [A], strategy: 'simultaneous' });
  const { engine, ringer, clock } = setup([q]);
  const e = engine.enqueue({ queueId: q.id, caller: '1', callId: 'c1' });
  for (let i = 0; i < 3; i++) {
    ringer.current(e.entryId!)!.settle({ unanswered: [A] });
    await flush();
    clock.advance(ROUND_PAUSE_MS);
  }
  assert.equal(ringer.rings.length, 4);
});
