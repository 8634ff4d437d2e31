// Abort: the one-shot abort of the call path behaves as AbortController/AbortSignal do for what call set-up reads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Abort, type AbortSignalLike } from '../../../services/shared/index.js';

test('abort() calls each listener once, in the order added, and only the first time', () => {
  const a = new Abort();
  const calls: string[] = [];
  const one = (): void => void calls.push('one');
  const two = (): void => void calls.push('two');
  a.addEventListener('abort', one);
  a.addEventListener('abort', two);
  a.addEventListener('abort', one); // the same listener twice: kept once, as EventTarget does
  assert.equal(a.aborted, false);
  a.abort();
  assert.equal(a.aborted, true);
  a.abort();
  assert.deepEqual(calls, ['one', 'two']);
});

test('a removed listener is not called; one added after the abort is never called', () => {
  const a = new Abort();
  const calls: string[] = [];
  const gone = (): void => void calls.push('gone');
  const kept = (): void => void calls.push('kept');
  a.addEventListener('abort', gone);
  a.addEventListener('abort', kept);
  a.removeEventListener('abort', gone);
  a.removeEventListener('abort', () => undefined); // never added: nothing happens
  a.abort();
  a.addEventListener('abort', () => void calls.push('late'));
  assert.deepEqual(calls, ['kept']);
});

test('as with AbortSignal, a listener removed by an earlier one during the abort is skipped', () => {
  const made: Array<() => { signal: AbortSignalLike; abort: () => void }> = [
    () => {
      const c = new AbortController();
      return { signal: c.signal, abort: () => c.abort() };
    },
    () => {
      const a = new Abort();
      return { signal: a, abort: () => a.abort() };
    },
  ];
  for (const make of made) {
    const { signal, abort } = make();
    const calls: string[] = [];
    const second = (): void => void calls.push('second');
    signal.addEventListener('abort', () => {
      calls.push('first');
      signal.removeEventListener('abort', second);
    });
    signal.addEventListener('abort', second);
    signal.addEventListener('abort', () => void calls.push('third'));
    abort();
    assert.deepEqual(calls, ['first', 'third']);
  }
});

test('a real AbortSignal is an AbortSignalLike, and behaves the same for these uses', () => {
  const controller = new AbortController();
  const own = new Abort();
  for (const { signal, abort } of [
    { signal: controller.signal as AbortSignalLike, abort: () => controller.abort() },
    { signal: own as AbortSignalLike, abort: () => own.abort() },
  ]) {
    let n = 0;
    const l = (): void => void n++;
    signal.addEventListener('abort', l);
    abort();
    abort();
    assert.equal(signal.aborted, true);
    assert.equal(n, 1);
  }
});
