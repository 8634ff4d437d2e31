// System prompts built at build time into dist/prompts/<lang>/<key>.wav: file lookup and spoken numbers/digits.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { RelaisError } from '../../shared/index.js';
import { MAX_SPOKEN_NUMBER, PROMPT_KEYS, type PromptKey } from './prompt-texts.js';
import { checkLanguage, LANGUAGES, type Language } from './tts.js';

/** dist/prompts, beside the compiled services (this file is dist/services/media/sounds/prompts.js). */
export const DEFAULT_PROMPTS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../prompts');

export type PromptName = PromptKey | `number-${number}`;

export class PromptLibrary {
  constructor(readonly dir: string = DEFAULT_PROMPTS_DIR) {}

  /** Absolute path of a prompt; RelaisError('prompt.missing') if the build did not make it. */
  path(lang: string, key: PromptName): string {
    const l = checkLanguage(lang);
    const file = path.join(this.dir, l, `${key}.wav`);
    if (!fs.existsSync(file)) {
      throw new RelaisError('prompt.missing', `prompt "${key}" (${l}) is missing at ${file}: run scripts/build to generate prompts`, { status: 500 });
    }
    return file;
  }

  /** Files that speak a non-negative integer: one file up to 99, else digit by digit. */
  sayNumber(lang: string, n: number): string[] {
    if (!Number.isInteger(n) || n < 0) throw new RelaisError('prompt.number', `${n} is not a non-negative integer`);
    if (n <= MAX_SPOKEN_NUMBER) return [this.path(lang, `number-${n}`)];
    return this.sayDigits(lang, String(n));
  }

  /** Files that read a digit string (a phone number, a PIN): 0-9, * and #. */
  sayDigits(lang: string, digits: string): string[] {
    return [...digits].map((c) => {
      if (c >= '0' && c <= '9') return this.path(lang, `number-${c}` as PromptName);
      if (c === '*') return this.path(lang, 'star');
      if (c === '#') return this.path(lang, 'hash');
      throw new RelaisError('prompt.digits', `"${c}" cannot be spoken as a digit`);
    });
  }

  /** Prompts the build should have made but did not (empty = complete). */
  missing(): string[] {
    const out: string[] = [];
    for (const l of LANGUAGES) {
      const names: string[] = [...PROMPT_KEYS];
      for (let n = 0; n <= MAX_SPOKEN_NUMBER; n++) names.push(`number-${n}`);
      for (const k of names) if (!fs.existsSync(path.join(this.dir, l, `${k}.wav`))) out.push(`${l}/${k}`);
    }
    return out;
  }

  languages(): readonly Language[] {
    return LANGUAGES;
  }
}
