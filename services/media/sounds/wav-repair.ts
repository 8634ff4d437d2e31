// A WAV the recorder was writing when the process died (kill -9, power cut): its samples are on disk, but its header
// still gives the data length of 0 it was opened with. Sets the header to the whole samples on disk.
import fs from 'node:fs';
import { parseWav, wavHeader, WAVE_FORMAT_PCM } from './wav.js';

/**
 * Rewrites the canonical 44-byte PCM header of `file` for the whole sample frames after it (a cut last frame is
 * dropped) and syncs it. Returns the data length and channels, or undefined when the file does not start with such a
 * header (it is then left as it is). Throws on I/O errors.
 */
export function finishInterruptedWav(file: string): { dataLength: number; channels: number } | undefined {
  const fd = fs.openSync(file, 'r+');
  try {
    const head = Buffer.alloc(44);
    if (fs.readSync(fd, head, 0, 44, 0) < 44 || head.toString('latin1', 36, 40) !== 'data') return undefined;
    let fmt;
    try {
      fmt = parseWav(head);
    } catch {
      return undefined;
    }
    if (fmt.format !== WAVE_FORMAT_PCM || fmt.dataOffset !== 44 || fmt.blockAlign < 1) return undefined;
    const size = fs.fstatSync(fd).size;
    const dataLength = Math.floor(Math.max(0, size - 44) / fmt.blockAlign) * fmt.blockAlign;
    fs.writeSync(fd, wavHeader({ sampleRate: fmt.sampleRate, channels: fmt.channels, bitsPerSample: fmt.bitsPerSample, dataLength }), 0, 44, 0);
    if (size !== 44 + dataLength) fs.ftruncateSync(fd, 44 + dataLength);
    fs.fsyncSync(fd);
    return { dataLength, channels: fmt.channels };
  } finally {
    fs.closeSync(fd);
  }
}
