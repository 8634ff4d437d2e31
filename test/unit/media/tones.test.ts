// Tone generator: cadence lengths per country and the frequencies actually in the samples.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { goertzelPower } from '../../../services/media/worker/dtmf-detector.js';
import { TONE_CADENCES, toneCycle, toneSamples } from '../../../services/media/worker/tones.js';

const share = (x: Int16Array, from: number, n: number, f: number): number => {
  let e = 0;
  for (let i = 0; i < n; i++) e += x[from + i]! * x[from + i]!;
  return goertzelPower(x, from, n, f) / ((n / 2) * e);
};

test('cycle lengths are the sum of the cadence steps, sample-exact', () => {
  assert.equal(toneCycle('ringback', 'FR').length, 5 * 8000);
  assert.equal(toneCycle('ringback', 'US').length, 6 * 8000);
  assert.equal(toneCycle('ringback', 'UK').length, 3 * 8000);
  assert.equal(toneCycle('busy', 'UK').length, 0.75 * 8000);
  assert.equal(toneCycle('congestion', 'ES').length, 1.6 * 8000);
  assert.equal(toneCycle('beep').length, 3200);
  assert.equal(toneSamples('busy', 'US', 1234), 9872);
  assert.equal(toneSamples('busy', 'US', undefined), 8000);
  for (const c of Object.keys(TONE_CADENCES)) for (const t of ['dial', 'ringback', 'busy', 'congestion'] as const) assert.ok(toneCycle(t, c as 'FR').length > 0);
});

test('tones hold their frequencies and their silences', () => {
  const us = toneCycle('ringback', 'US');
  assert.ok(share(us, 800, 800, 440) > 0.3 && share(us, 800, 800, 480) > 0.3);
  assert.equal(us.subarray(16000 + 8, 48000).every((s) => s === 0), true);
  const fr = toneCycle('busy', 'FR');
  assert.ok(share(fr, 0, 4000, 440) > 0.9);
  assert.ok(share(toneCycle('beep'), 0, 3200, 1000) > 0.9);
  const uk = toneCycle('ringback', 'UK');
  assert.ok(share(uk, 3200 + 1600, 3200, 400) > 0.3);
  assert.equal(uk.subarray(3200 + 8, 4800).every((s) => s === 0), true);
  assert.throws(() => toneCycle('busy', 'DE' as 'FR'), /unknown tone country "DE"/);
});
