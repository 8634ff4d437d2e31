// SoundLibrary: MP3/WAV in many shapes → 8 kHz mono 16-bit WAV; bad files rejected with a clear error and nothing stored.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SoundLibrary, SoundError, parseWav, readPcm16Mono, sniffAudio } from '../../../services/media/sounds/index.js';
import { Store } from '../../../services/storage/index.js';
import { tempDir } from '../../helpers/relais-process.js';
import { toneShare } from './rtp-peer.js';

/** Makes a 440 Hz test file with ffmpeg's sine source in the given shape. */
function fixture(dir: string, name: string, args: string[], seconds = 1): string {
  const out = path.join(dir, name);
  execFileSync('ffmpeg', ['-nostdin', '-v', 'error', '-y', '-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=44100:duration=${seconds}`, ...args, out]);
  return out;
}

describe('SoundLibrary', () => {
  let dir: string;
  let store: Store;
  let lib: SoundLibrary;
  let src: string;

  before(() => {
    dir = tempDir('sounds-');
    src = path.join(dir, 'src');
    fs.mkdirSync(src);
    store = Store.open(path.join(dir, 'relais.db'));
    lib = new SoundLibrary({ dataDir: path.join(dir, 'data'), db: store.db, maxDurationMs: 5000 });
  });
  after(() => store.close());

  const shapes: [string, string[]][] = [
    ['mono44k.mp3', ['-ac', '1', '-c:a', 'libmp3lame', '-b:a', '64k']],
    ['stereo48k.mp3', ['-ac', '2', '-ar', '48000', '-c:a', 'libmp3lame']],
    ['stereo44k-s16.wav', ['-ac', '2', '-c:a', 'pcm_s16le']],
    ['mono16k-u8.wav', ['-ac', '1', '-ar', '16000', '-c:a', 'pcm_u8']],
    ['stereo96k-s24.wav', ['-ac', '2', '-ar', '96000', '-c:a', 'pcm_s24le']],
    ['mono22k-f32.wav', ['-ac', '1', '-ar', '22050', '-c:a', 'pcm_f32le']],
    ['mono8k-alaw.wav', ['-ac', '1', '-ar', '8000', '-c:a', 'pcm_alaw']],
  ];
  for (const [file, args] of shapes) {
    it(`imports ${file} as 8 kHz mono 16-bit with the tone intact`, async () => {
      const input = fixture(src, file, args);
      const name = `t ${file}`;
      const s = await lib.import(input, name, 'prompt');
      assert.equal(s.name, name);
      assert.ok(Math.abs(s.durationMs - 1000) < 80, `duration ${s.durationMs} ms`);
      const wav = fs.readFileSync(lib.path(name));
      const info = parseWav(wav);
      assert.deepEqual([info.format, info.sampleRate, info.channels, info.bitsPerSample], [1, 8000, 1, 16]);
      const { samples } = readPcm16Mono(wav);
      assert.ok(toneShare(samples.subarray(800, 7200), 440) > 0.8, 'the 440 Hz tone survives conversion');
    });
  }

  it('imports from a Buffer (an upload) and lists, re-imports and removes', async () => {
    const buf = fs.readFileSync(fixture(src, 'up.mp3', ['-ac', '1', '-c:a', 'libmp3lame']));
    const a = await lib.import(buf, 'Accueil été', 'moh', { originalName: 'accueil.mp3', language: 'fr' });
    assert.equal(a.kind, 'moh');
    assert.equal(a.language, 'fr');
    const firstFile = lib.path('Accueil été');
    const b = await lib.import(buf, 'Accueil été', 'moh');
    assert.equal(b.id, a.id, 're-import keeps the row (references stay valid)');
    assert.ok(!fs.existsSync(firstFile), 'the replaced file is gone');
    assert.ok(lib.list().some((s) => s.name === 'Accueil été'));
    assert.equal(lib.remove('Accueil été'), true);
    assert.equal(lib.remove('Accueil été'), false);
    assert.throws(() => lib.path('Accueil été'), /does not exist/);
  });

  const rejects: [string, () => string | Buffer, RegExp][] = [
    ['an empty file', () => Buffer.alloc(0), /"bad" is empty/],
    ['a text file', () => Buffer.from('hello, this is not audio at all\n'), /"bad" is not an MP3 or WAV audio file/],
    ['a PNG renamed .mp3', () => Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'), /not an MP3 or WAV audio file/],
    ['a truncated WAV header', () => Buffer.from('RIFF\x10\x00\x00\x00WAVEfmt ', 'latin1'), /not an MP3 or WAV audio file \(ffmpeg: /],
    ['MP3 sync bytes then garbage', () => Buffer.concat([Buffer.from([0xff, 0xfb, 0x90, 0x00]), Buffer.alloc(2000, 0x55)]), /not an MP3 or WAV audio file \(ffmpeg: /],
    ['a missing path', () => path.join(dir, 'nope.mp3'), /cannot be read: no such file/],
  ];
  for (const [what, make, re] of rejects) {
    it(`rejects ${what} and stores nothing`, async () => {
      const before = fs.readdirSync(lib.dir).sort();
      const rows = lib.list().length;
      await assert.rejects(lib.import(make(), 'bad', 'prompt'), (err: unknown) => {
        assert.ok(err instanceof SoundError, String(err));
        assert.equal(err.code, 'sound.invalid');
        assert.match(err.message, re);
        return true;
      });
      assert.deepEqual(fs.readdirSync(lib.dir).sort(), before);
      assert.deepEqual(fs.readdirSync(path.join(lib.dir, '.tmp')), []);
      assert.equal(lib.list().length, rows);
    });
  }

  it('rejects a sound longer than the limit', async () => {
    const long = fixture(src, 'long.mp3', ['-ac', '1', '-c:a', 'libmp3lame'], 8);
    await assert.rejects(lib.import(long, 'long'), /"long.mp3" is too long: more than 5 s/);
    assert.equal(lib.get('long'), undefined);
  });

  it('rejects a bad name and a bad kind', async () => {
    await assert.rejects(lib.import(Buffer.from('x'), '../etc', 'prompt'), /sound name "..\/etc" is not valid/);
    await assert.rejects(lib.import(Buffer.from('x'), 'ok', 'music' as never), /sound kind "music"/);
  });

  it('sniffs MP3 and WAV signatures', () => {
    assert.equal(sniffAudio(Buffer.from('ID3\x04', 'latin1')), 'mp3');
    assert.equal(sniffAudio(Buffer.from('RIFF\0\0\0\0WAVE', 'latin1')), 'wav');
    assert.equal(sniffAudio(Buffer.from('OggS', 'latin1')), undefined);
  });
});
