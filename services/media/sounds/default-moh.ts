// The box's own music on hold: a gentle chord sequence synthesised offline by sox at build (royalty-free by construction).
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { randomToken } from '../../shared/index.js';
import { runTool } from './audio-convert.js';
import { DEFAULT_PROMPTS_DIR } from './prompts.js';

/** File name of the default music inside the prompts directory (dist/prompts). */
export const DEFAULT_MOH_NAME = 'moh-default.wav';

/** Seconds per chord; the sequence loops, so its end leads back into its start (C major again). */
const CHORD_S = 4;

/**
 * The chords as MIDI note numbers: a soft sustained pad (first four notes, sines) under a slow plucked arpeggio
 * (the others), I - vi - IV - V - I - iii - IV - V in C, voiced between 130 Hz and 800 Hz so the telephone band
 * (300-3400 Hz) keeps the melody and G.711 keeps it clean.
 */
export const DEFAULT_MOH_CHORDS: readonly (readonly number[])[] = [
  [48, 55, 64, 67, 72, 76, 79],
  [45, 52, 60, 64, 69, 72, 76],
  [41, 48, 57, 60, 65, 69, 72],
  [43, 50, 59, 62, 67, 71, 74],
  [48, 55, 64, 67, 76, 79, 84],
  [40, 47, 59, 64, 71, 67, 76],
  [41, 48, 57, 60, 69, 72, 77],
  [43, 50, 59, 65, 67, 71, 74],
];

const hz = (midi: number): string => (440 * 2 ** ((midi - 69) / 12)).toFixed(2);

/** The sox arguments that render one chord (8 kHz mono 16-bit); pluck needs a 44.1 kHz synthesis rate. */
export function chordArgs(notes: readonly number[], output: string): string[] {
  const pad = notes.slice(0, 4);
  const arp = notes.slice(4);
  const tones = [...pad.flatMap((n) => ['sine', hz(n)]), ...arp.flatMap((n) => ['pluck', hz(n)])];
  // Pad voices start together; the arpeggio's notes enter one per second.
  const delays = [...pad.map(() => '0'), ...arp.map((_, i) => String(i))];
  const mix = [...pad.map((_, i) => `${i + 1}v0.12`), ...arp.map((_, i) => `${pad.length + i + 1}v0.3`)].join(',');
  return ['-q', '-r', '44100', '-c', String(notes.length), '-n', '-r', '8000', '-c', '1', '-b', '16', '-e', 'signed-integer', output,
    'synth', String(CHORD_S), ...tones, 'delay', ...delays, 'remix', mix, 'fade', 'q', '0.4', String(CHORD_S), '0.6', 'rate', '8000'];
}

/** Changes whenever the recipe does, so the build regenerates the file only then. */
export function defaultMohRecipeHash(): string {
  return createHash('sha256').update(JSON.stringify({ DEFAULT_MOH_CHORDS, CHORD_S, args: chordArgs(DEFAULT_MOH_CHORDS[0]!, 'x') })).digest('hex').slice(0, 16);
}

/** Renders the default music into `output` (written atomically); throws ToolError when sox is missing or fails. */
export async function generateDefaultMoh(output: string, timeoutMs = 60_000): Promise<void> {
  const tag = randomToken(4);
  const parts = DEFAULT_MOH_CHORDS.map((_, i) => `${output}.${tag}.${i}.wav`);
  const tmp = `${output}.${tag}.tmp.wav`;
  try {
    for (let i = 0; i < parts.length; i++) await runTool('sox', chordArgs(DEFAULT_MOH_CHORDS[i]!, parts[i]!), { timeoutMs });
    // Quiet enough under speech announcements, loud enough to reassure: peaks at -10 dBFS.
    await runTool('sox', ['-q', ...parts, '-b', '16', '-e', 'signed-integer', tmp, 'norm', '-10'], { timeoutMs });
    fs.renameSync(tmp, output);
  } finally {
    for (const p of [...parts, tmp]) fs.rmSync(p, { force: true });
  }
}

/** Path of the built default music, or undefined when the build could not make it (calls then hear silence). */
export function defaultMohFile(dir: string = DEFAULT_PROMPTS_DIR): string | undefined {
  const file = path.join(dir, DEFAULT_MOH_NAME);
  return fs.existsSync(file) ? file : undefined;
}
