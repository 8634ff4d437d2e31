// Tone generator: frequencies and cadences per country checked by Goertzel and on/off segment timing.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ToneGenerator, toneSamples, toneSpec, toneWav, cycleMs, parseWav, TONES, TONE_COUNTRIES } from '../../../services/media/sounds/index.js';
import { toneShare } from './rtp-peer.js';

/** Lengths in ms of alternating on/off runs (a run is "on" while 10 ms windows have energy). */
function runs(s: Int16Array): number[] {
  const out: number[] = [];
  let on = true;
  let len = 0;
  for (let i = 0; i < s.length; i += 80) {
    let e = 0;
    for (let j = i; j < i + 80 && j < s.length; j++) e += Math.abs(s[j]!);
    const isOn = e > 0;
    if (isOn === on) len += 10;
    else {
      out.push(len);
      on = isOn;
      len = 10;
    }
  }
  out.push(len);
  return out;
}

describe('tones', () => {
  it('cadences match the national tables', () => {
    assert.deepEqual(runs(toneSamples('ringback', 'FR')), [1500, 3500]);
    assert.deepEqual(runs(toneSamples('ringback', 'US')), [2000, 4000]);
    assert.deepEqual(runs(toneSamples('ringback', 'UK')), [400, 200, 400, 2000]);
    assert.deepEqual(runs(toneSamples('ringback', 'ES')), [1500, 3000]);
    assert.deepEqual(runs(toneSamples('busy', 'FR', 2000)), [500, 500, 500, 500]);
    assert.deepEqual(runs(toneSamples('busy', 'UK')), [380, 370]);
    assert.deepEqual(runs(toneSamples('busy', 'ES')), [200, 200]);
    assert.deepEqual(runs(toneSamples('congestion', 'ES')), [200, 200, 200, 200, 200, 600]);
    assert.deepEqual(runs(toneSamples('beep')), [250]);
    assert.equal(cycleMs('beep'), 250);
    assert.deepEqual(runs(toneSamples('dial', 'US', 3000)), [3000]);
  });

  it('frequencies: energy at the table frequencies, not elsewhere', () => {
    for (const c of TONE_COUNTRIES) {
      for (const name of ['ringback', 'busy', 'congestion', 'dial'] as const) {
        const spec = TONES[c][name];
        const on = toneSamples(name, c, spec.cadence[0] ?? 1000).subarray(0, 1600);
        const share = spec.freqs.reduce((sum, f) => sum + toneShare(on, f), 0);
        assert.ok(share > 0.9, `${c} ${name}: ${spec.freqs.join('+')} Hz hold ${share.toFixed(2)} of the energy`);
        for (const f of spec.freqs) assert.ok(toneShare(on, f) > 0.3 / spec.freqs.length, `${c} ${name} has ${f} Hz`);
      }
    }
    const beep = toneSamples('beep');
    assert.ok(toneShare(beep, 1000) > 0.95);
  });

  it('streams 20 ms frames without allocating, identical to one-shot generation, with no clipping', () => {
    const gen = new ToneGenerator(toneSpec('ringback', 'US'));
    const frame = new Int16Array(160);
    const streamed = new Int16Array(8000 * 6);
    for (let i = 0; i < streamed.length; i += 160) {
      gen.fill(frame);
      streamed.set(frame, i);
    }
    assert.deepEqual(streamed, toneSamples('ringback', 'US', 6000));
    assert.ok(streamed.every((x) => Math.abs(x) < 32000));
  });

  it('writes a WAV for file-playing backends', () => {
    const info = parseWav(toneWav('busy', 'FR'));
    assert.deepEqual([info.sampleRate, info.channels, info.bitsPerSample, info.durationMs], [8000, 1, 16, 1000]);
    assert.throws(() => toneSpec('busy', 'DE' as never), /no tones for country "DE"/);
  });
});
