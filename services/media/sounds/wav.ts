// Pure RIFF/WAVE reader and writer: header parse with checks, 16-bit PCM writer (no I/O).
import { RelaisError } from '../../shared/index.js';

/** WAVE format tags (RFC 2361). */
export const WAVE_FORMAT_PCM = 1;
export const WAVE_FORMAT_IEEE_FLOAT = 3;
export const WAVE_FORMAT_ALAW = 6;
export const WAVE_FORMAT_MULAW = 7;
export const WAVE_FORMAT_EXTENSIBLE = 0xfffe;

export interface WavFormat {
  /** Effective format tag (the sub-format for WAVE_FORMAT_EXTENSIBLE). */
  format: number;
  channels: number;
  sampleRate: number;
  bitsPerSample: number;
  blockAlign: number;
}

export interface WavInfo extends WavFormat {
  /** Byte offset of the sample data in the buffer. */
  dataOffset: number;
  /** Byte length of the sample data (clamped to the buffer when the header overstates it). */
  dataLength: number;
  /** Sample frames (one sample per channel). */
  frames: number;
  durationMs: number;
}

export class WavError extends RelaisError {
  constructor(message: string) {
    super('wav.invalid', message);
    this.name = 'WavError';
  }
}

/**
 * Parses a RIFF/WAVE header and locates the data chunk. Throws WavError naming what is wrong.
 * A data chunk length larger than the file (streams written without a final size) is clamped.
 */
export function parseWav(buf: Buffer): WavInfo {
  if (buf.length < 12) throw new WavError(`file is ${buf.length} bytes: too short for a WAV header`);
  if (buf.toString('latin1', 0, 4) !== 'RIFF') throw new WavError('not a WAV file: no RIFF signature');
  if (buf.toString('latin1', 8, 12) !== 'WAVE') throw new WavError('not a WAV file: RIFF type is not WAVE');
  let off = 12;
  let fmt: WavFormat | undefined;
  while (off + 8 <= buf.length) {
    const id = buf.toString('latin1', off, off + 4);
    const size = buf.readUInt32LE(off + 4);
    const body = off + 8;
    if (id === 'fmt ') {
      if (size < 16 || body + 16 > buf.length) throw new WavError(`fmt chunk is ${size} bytes: too short`);
      let format = buf.readUInt16LE(body);
      const channels = buf.readUInt16LE(body + 2);
      const sampleRate = buf.readUInt32LE(body + 4);
      const blockAlign = buf.readUInt16LE(body + 12);
      const bitsPerSample = buf.readUInt16LE(body + 14);
      if (format === WAVE_FORMAT_EXTENSIBLE && size >= 40 && body + 26 <= buf.length) format = buf.readUInt16LE(body + 24);
      if (channels < 1 || channels > 8) throw new WavError(`${channels} channels is not supported (1-8)`);
      if (sampleRate < 1000 || sampleRate > 384_000) throw new WavError(`sample rate ${sampleRate} Hz is not plausible`);
      if (bitsPerSample < 8 || bitsPerSample > 64) throw new WavError(`${bitsPerSample} bits per sample is not plausible`);
      if (blockAlign < 1) throw new WavError('block align is 0');
      fmt = { format, channels, sampleRate, bitsPerSample, blockAlign };
    } else if (id === 'data') {
      if (!fmt) throw new WavError('data chunk comes before the fmt chunk');
      const dataLength = Math.min(size, buf.length - body);
      const frames = Math.floor(dataLength / fmt.blockAlign);
      return { ...fmt, dataOffset: body, dataLength, frames, durationMs: Math.round((frames * 1000) / fmt.sampleRate) };
    }
    off = body + size + (size & 1);
  }
  throw new WavError(fmt ? 'WAV file has no data chunk' : 'WAV file has no fmt chunk');
}

/** What keeps a WAV from the one format Relais stores and plays (8 kHz mono 16-bit PCM); empty when it is that. */
export function telephoneFormatProblems(info: WavFormat): string[] {
  const problems: string[] = [];
  if (info.format !== WAVE_FORMAT_PCM) problems.push(`format ${info.format} is not PCM (1)`);
  if (info.sampleRate !== 8000) problems.push(`sample rate ${info.sampleRate} Hz is not 8000 Hz`);
  if (info.channels !== 1) problems.push(`${info.channels} channels, not mono`);
  if (info.bitsPerSample !== 16) problems.push(`${info.bitsPerSample} bits per sample, not 16`);
  return problems;
}

/** Parses a WAV that must be 16-bit PCM (mono or more channels); returns the samples of channel 0. */
export function readPcm16Mono(buf: Buffer): { sampleRate: number; samples: Int16Array } {
  const info = parseWav(buf);
  if (info.format !== WAVE_FORMAT_PCM || info.bitsPerSample !== 16) {
    throw new WavError(`WAV is format ${info.format} with ${info.bitsPerSample} bits: expected 16-bit PCM`);
  }
  const samples = new Int16Array(info.frames);
  for (let i = 0; i < info.frames; i++) samples[i] = buf.readInt16LE(info.dataOffset + i * info.blockAlign);
  return { sampleRate: info.sampleRate, samples };
}

/** A 44-byte canonical PCM WAV header for `dataLength` bytes of samples. */
export function wavHeader(opts: { sampleRate: number; channels: number; bitsPerSample: number; dataLength: number }): Buffer {
  const { sampleRate, channels, bitsPerSample, dataLength } = opts;
  const blockAlign = (channels * bitsPerSample) / 8;
  const h = Buffer.alloc(44);
  h.write('RIFF', 0, 'latin1');
  h.writeUInt32LE(36 + dataLength, 4);
  h.write('WAVE', 8, 'latin1');
  h.write('fmt ', 12, 'latin1');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(WAVE_FORMAT_PCM, 20);
  h.writeUInt16LE(channels, 22);
  h.writeUInt32LE(sampleRate, 24);
  h.writeUInt32LE(sampleRate * blockAlign, 28);
  h.writeUInt16LE(blockAlign, 32);
  h.writeUInt16LE(bitsPerSample, 34);
  h.write('data', 36, 'latin1');
  h.writeUInt32LE(dataLength, 40);
  return h;
}

/** Encodes 16-bit samples as a PCM WAV (interleaved when channels > 1). */
export function writeWav(samples: Int16Array, sampleRate = 8000, channels = 1): Buffer {
  const data = Buffer.alloc(samples.length * 2);
  for (let i = 0; i < samples.length; i++) data.writeInt16LE(samples[i]!, i * 2);
  return Buffer.concat([wavHeader({ sampleRate, channels, bitsPerSample: 16, dataLength: data.length }), data]);
}
