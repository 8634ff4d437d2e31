// TypedEmitter: the EventEmitter behind it is made at the first listener; without one it behaves as an empty one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TypedEmitter } from '../../../services/shared/index.js';

type Events = { ping: [n: number]; error: [err: Error] };

test('an emitter without listeners answers as an empty EventEmitter; listeners, once, off and waitFor work', async () => {
  const e = new TypedEmitter<Events>();
  assert.equal(e.emit('ping', 1), false);
  assert.equal(e.listenerCount('ping'), 0);
  e.off('ping', () => {});
  e.removeAllListeners();
  assert.throws(() => e.emit('error', new Error('nobody listens')), /nobody listens/);
  const seen: number[] = [];
  const l = (n: number): void => {
    seen.push(n);
  };
  e.on('ping', l);
  e.once('ping', (n) => seen.push(n * 10));
  assert.equal(e.emit('ping', 2), true);
  assert.equal(e.emit('ping', 3), true);
  e.off('ping', l);
  assert.equal(e.emit('ping', 4), false);
  assert.deepEqual(seen, [2, 20, 3]);
  const next = e.waitFor('ping', 1000);
  e.emit('ping', 5);
  assert.deepEqual(await next, [5]);
  e.on('error', () => {});
  assert.equal(e.emit('error', new Error('handled')), true);
});
