// Pure call-progress tone generator (ringback, busy, congestion, dial, beep per country): 16-bit samples, no I/O.
import type { ToneCountry, ToneName } from '../engine.js';
import { writeWav } from './wav.js';

/** Frequencies summed while "on", and the cadence: on, off, on, off… in ms (empty = continuous). */
export interface ToneSpec {
  freqs: readonly number[];
  cadence: readonly number[];
}

/*
 * ITU-T E.180 Supplement 2 (various tones used in national networks), and the operators' own tables:
 *   FR  ringback 440 Hz 1.5 on / 3.5 off · busy 440 0.5/0.5 · congestion 440 0.25/0.25 · dial 440 continuous
 *   US  ringback 440+480 2/4 · busy 480+620 0.5/0.5 · reorder 480+620 0.25/0.25 · dial 350+440 continuous
 *   UK  ringback 400+450 0.4/0.2/0.4/2.0 · busy 400 0.375/0.375 · congestion 400 0.4/0.35/0.225/0.525 · dial 350+450
 *   ES  ringback 425 1.5/3.0 · busy 425 0.2/0.2 · congestion 425 0.2/0.2/0.2/0.2/0.2/0.6 · dial 425 continuous
 *   beep (voicemail "record after the tone") 1 kHz 0.25 s, everywhere.
 */
export const TONES: Readonly<Record<ToneCountry, Readonly<Record<Exclude<ToneName, 'beep'>, ToneSpec>>>> = {
  FR: {
    ringback: { freqs: [440], cadence: [1500, 3500] },
    busy: { freqs: [440], cadence: [500, 500] },
    congestion: { freqs: [440], cadence: [250, 250] },
    dial: { freqs: [440], cadence: [] },
  },
  US: {
    ringback: { freqs: [440, 480], cadence: [2000, 4000] },
    busy: { freqs: [480, 620], cadence: [500, 500] },
    congestion: { freqs: [480, 620], cadence: [250, 250] },
    dial: { freqs: [350, 440], cadence: [] },
  },
  UK: {
    ringback: { freqs: [400, 450], cadence: [400, 200, 400, 2000] },
    busy: { freqs: [400], cadence: [375, 375] },
    congestion: { freqs: [400], cadence: [400, 350, 225, 525] },
    dial: { freqs: [350, 450], cadence: [] },
  },
  ES: {
    ringback: { freqs: [425], cadence: [1500, 3000] },
    busy: { freqs: [425], cadence: [200, 200] },
    congestion: { freqs: [425], cadence: [200, 200, 200, 200, 200, 600] },
    dial: { freqs: [425], cadence: [] },
  },
};

/** One 250 ms beep; played longer it repeats once a second. */
export const BEEP: ToneSpec = { freqs: [1000], cadence: [250, 750] };
export const BEEP_MS = 250;
export const TONE_COUNTRIES: readonly ToneCountry[] = ['FR', 'US', 'UK', 'ES'];

/** About -10 dBm0 per frequency (telephone tones are sent at -10 to -13 dBm0; 0 dBm0 ≈ 0.7 of full scale in G.711). */
const AMPLITUDE = 0.22 * 32767;

export function toneSpec(name: ToneName, country: ToneCountry = 'FR'): ToneSpec {
  if (name === 'beep') return BEEP;
  const c = TONES[country];
  if (!c) throw new Error(`no tones for country "${String(country)}" (one of ${TONE_COUNTRIES.join(', ')})`);
  const s = c[name];
  if (!s) throw new Error(`unknown tone "${String(name)}"`);
  return s;
}

/** Length of one cadence cycle in ms (the natural length of a tone file; 250 ms for the beep, 1 s for continuous). */
export function cycleMs(name: ToneName, country: ToneCountry = 'FR'): number {
  if (name === 'beep') return BEEP_MS;
  const s = toneSpec(name, country);
  return s.cadence.length ? s.cadence.reduce((a, b) => a + b, 0) : 1000;
}

/**
 * Streams a tone into caller-provided buffers (the media worker fills one 20 ms frame at a time without allocating).
 * Phases are kept across calls so frames join without clicks; each "on" burst starts at phase 0.
 */
export class ToneGenerator {
  private readonly steps: Float64Array;
  private readonly phases: Float64Array;
  private readonly cadence: Int32Array;
  private segment = 0;
  private left: number;

  constructor(
    readonly spec: ToneSpec,
    readonly sampleRate = 8000,
  ) {
    this.steps = Float64Array.from(spec.freqs, (f) => (2 * Math.PI * f) / sampleRate);
    this.phases = new Float64Array(spec.freqs.length);
    this.cadence = Int32Array.from(spec.cadence, (ms) => Math.round((ms * sampleRate) / 1000));
    this.left = this.cadence.length ? this.cadence[0]! : Number.POSITIVE_INFINITY;
  }

  /** Writes the next out.length samples. */
  fill(out: Int16Array): void {
    const n = this.steps.length;
    for (let i = 0; i < out.length; i++) {
      while (this.left <= 0) {
        this.segment = (this.segment + 1) % this.cadence.length;
        this.left = this.cadence[this.segment]!;
        this.phases.fill(0);
      }
      this.left--;
      if (this.segment & 1) {
        out[i] = 0;
        continue;
      }
      let v = 0;
      for (let k = 0; k < n; k++) {
        v += Math.sin(this.phases[k]!);
        this.phases[k] = (this.phases[k]! + this.steps[k]!) % (2 * Math.PI);
      }
      out[i] = Math.round(v * AMPLITUDE);
    }
  }

  reset(): void {
    this.segment = 0;
    this.left = this.cadence.length ? this.cadence[0]! : Number.POSITIVE_INFINITY;
    this.phases.fill(0);
  }
}

/** `durationMs` of a tone (default: one cadence cycle) as samples. */
export function toneSamples(name: ToneName, country: ToneCountry = 'FR', durationMs = cycleMs(name, country), sampleRate = 8000): Int16Array {
  const out = new Int16Array(Math.round((durationMs * sampleRate) / 1000));
  new ToneGenerator(toneSpec(name, country), sampleRate).fill(out);
  return out;
}

/** A tone as an 8 kHz mono 16-bit WAV file's bytes (for backends that play files, e.g. rtpengine). */
export function toneWav(name: ToneName, country: ToneCountry = 'FR', durationMs?: number): Buffer {
  return writeWav(toneSamples(name, country, durationMs ?? cycleMs(name, country)), 8000, 1);
}

/** DTMF row/column frequencies (ITU-T Q.23). */
const DTMF_KEYS = ['123A', '456B', '789C', '*0#D'];
const DTMF_ROWS = [697, 770, 852, 941];
const DTMF_COLS = [1209, 1336, 1477, 1633];

/** In-band DTMF for `digits` (Q.24: at least 40 ms of tone, 40 ms apart): for backends that can only play audio. */
export function dtmfSamples(digits: string, toneMs = 100, gapMs = 60, sampleRate = 8000): Int16Array {
  const tone = Math.round((toneMs * sampleRate) / 1000);
  const gap = Math.round((gapMs * sampleRate) / 1000);
  const out = new Int16Array(digits.length * (tone + gap));
  [...digits.toUpperCase()].forEach((c, k) => {
    const row = DTMF_KEYS.findIndex((r) => r.includes(c));
    if (row < 0) throw new Error(`"${c}" is not a DTMF digit (0-9 * # A-D)`);
    const col = DTMF_KEYS[row]!.indexOf(c);
    const spec: ToneSpec = { freqs: [DTMF_ROWS[row]!, DTMF_COLS[col]!], cadence: [] };
    new ToneGenerator(spec, sampleRate).fill(out.subarray(k * (tone + gap), k * (tone + gap) + tone));
  });
  return out;
}
