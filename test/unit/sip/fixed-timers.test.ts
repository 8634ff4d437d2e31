// FixedTimerQueue: timers of one length sharing one clock timer fire exactly when due, in order, and can be cancelled.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../../services/shared/index.js';
import { FixedTimerQueue } from '../../../services/sip/transaction/index.js';

test('fixed timers fire after exactly their length, in the order set, with one clock timer', () => {
  const clock = new ManualClock();
  const q = new FixedTimerQueue(clock, 32_000);
  const fired: string[] = [];
  q.add(() => fired.push('a'));
  clock.advance(10);
  const b = q.add(() => fired.push('b'));
  clock.advance(5);
  q.add(() => fired.push('c'));
  assert.equal(clock.pendingTimers(), 1);
  clock.advance(31_984);
  assert.deepEqual(fired, []);
  clock.advance(1);
  assert.deepEqual(fired, ['a']);
  q.cancel(b);
  clock.advance(10);
  assert.deepEqual(fired, ['a']);
  clock.advance(4);
  assert.deepEqual(fired, ['a']);
  clock.advance(1);
  assert.deepEqual(fired, ['a', 'c']);
  assert.equal(q.pending(), 0);
  assert.equal(clock.pendingTimers(), 0);
});

test('a timer set from a firing callback is armed for its own due time', () => {
  const clock = new ManualClock();
  const q = new FixedTimerQueue(clock, 100);
  const at: number[] = [];
  q.add(() => {
    at.push(clock.monotonic());
    q.add(() => at.push(clock.monotonic()));
  });
  clock.advance(1000);
  assert.deepEqual(at, [100, 200]);
});
