// Tones for the worker's players: one cadence cycle per tone, rendered once from the sound library's tone tables and cached.
import type { ToneCountry, ToneName } from '../engine.js';
import { cycleMs, dtmfSamples, toneSamples as renderTone, toneSpec } from '../sounds/tones.js';

const RATE = 8000;
const cache = new Map<string, Int16Array>();

/**
 * One full cadence cycle as 8 kHz 16-bit samples (cached): the player loops over it, so any duration is
 * sample-exact. Throws, naming the tone or country, when the sound library has no such tone.
 */
export function toneCycle(name: ToneName, country: ToneCountry = 'FR'): Int16Array {
  const key = name === 'beep' ? 'beep' : `${name}/${country}`;
  const hit = cache.get(key);
  if (hit) return hit;
  toneSpec(name, country);
  const cycle = renderTone(name, country, cycleMs(name, country), RATE);
  cache.set(key, cycle);
  return cycle;
}

/** Samples a tone item lasts: its durationMs, else one cadence cycle. */
export function toneLength(name: ToneName, country: ToneCountry | undefined, durationMs: number | undefined): number {
  if (durationMs !== undefined) return Math.max(0, Math.round((durationMs * RATE) / 1000));
  return toneCycle(name, country).length;
}

/** An in-band DTMF key press: `ms` of the key's two tones. */
export function dtmfTone(digit: string, ms: number): Int16Array {
  return dtmfSamples(digit, ms, 0, RATE);
}
