// finishInterruptedWav: the header of a WAV the recorder was writing when the process died is set to what is on disk.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { finishInterruptedWav, parseWav, wavHeader } from '../../../services/media/sounds/index.js';
import { tempDir } from '../../helpers/relais-process.js';

const dir = tempDir('wav-repair-');

function cut(name: string, channels: number, dataBytes: number): string {
  const file = path.join(dir, name);
  const data = Buffer.alloc(dataBytes);
  for (let i = 0; i < dataBytes; i++) data[i] = (i * 7) & 0xff;
  fs.writeFileSync(file, Buffer.concat([wavHeader({ sampleRate: 8000, channels, bitsPerSample: 16, dataLength: 0 }), data]));
  return file;
}

test('a stereo recording cut mid-frame: the header counts the whole frames on disk, the partial frame is dropped', () => {
  const file = cut('stereo.wav', 2, 16_000 * 2 + 3);
  assert.deepEqual(finishInterruptedWav(file), { dataLength: 32_000, channels: 2 });
  const buf = fs.readFileSync(file);
  assert.equal(buf.length, 44 + 32_000);
  const info = parseWav(buf);
  assert.equal(info.channels, 2);
  assert.equal(info.dataLength, 32_000);
  assert.equal(info.durationMs, 1000, "8 000 stereo frames");
  assert.equal(buf.readUInt32LE(4), 36 + 32_000, 'the RIFF size too');
  assert.equal(buf[44 + 31_999], (31_999 * 7) & 0xff, 'the samples are untouched');
});

test('a mono recording with nothing after its header becomes an empty, valid WAV; running it again changes nothing', () => {
  const file = cut('empty.wav', 1, 0);
  assert.deepEqual(finishInterruptedWav(file), { dataLength: 0, channels: 1 });
  assert.equal(parseWav(fs.readFileSync(file)).dataLength, 0);
  const full = cut('mono.wav', 1, 8000);
  finishInterruptedWav(full);
  const once = fs.readFileSync(full);
  finishInterruptedWav(full);
  assert.ok(fs.readFileSync(full).equals(once));
});

test('a file that does not start with the recorder\'s header is left as it is', () => {
  const text = path.join(dir, 'notes.wav');
  fs.writeFileSync(text, 'not a wav file, just some text that is longer than a header would be');
  assert.equal(finishInterruptedWav(text), undefined);
  assert.equal(fs.readFileSync(text, 'utf8'), 'not a wav file, just some text that is longer than a header would be');
  const short = path.join(dir, 'short.wav');
  fs.writeFileSync(short, 'RIFF');
  assert.equal(finishInterruptedWav(short), undefined);
});
