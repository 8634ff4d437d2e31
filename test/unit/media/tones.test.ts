// Worker tone cycles (from the sound library's tables): sample-exact lengths per country, frequencies and silences.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TONE_COUNTRIES } from '../../../services/media/sounds/index.js';
import { goertzelPower } from '../../../services/media/worker/dtmf-detector.js';
import { dtmfTone, toneCycle, toneLength } from '../../../services/media/worker/tones.js';

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
  assert.equal(toneCycle('beep').length, 2000);
  assert.equal(toneLength('busy', 'US', 1234), 9872);
  assert.equal(toneLength('busy', 'US', undefined), 8000);
  for (const c of TONE_COUNTRIES) for (const t of ['dial', 'ringback', 'busy', 'congestion'] as const) assert.ok(toneCycle(t, c).length > 0);
  assert.equal(toneCycle('busy', 'FR'), toneCycle('busy', 'FR'), 'cached');
});

test('tones hold their frequencies and their silences', () => {
  const us = toneCycle('ringback', 'US');
  assert.ok(share(us, 800, 800, 440) > 0.3 && share(us, 800, 800, 480) > 0.3);
  assert.equal(us.subarray(16000, 48000).every((s) => s === 0), true);
  assert.ok(share(toneCycle('busy', 'FR'), 0, 4000, 440) > 0.9);
  assert.ok(share(toneCycle('beep'), 0, 2000, 1000) > 0.9);
  const uk = toneCycle('ringback', 'UK');
  assert.ok(share(uk, 4800, 3200, 400) > 0.3);
  assert.equal(uk.subarray(3200, 4800).every((s) => s === 0), true);
  const key = dtmfTone('9', 100);
  assert.equal(key.length, 800);
  assert.ok(share(key, 0, 800, 852) > 0.3 && share(key, 0, 800, 1477) > 0.3);
  assert.throws(() => toneCycle('busy', 'DE' as 'FR'), /no tones for country "DE"/);
});
