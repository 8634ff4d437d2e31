// CallHistory write-behind: rows land on the next turn or at the end of the batch interval, reads flush first, one bad row loses nothing else.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Store } from '../../../services/storage/index.js';
import { CallHistory } from '../../../services/call/index.js';

test('batched history: reads see queued rows, a constraint failure is reported and the rest of the batch kept', () => {
  const store = Store.open(':memory:');
  const errors: unknown[] = [];
  const h = new CallHistory(store.db, { batchMs: 60_000, onError: (e) => errors.push(e) });
  h.create({ id: 'c1', direction: 'internal', caller: '101', callee: '102', startedAt: 1 });
  h.event('c1', 2, 'call.started', { dialled: '102' });
  h.create({ id: 'c2', direction: 'inbound', caller: 'x', callee: '102', startedAt: 3, numberId: 999 }); // no such number
  h.answered('c1', 4, null);
  h.ended('c1', 5, 'caller-hangup');
  assert.equal((store.db.prepare('SELECT count(*) AS n FROM calls').get() as { n: number }).n, 0, 'nothing written before the flush');
  const rows = h.list();
  assert.deepEqual(rows.map((r) => [r.id, r.status, r.cause]), [['c1', 'ended', 'caller-hangup']]);
  assert.equal(errors.length, 1, 'the bad row was reported');
  assert.deepEqual(h.events('c1').map((e) => e.type), ['call.started']);
  store.close();
});

test('the write-behind flush runs on the injected clock: a change after a quiet moment lands on the next turn, the changes of a burst at most once per interval', async () => {
  const { ManualClock } = await import('../../../services/shared/index.js');
  const clock = new ManualClock();
  const store = Store.open(':memory:', { clock });
  const h = new CallHistory(store.db, { batchMs: 50, minBatchMs: 50, clock });
  const count = (): number => (store.db.prepare('SELECT count(*) AS n FROM calls').get() as { n: number }).n;
  h.create({ id: 'c1', direction: 'internal', caller: '101', callee: '102', startedAt: clock.now() });
  assert.equal(count(), 0, 'not within the turn that made the change');
  clock.advance(0);
  assert.equal(count(), 1, 'written on the next turn: a crash now loses nothing');
  clock.advance(10);
  h.create({ id: 'c2', direction: 'internal', caller: '101', callee: '103', startedAt: clock.now() });
  h.create({ id: 'c3', direction: 'internal', caller: '101', callee: '104', startedAt: clock.now() });
  clock.advance(39);
  assert.equal(count(), 1, 'a burst waits for the end of the interval since the last commit');
  clock.advance(1);
  assert.equal(count(), 3, 'and then goes in one commit');
  assert.equal(clock.pendingTimers(), 0);
  clock.advance(500);
  h.create({ id: 'c4', direction: 'internal', caller: '101', callee: '105', startedAt: clock.now() });
  clock.advance(0);
  assert.equal(count(), 4, 'quiet again: the next turn');
  h.create({ id: 'c5', direction: 'internal', caller: '101', callee: '106', startedAt: clock.now() });
  h.list();
  assert.equal(clock.pendingTimers(), 0, 'a read writes first and leaves nothing scheduled');
  assert.equal((store.db.prepare('SELECT min(applied_at) AS t FROM schema_migrations').get() as { t: number }).t, Date.UTC(2026, 10, 25, 9, 0, 0), 'migrations stamped with the clock');
  store.close();
});

test('a call created, answered and ended within one batch is one INSERT with its final state; the same calls written at once agree', () => {
  const rowsOf = (batchMs: number): unknown[] => {
    const store = Store.open(':memory:');
    const h = new CallHistory(store.db, { batchMs });
    h.create({ id: 'c1', direction: 'inbound', caller: '0612', callee: '200', startedAt: 1 });
    h.answered('c1', 2, null, '201');
    h.setRecording('c1', 'recordings/c1.wav');
    h.ended('c1', 3, 'caller-hangup');
    h.ended('c1', 4, 'late'); // only the first end counts
    h.create({ id: 'c2', direction: 'internal', caller: '201', callee: '202', startedAt: 5 });
    h.setStatus('c2', 'voicemail');
    h.create({ id: 'c3', direction: 'internal', caller: '201', callee: '203', startedAt: 6 });
    h.flush();
    h.answered('c3', 7, null); // after the flush: an UPDATE of the written row
    h.ended('c3', 8, 'callee-hangup');
    const rows = h.list().map((r) => ({ ...r }));
    store.close();
    return rows;
  };
  const batched = rowsOf(60_000);
  assert.deepEqual(batched, rowsOf(0));
  const c1 = batched.find((r) => (r as { id: string }).id === 'c1') as Record<string, unknown>;
  assert.deepEqual([c1.status, c1.callee, c1.answeredAt, c1.endedAt, c1.cause, c1.recording], ['ended', '201', 2, 3, 'caller-hangup', 'recordings/c1.wav']);
});

test('events of a batch are written several per statement, in order; one that cannot be written (no such call) loses only itself', () => {
  const store = Store.open(':memory:');
  const errors: unknown[] = [];
  const h = new CallHistory(store.db, { batchMs: 60_000, onError: (e) => errors.push(e) });
  h.create({ id: 'c1', direction: 'internal', caller: '101', callee: '102', startedAt: 1 });
  for (let i = 0; i < 20; i++) h.event(i === 3 ? 'nobody' : 'c1', 10 + i, `e${i}`, { i });
  h.flush();
  assert.equal(errors.length, 1);
  const types = h.events('c1').map((e) => e.type);
  assert.deepEqual(types, Array.from({ length: 20 }, (_, i) => `e${i}`).filter((t) => t !== 'e3'));
  assert.deepEqual(h.events('c1')[0]?.data, { i: 0 });
  store.close();
});
