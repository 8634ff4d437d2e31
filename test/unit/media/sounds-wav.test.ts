// WAV reader/writer: round trip, header checks with errors naming what is wrong.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseWav, readPcm16Mono, writeWav, wavHeader, WavError } from '../../../services/media/sounds/index.js';

describe('wav', () => {
  it('round-trips 16-bit mono samples', () => {
    const s = Int16Array.from([0, 1, -1, 32767, -32768, 1234]);
    const buf = writeWav(s, 8000);
    assert.equal(buf.length, 44 + 12);
    const info = parseWav(buf);
    assert.deepEqual([info.format, info.channels, info.sampleRate, info.bitsPerSample, info.frames], [1, 1, 8000, 16, 6]);
    assert.deepEqual([...readPcm16Mono(buf).samples], [...s]);
  });

  it('skips unknown chunks and clamps an overstated data length', () => {
    const data = Buffer.alloc(160);
    const h = wavHeader({ sampleRate: 8000, channels: 1, bitsPerSample: 16, dataLength: 0x7fffffff });
    const list = Buffer.concat([Buffer.from('LIST', 'latin1'), Buffer.from([3, 0, 0, 0]), Buffer.from('abc\0', 'latin1')]);
    const buf = Buffer.concat([h.subarray(0, 36), list, h.subarray(36), data]);
    const info = parseWav(buf);
    assert.equal(info.dataLength, 160);
    assert.equal(info.durationMs, 10);
  });

  it('names what is wrong', () => {
    assert.throws(() => parseWav(Buffer.from('abc')), /too short/);
    assert.throws(() => parseWav(Buffer.from('RIFX0000WAVE', 'latin1')), /no RIFF signature/);
    assert.throws(() => parseWav(Buffer.from('RIFF0000AVI ', 'latin1')), /not WAVE/);
    const noData = wavHeader({ sampleRate: 8000, channels: 1, bitsPerSample: 16, dataLength: 0 }).subarray(0, 36);
    assert.throws(() => parseWav(noData), (e: unknown) => e instanceof WavError && /no data chunk/.test(e.message));
    const badRate = wavHeader({ sampleRate: 10, channels: 1, bitsPerSample: 16, dataLength: 0 });
    assert.throws(() => parseWav(badRate), /sample rate 10 Hz/);
    const eightBit = wavHeader({ sampleRate: 8000, channels: 1, bitsPerSample: 8, dataLength: 0 });
    assert.throws(() => readPcm16Mono(eightBit), /expected 16-bit PCM/);
  });
});
