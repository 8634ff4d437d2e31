// Call-progress tones per country (ITU-T E.180 supplement 2) and the beep, generated sample-exactly at 8 kHz.
import type { ToneCountry, ToneName } from '../engine.js';

/** One cadence step: frequencies (none = silence) for a duration. */
interface ToneStep {
  freqs: number[];
  ms: number;
}

const on = (ms: number, ...freqs: number[]): ToneStep => ({ freqs, ms });
const off = (ms: number): ToneStep => ({ freqs: [], ms });

/** Cadences from ITU-T E.180 (03/1998) supplement 2, one full cycle each. */
export const TONE_CADENCES: Readonly<Record<ToneCountry, Readonly<Record<Exclude<ToneName, 'beep'>, ToneStep[]>>>> = {
  FR: {
    dial: [on(1000, 440)],
    ringback: [on(1500, 440), off(3500)],
    busy: [on(500, 440), off(500)],
    congestion: [on(250, 440), off(250)],
  },
  US: {
    dial: [on(1000, 350, 440)],
    ringback: [on(2000, 440, 480), off(4000)],
    busy: [on(500, 480, 620), off(500)],
    congestion: [on(250, 480, 620), off(250)],
  },
  UK: {
    dial: [on(1000, 350, 440)],
    ringback: [on(400, 400, 450), off(200), on(400, 400, 450), off(2000)],
    busy: [on(375, 400), off(375)],
    congestion: [on(400, 400), off(350), on(225, 400), off(525)],
  },
  ES: {
    dial: [on(1000, 425)],
    ringback: [on(1500, 425), off(3000)],
    busy: [on(200, 425), off(200)],
    congestion: [on(200, 425), off(200), on(200, 425), off(200), on(200, 425), off(600)],
  },
};

/** Voicemail-style beep: 1 kHz for 400 ms. */
export const BEEP: ToneStep[] = [on(400, 1000)];
export const BEEP_FREQUENCY = 1000;

/** Per-tone peak amplitude: about -10 dBm0 per frequency, so a dual tone stays clear of clipping. */
const AMPLITUDE = 7000;
const RATE = 8000;

const cache = new Map<string, Int16Array>();

export function toneSteps(name: ToneName, country: ToneCountry = 'FR'): ToneStep[] {
  if (name === 'beep') return BEEP;
  const c = TONE_CADENCES[country];
  if (!c) throw new RangeError(`unknown tone country "${country}" (FR, US, UK, ES)`);
  const steps = c[name];
  if (!steps) throw new RangeError(`unknown tone "${name}" (ringback, busy, congestion, dial, beep)`);
  return steps;
}

/**
 * One full cadence cycle as 8 kHz 16-bit samples (cached). The phase runs on across steps, so a
 * continuous frequency never clicks at a step boundary.
 */
export function toneCycle(name: ToneName, country: ToneCountry = 'FR'): Int16Array {
  const key = `${name}/${name === 'beep' ? '' : country}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const steps = toneSteps(name, country);
  const total = steps.reduce((n, s) => n + (s.ms * RATE) / 1000, 0);
  const out = new Int16Array(total);
  let n = 0;
  for (const s of steps) {
    const len = (s.ms * RATE) / 1000;
    for (let i = 0; i < len; i++, n++) {
      let v = 0;
      for (const f of s.freqs) v += AMPLITUDE * Math.sin((2 * Math.PI * f * n) / RATE);
      out[n] = Math.round(v);
    }
  }
  cache.set(key, out);
  return out;
}

/** Samples a tone item lasts: its durationMs, else one cadence cycle. */
export function toneSamples(name: ToneName, country: ToneCountry | undefined, durationMs: number | undefined): number {
  if (durationMs !== undefined) return Math.round((durationMs * RATE) / 1000);
  return toneCycle(name, country).length;
}

/** DTMF key frequencies (row, column) for in-band sending. */
export function dtmfFrequencies(digit: string): [number, number] {
  const keys = ['123A', '456B', '789C', '*0#D'];
  for (let r = 0; r < 4; r++) {
    const c = keys[r]!.indexOf(digit);
    if (c >= 0) return [[697, 770, 852, 941][r]!, [1209, 1336, 1477, 1633][c]!];
  }
  throw new RangeError(`"${digit}" is not a DTMF digit`);
}

/** An in-band DTMF key press: `ms` of the two tones. */
export function dtmfTone(digit: string, ms: number): Int16Array {
  const [r, c] = dtmfFrequencies(digit);
  const n = Math.round((ms * RATE) / 1000);
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.round(AMPLITUDE * (Math.sin((2 * Math.PI * r * i) / RATE) + Math.sin((2 * Math.PI * c * i) / RATE)));
  return out;
}
