// Offline text-to-speech with the local espeak-ng binary, resampled by sox to 8 kHz mono 16-bit; cached by text hash.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { RelaisError, randomToken } from '../../shared/index.js';
import { runTool } from './audio-convert.js';

export type Language = 'fr' | 'en' | 'es';
export const LANGUAGES: readonly Language[] = ['fr', 'en', 'es'];

/** espeak-ng voice per language, and a speaking rate a caller follows on a phone line (words per minute). */
export const VOICES: Readonly<Record<Language, string>> = { fr: 'fr', en: 'en', es: 'es' };
export const SPEECH_RATE = 150;

export function checkLanguage(lang: string): Language {
  if (!(LANGUAGES as readonly string[]).includes(lang)) {
    throw new RelaisError('sound.language', `language "${lang}" has no voice (one of ${LANGUAGES.join(', ')})`, { field: 'language' });
  }
  return lang as Language;
}

/**
 * Speaks `text` into `output` (8 kHz mono 16-bit WAV, normalised to -3 dBFS). The text goes on stdin,
 * so nothing in it can be read as an option.
 */
export async function synthesize(lang: Language, text: string, output: string, timeoutMs = 30_000): Promise<void> {
  const raw = `${output}.${randomToken(4)}.22k.wav`;
  const tmp = `${output}.${randomToken(4)}.tmp.wav`;
  try {
    await runTool('espeak-ng', ['-v', VOICES[lang], '-s', String(SPEECH_RATE), '-w', raw, '--stdin'], { timeoutMs, input: Buffer.from(text, 'utf8') });
    await runTool('sox', ['-q', raw, '-r', '8000', '-c', '1', '-b', '16', '-e', 'signed-integer', tmp, 'norm', '-3'], { timeoutMs });
    fs.renameSync(tmp, output);
  } finally {
    fs.rmSync(raw, { force: true });
    fs.rmSync(tmp, { force: true });
  }
}

export class TextToSpeech {
  private readonly pending = new Map<string, Promise<string>>();

  constructor(private readonly opts: { cacheDir: string; maxChars?: number }) {}

  /** Path of a WAV speaking `text` in `lang`, generated once then served from the cache. */
  say(lang: string, text: string): Promise<string> {
    let l: Language;
    try {
      l = checkLanguage(lang);
    } catch (err) {
      return Promise.reject(err);
    }
    const clean = String(text ?? '').replace(/\s+/g, ' ').trim();
    if (!clean) return Promise.reject(new RelaisError('sound.tts', 'nothing to say: the text is empty', { field: 'text' }));
    const max = this.opts.maxChars ?? 500;
    if (clean.length > max) return Promise.reject(new RelaisError('sound.tts', `text is ${clean.length} characters: more than ${max}`, { field: 'text' }));
    const key = createHash('sha256').update(`${VOICES[l]}|${SPEECH_RATE}|${clean}`).digest('hex').slice(0, 24);
    const file = path.join(this.opts.cacheDir, l, `${key}.wav`);
    if (fs.existsSync(file)) return Promise.resolve(file);
    let p = this.pending.get(file);
    if (!p) {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      p = synthesize(l, clean, file)
        .then(() => file)
        .finally(() => this.pending.delete(file));
      this.pending.set(file, p);
    }
    return p;
  }
}
