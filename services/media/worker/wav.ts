// WAV (RIFF, PCM 16-bit) reading for the players and header writing for the recorder.

export class WavFormatError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'WavFormatError';
  }
}

export interface WavInfo {
  sampleRate: number;
  channels: number;
  bitsPerSample: number;
  format: number;
  dataOffset: number;
  dataLength: number;
}

/** Reads the RIFF chunks of a WAV file; throws WavFormatError naming what is wrong. */
export function readWavInfo(buf: Buffer): WavInfo {
  if (buf.length < 12 || buf.toString('latin1', 0, 4) !== 'RIFF' || buf.toString('latin1', 8, 12) !== 'WAVE') {
    throw new WavFormatError('not a WAV file (no RIFF/WAVE header)');
  }
  let at = 12;
  let fmt: Omit<WavInfo, 'dataOffset' | 'dataLength'> | undefined;
  while (at + 8 <= buf.length) {
    const id = buf.toString('latin1', at, at + 4);
    const size = buf.readUInt32LE(at + 4);
    const body = at + 8;
    if (id === 'fmt ') {
      if (size < 16 || body + 16 > buf.length) throw new WavFormatError('fmt chunk is truncated');
      let format = buf.readUInt16LE(body);
      // WAVE_FORMAT_EXTENSIBLE carries the real format in its sub-format GUID.
      if (format === 0xfffe && size >= 40) format = buf.readUInt16LE(body + 24);
      fmt = { format, channels: buf.readUInt16LE(body + 2), sampleRate: buf.readUInt32LE(body + 4), bitsPerSample: buf.readUInt16LE(body + 14) };
    } else if (id === 'data') {
      if (!fmt) throw new WavFormatError('data chunk comes before the fmt chunk');
      // Writers that stream (sox to a pipe, an interrupted recording) leave 0 or 0xffffffff: take what is there.
      const dataLength = size === 0 || body + size > buf.length ? buf.length - body : size;
      return { ...fmt, dataOffset: body, dataLength };
    }
    at = body + size + (size & 1);
  }
  throw new WavFormatError(fmt ? 'WAV file has no data chunk' : 'WAV file has no fmt chunk');
}

/** Samples of an 8 kHz mono 16-bit PCM WAV (the format the sound library produces). */
export function decodeWav8kMono(buf: Buffer): Int16Array {
  const info = readWavInfo(buf);
  const problems: string[] = [];
  if (info.format !== 1) problems.push(`format ${info.format} is not PCM (1)`);
  if (info.sampleRate !== 8000) problems.push(`sample rate ${info.sampleRate} Hz is not 8000 Hz`);
  if (info.channels !== 1) problems.push(`${info.channels} channels, not mono`);
  if (info.bitsPerSample !== 16) problems.push(`${info.bitsPerSample} bits per sample, not 16`);
  if (problems.length) throw new WavFormatError(`WAV must be 8 kHz mono 16-bit PCM: ${problems.join('; ')}`);
  const n = Math.floor(info.dataLength / 2);
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) out[i] = buf.readInt16LE(info.dataOffset + 2 * i);
  return out;
}

/** 44-byte canonical PCM header for `dataBytes` of data. */
export function wavHeader(dataBytes: number, channels: number, sampleRate = 8000): Buffer {
  const h = Buffer.alloc(44);
  h.write('RIFF', 0, 'latin1');
  h.writeUInt32LE(36 + dataBytes, 4);
  h.write('WAVE', 8, 'latin1');
  h.write('fmt ', 12, 'latin1');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20);
  h.writeUInt16LE(channels, 22);
  h.writeUInt32LE(sampleRate, 24);
  h.writeUInt32LE(sampleRate * channels * 2, 28);
  h.writeUInt16LE(channels * 2, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36, 'latin1');
  h.writeUInt32LE(dataBytes, 40);
  return h;
}
