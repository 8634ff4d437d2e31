// WritePacer: a change after a quiet moment is committed on the next turn; after a commit that cost d ms the next
// waits d / COMMIT_SHARE ms (within the min and max intervals), so commits stay a small share of the event loop.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { COMMIT_SHARE, ManualClock, WritePacer } from '../../../services/shared/index.js';

/** A manual clock on which a commit's own time passes while it runs, as SQLite's would (without firing timers). */
class CostClock extends ManualClock {
  spent = 0;
  override monotonic(): number {
    return super.monotonic() + this.spent;
  }
}

test('the pacer commits on the next turn after a quiet moment and spaces commits by what the last one cost', () => {
  const clock = new CostClock();
  let cost = 0;
  const commits: number[] = [];
  const pacer = new WritePacer(clock, { maxIntervalMs: 50 }, () =>
    pacer.write(() => {
      commits.push(clock.monotonic());
      clock.spent += cost;
    }),
  );
  pacer.changed();
  pacer.changed(); // one commit for both
  clock.advance(0);
  assert.deepEqual(commits, [0], 'a free commit: the next turn');

  cost = 0.5; // 0.5 ms: the next one no sooner than 0.5 / COMMIT_SHARE ms after it ends
  pacer.changed();
  clock.advance(0);
  assert.deepEqual(commits, [0, 0]);
  assert.equal(pacer.earliestNext, 0.5 + 0.5 / COMMIT_SHARE, 'from the end of the commit');
  pacer.changed();
  clock.advance(0.5 / COMMIT_SHARE - 0.1);
  assert.equal(commits.length, 2, 'the burst waits');
  clock.advance(0.1);
  assert.equal(commits.length, 3, 'then one commit');

  cost = 10; // a commit of 10 ms (a checkpoint): the wait is capped at the maximum
  pacer.changed();
  clock.advance(pacer.earliestNext - clock.monotonic());
  assert.equal(commits.length, 4);
  assert.equal(pacer.earliestNext - clock.monotonic(), 50, 'capped at maxIntervalMs');
  pacer.changed();
  clock.advance(49.9);
  assert.equal(commits.length, 4);
  clock.advance(0.1);
  assert.equal(commits.length, 5);
  pacer.cancel();
  assert.equal(clock.pendingTimers(), 0);
});

test('an early write (a read, a stop) cancels the commit that was due, and a failed write still paces the next', () => {
  const clock = new ManualClock();
  let commits = 0;
  const pacer = new WritePacer(clock, { maxIntervalMs: 200, minIntervalMs: 20 }, () => commits++);
  pacer.changed();
  pacer.write(() => undefined);
  assert.equal(clock.pendingTimers(), 0);
  clock.advance(100);
  assert.equal(commits, 0);
  assert.throws(() =>
    pacer.write(() => {
      throw new Error('disk full');
    }),
  /disk full/);
  pacer.changed();
  clock.advance(19);
  assert.equal(commits, 0, 'the minimum interval holds after a failure too');
  clock.advance(1);
  assert.equal(commits, 1);
});
