// Test audio: generates WAVs with sox and analyses recorded WAVs (duration, RMS, dominant frequency by Goertzel).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';

export interface Wav {
  sampleRate: number;
  channels: number;
  bitsPerSample: number;
  /** Samples of the first channel, normalised to -1..1. */
  samples: Float64Array;
}

function sox(args: string[]): void {
  const r = spawnSync('sox', args, { encoding: 'utf8' });
  if (r.error) throw new Error(`sox could not run (${r.error.message}); install the sox package`);
  if (r.status !== 0) throw new Error(`sox ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
}

/** Writes an 8 kHz mono 16-bit sine WAV of `seconds` at `hz` (amplitude 0..1). */
export function makeToneWav(file: string, hz: number, seconds: number, amplitude = 0.5): string {
  sox(['-n', '-r', '8000', '-c', '1', '-b', '16', file, 'synth', String(seconds), 'sine', String(hz), 'vol', String(amplitude)]);
  return file;
}

/** Writes an 8 kHz mono 16-bit WAV of silence. */
export function makeSilenceWav(file: string, seconds: number): string {
  sox(['-n', '-r', '8000', '-c', '1', '-b', '16', file, 'trim', '0', String(seconds)]);
  return file;
}

/** Writes `toneSeconds` of a sine followed by `silenceSeconds` of silence (a caller who speaks, then says nothing). */
export function makeToneThenSilenceWav(file: string, hz: number, toneSeconds: number, silenceSeconds: number): string {
  sox(['-n', '-r', '8000', '-c', '1', '-b', '16', file, 'synth', String(toneSeconds), 'sine', String(hz), 'vol', '0.5', 'pad', '0', String(silenceSeconds)]);
  return file;
}

/** Parses a PCM WAV (RIFF, 8/16-bit, any rate/channels); throws naming what is wrong. */
export function readWav(file: string): Wav {
  const b = fs.readFileSync(file);
  if (b.length < 12 || b.toString('latin1', 0, 4) !== 'RIFF' || b.toString('latin1', 8, 12) !== 'WAVE') {
    throw new Error(`${file}: not a RIFF/WAVE file`);
  }
  let off = 12;
  let fmt: { format: number; channels: number; rate: number; bits: number } | undefined;
  let data: Buffer | undefined;
  while (off + 8 <= b.length) {
    const id = b.toString('latin1', off, off + 4);
    let size = b.readUInt32LE(off + 4);
    const start = off + 8;
    // Writers killed mid-call leave 0 or 0xffffffff sizes: take what is there.
    if (id === 'data' && (size === 0 || start + size > b.length)) size = b.length - start;
    if (id === 'fmt ') {
      fmt = { format: b.readUInt16LE(start), channels: b.readUInt16LE(start + 2), rate: b.readUInt32LE(start + 4), bits: b.readUInt16LE(start + 14) };
    } else if (id === 'data') {
      data = b.subarray(start, start + size);
    }
    off = start + size + (size & 1);
  }
  if (!fmt) throw new Error(`${file}: no fmt chunk`);
  if (!data) throw new Error(`${file}: no data chunk`);
  if (fmt.format !== 1 && fmt.format !== 0xfffe) throw new Error(`${file}: format ${fmt.format} is not PCM`);
  const bytes = fmt.bits / 8;
  const frame = bytes * fmt.channels;
  const n = Math.floor(data.length / frame);
  const samples = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const p = i * frame;
    samples[i] = fmt.bits === 16 ? data.readInt16LE(p) / 32768 : (data[p]! - 128) / 128;
  }
  return { sampleRate: fmt.rate, channels: fmt.channels, bitsPerSample: fmt.bits, samples };
}

/** Goertzel power of `hz` over samples (normalised to the mean square a sine at hz contributes: A²/2). */
export function goertzelPower(samples: Float64Array, sampleRate: number, hz: number, from = 0, to = samples.length): number {
  const k = (2 * Math.PI * hz) / sampleRate;
  const coeff = 2 * Math.cos(k);
  let s1 = 0;
  let s2 = 0;
  for (let i = from; i < to; i++) {
    const s0 = samples[i]! + coeff * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  const n = to - from;
  if (n <= 0) return 0;
  const power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
  return (2 * power) / (n * n);
}

export interface AudioAnalysis {
  durationMs: number;
  /** RMS over the analysed window (0..1). */
  rms: number;
  /** Frequency (Hz, 10 Hz steps, 100–3800) with the most energy. */
  dominantHz: number;
  /** Share (0..1) of the window's energy at dominantHz. */
  dominantShare: number;
}

/**
 * Analyses a WAV: duration of the whole file; RMS and dominant frequency over the window
 * [skipMs, skipMs + windowMs) so ringing/setup at the start can be left out.
 */
export function analyseWav(file: string, opts: { skipMs?: number; windowMs?: number } = {}): AudioAnalysis {
  const w = readWav(file);
  const durationMs = (w.samples.length / w.sampleRate) * 1000;
  const from = Math.min(w.samples.length, Math.floor(((opts.skipMs ?? 0) / 1000) * w.sampleRate));
  const to = Math.min(w.samples.length, opts.windowMs ? from + Math.floor((opts.windowMs / 1000) * w.sampleRate) : w.samples.length);
  let sum = 0;
  for (let i = from; i < to; i++) sum += w.samples[i]! * w.samples[i]!;
  const n = Math.max(1, to - from);
  const meanSquare = sum / n;
  let best = 0;
  let bestHz = 0;
  for (let hz = 100; hz <= Math.min(3800, w.sampleRate / 2 - 100); hz += 10) {
    const p = goertzelPower(w.samples, w.sampleRate, hz, from, to);
    if (p > best) {
      best = p;
      bestHz = hz;
    }
  }
  return {
    durationMs,
    rms: Math.sqrt(meanSquare),
    dominantHz: bestHz,
    dominantShare: meanSquare > 0 ? Math.min(1, best / meanSquare) : 0,
  };
}

/** Milliseconds of audio whose 20 ms frames have RMS above threshold (how long something was heard). */
export function activeMs(file: string, threshold = 0.02): number {
  const w = readWav(file);
  const frame = Math.floor(w.sampleRate / 50);
  let active = 0;
  for (let i = 0; i + frame <= w.samples.length; i += frame) {
    let s = 0;
    for (let j = i; j < i + frame; j++) s += w.samples[j]! * w.samples[j]!;
    if (Math.sqrt(s / frame) > threshold) active += 20;
  }
  return active;
}

/**
 * Milliseconds of the file (in 100 ms windows) where `hz` carries most of the energy (share > minShare) and the
 * window is not silent: how long a tone was heard, robust to prompts and silence around it.
 */
export function toneMs(file: string, hz: number, minShare = 0.7, minRms = 0.02): number {
  const w = readWav(file);
  const win = Math.floor(w.sampleRate / 10);
  let ms = 0;
  for (let i = 0; i + win <= w.samples.length; i += win) {
    let s = 0;
    for (let j = i; j < i + win; j++) s += w.samples[j]! * w.samples[j]!;
    const meanSquare = s / win;
    if (Math.sqrt(meanSquare) < minRms) continue;
    if (goertzelPower(w.samples, w.sampleRate, hz, i, i + win) / meanSquare > minShare) ms += 100;
  }
  return ms;
}
