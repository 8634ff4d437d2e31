// System prompts built by scripts/build (espeak-ng at build time) and runtime TTS into the sounds cache.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { PromptLibrary, TextToSpeech, LANGUAGES, PROMPT_KEYS, parseWav, readPcm16Mono } from '../../../services/media/sounds/index.js';
import { PROJECT_ROOT, tempDir } from '../../helpers/relais-process.js';

function rms(s: Int16Array): number {
  let e = 0;
  for (const x of s) e += x * x;
  return Math.sqrt(e / Math.max(1, s.length));
}

describe('system prompts', () => {
  const prompts = new PromptLibrary();

  it('every prompt of every language was built into dist/prompts as 8 kHz mono 16-bit speech', () => {
    assert.deepEqual(prompts.missing(), [], 'scripts/build generates all prompts');
    for (const lang of LANGUAGES) {
      for (const key of [...PROMPT_KEYS, 'number-7', 'number-75'] as const) {
        const buf = fs.readFileSync(prompts.path(lang, key));
        const info = parseWav(buf);
        assert.deepEqual([info.format, info.sampleRate, info.channels, info.bitsPerSample], [1, 8000, 1, 16], `${lang}/${key}`);
        assert.ok(info.durationMs > 150 && info.durationMs < 15_000, `${lang}/${key}: ${info.durationMs} ms`);
        assert.ok(rms(readPcm16Mono(buf).samples) > 500, `${lang}/${key} is not silent`);
      }
    }
  });

  it('languages differ: the French and English welcome are different audio', () => {
    const fr = fs.readFileSync(prompts.path('fr', 'welcome'));
    const en = fs.readFileSync(prompts.path('en', 'welcome'));
    assert.notDeepEqual(fr, en);
  });

  it('sayNumber: one file up to 99, digits beyond; sayDigits reads * and #', () => {
    assert.deepEqual(prompts.sayNumber('fr', 42), [path.join(prompts.dir, 'fr', 'number-42.wav')]);
    assert.deepEqual(
      prompts.sayNumber('en', 105).map((f) => path.basename(f)),
      ['number-1.wav', 'number-0.wav', 'number-5.wav'],
    );
    assert.deepEqual(prompts.sayDigits('es', '0*#').map((f) => path.basename(f)), ['number-0.wav', 'star.wav', 'hash.wav']);
    assert.throws(() => prompts.sayNumber('fr', -1), /not a non-negative integer/);
    assert.throws(() => prompts.path('de', 'welcome'), /language "de" has no voice/);
    assert.throws(() => prompts.sayDigits('fr', '1a'), /"a" cannot be spoken/);
  });

  it('the build step is incremental: a second run generates nothing', () => {
    // Only what it does is checked, not how long it takes (a timing is a benchmark's business, not a test's).
    const out = execFileSync(path.join(PROJECT_ROOT, 'scripts/build-extra'), { encoding: 'utf8' });
    assert.doesNotMatch(out, /generated/);
  });
});

describe('TextToSpeech', () => {
  it('speaks a site-provided name once, then serves it from the cache', async () => {
    const tts = new TextToSpeech({ cacheDir: path.join(tempDir('tts-'), 'tts') });
    const [a, b] = await Promise.all([tts.say('fr', 'Service après-vente'), tts.say('fr', 'Service  après-vente ')]);
    assert.equal(a, b, 'same text → same cached file, generated once');
    const info = parseWav(fs.readFileSync(a));
    assert.deepEqual([info.sampleRate, info.channels, info.bitsPerSample], [8000, 1, 16]);
    assert.ok(info.durationMs > 500);
    const mtime = fs.statSync(a).mtimeMs;
    assert.equal(await tts.say('fr', 'Service après-vente'), a);
    assert.equal(fs.statSync(a).mtimeMs, mtime);
    // Text that looks like an option is spoken, not parsed.
    const dash = await tts.say('en', '--version');
    assert.ok(parseWav(fs.readFileSync(dash)).durationMs > 200);
    await assert.rejects(tts.say('en', '   '), /text is empty/);
    await assert.rejects(tts.say('xx', 'hello'), /language "xx"/);
  });
});
