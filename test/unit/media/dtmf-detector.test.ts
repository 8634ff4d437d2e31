// In-band DTMF detector: every key, twist limits, noise and speech-like signals rejected, one report per press.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DtmfDetector, dtmfFrequencies } from '../../../services/media/worker/dtmf-detector.js';

function keyPress(digit: string, ms: number, rowAmp = 6000, colAmp = 6000, phase = 0): number[] {
  const [r, c] = dtmfFrequencies(digit);
  const n = (ms * 8000) / 1000;
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(rowAmp * Math.sin((2 * Math.PI * r * i) / 8000 + phase) + colAmp * Math.sin((2 * Math.PI * c * i) / 8000));
  return out;
}
const silence = (ms: number): number[] => new Array((ms * 8000) / 1000).fill(0);

function detect(samples: number[], chunk = 160): string {
  let got = '';
  const d = new DtmfDetector((digit) => (got += digit));
  const a = Int16Array.from(samples.map((s) => Math.max(-32768, Math.min(32767, Math.round(s)))));
  for (let i = 0; i < a.length; i += chunk) d.feed(a, i, Math.min(chunk, a.length - i));
  return got;
}

test('detects every key once, with any chunking and offset', () => {
  const keys = '0123456789*#ABCD';
  const sig: number[] = [...silence(7)];
  for (const k of keys) sig.push(...keyPress(k, 80, 6000, 6000, 1), ...silence(60));
  assert.equal(detect(sig, 160), keys);
  assert.equal(detect(sig, 240), keys);
  assert.equal(detect(sig, 37), keys);
});

test('a repeated key needs a pause between presses; a long press counts once', () => {
  assert.equal(detect([...keyPress('5', 500), ...silence(60), ...keyPress('5', 60), ...silence(60)]), '55');
});

test('rejects presses shorter than 40 ms, excessive twist, single tones, noise and silence', () => {
  assert.equal(detect([...keyPress('1', 20), ...silence(100)]), '');
  // 10 dB normal twist (row louder) and 6 dB reverse twist are outside Q.24 limits.
  assert.equal(detect(keyPress('1', 200, 6000 * 3.16, 6000)), '');
  assert.equal(detect(keyPress('1', 200, 6000, 6000 * 2)), '');
  const tone: number[] = [];
  for (let i = 0; i < 1600; i++) tone.push(8000 * Math.sin((2 * Math.PI * 697 * i) / 8000));
  assert.equal(detect(tone), '');
  let seed = 1;
  const noise: number[] = [];
  for (let i = 0; i < 8000; i++) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    noise.push((seed / 0x7fffffff - 0.5) * 20000);
  }
  assert.equal(detect(noise), '');
  assert.equal(detect(silence(500)), '');
  // Quiet key press (~ -45 dBm0) is below the energy floor.
  assert.equal(detect(keyPress('1', 200, 60, 60)), '');
});

test('a key press buried in moderate noise is still found', () => {
  let seed = 7;
  const sig = keyPress('9', 100).map((s) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return s + (seed / 0x7fffffff - 0.5) * 2000;
  });
  assert.equal(detect([...sig, ...silence(60)]), '9');
});
