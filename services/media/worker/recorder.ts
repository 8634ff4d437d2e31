// WAV recorder: collects what an endpoint receives (in) and sends (out), aligns both on the 20 ms clock, writes 8 kHz 16-bit WAV.
import fs from 'node:fs';
import { wavHeader } from '../sounds/wav.js';

const RING = 8000; // 1 s per direction: more than any jitter we wait for
const PRIME = 480; // 60 ms buffered before a stream is read, so arrival jitter does not cut it into gaps
const FRAME = 160;

class SampleRing {
  readonly buf = new Int16Array(RING);
  r = 0;
  w = 0;
  count = 0;
  primed = false;

  push(src: Int16Array, from: number, n: number): void {
    for (let i = 0; i < n; i++) {
      this.buf[this.w] = src[from + i]!;
      this.w = (this.w + 1) % RING;
      if (this.count === RING) this.r = (this.r + 1) % RING;
      else this.count++;
    }
  }

  /** Moves FRAME samples to `out` (silence where none have arrived). */
  pull(out: Int16Array): void {
    if (!this.primed && this.count >= PRIME) this.primed = true;
    let i = 0;
    if (this.primed) {
      for (; i < FRAME && this.count > 0; i++) {
        out[i] = this.buf[this.r]!;
        this.r = (this.r + 1) % RING;
        this.count--;
      }
      if (i < FRAME) this.primed = false;
    }
    out.fill(0, i, FRAME);
  }
}

export type RecordDirection = 'in' | 'out' | 'both';

export class Recorder {
  readonly inRing: SampleRing | null;
  readonly outRing: SampleRing | null;
  private readonly channels: number;
  private readonly inFrame = new Int16Array(FRAME);
  private readonly outFrame = new Int16Array(FRAME);
  private chunk: Buffer;
  private chunkFill = 0;
  private fd: number | null = null;
  private dataBytes = 0;
  private pending: Promise<void>;
  private failed = false;
  private stopped = false;

  constructor(
    readonly file: string,
    readonly direction: RecordDirection,
    stereo: boolean,
    private readonly onError: (err: NodeJS.ErrnoException) => void,
  ) {
    this.inRing = direction !== 'out' ? new SampleRing() : null;
    this.outRing = direction !== 'in' ? new SampleRing() : null;
    this.channels = direction === 'both' && stereo ? 2 : 1;
    this.chunk = Buffer.allocUnsafe(8000 * 2 * this.channels);
    this.pending = new Promise<void>((resolve) => {
      fs.open(file, 'w', (err, fd) => {
        if (err) return this.fail(err), resolve();
        this.fd = fd;
        fs.write(fd, wavHeader({ sampleRate: 8000, channels: this.channels, bitsPerSample: 16, dataLength: 0 }), 0, 44, 0, (e) => {
          if (e) this.fail(e);
          resolve();
        });
      });
    });
  }

  get active(): boolean {
    return !this.failed && !this.stopped;
  }

  pushIn(src: Int16Array, from: number, n: number): void {
    this.inRing?.push(src, from, n);
  }
  pushOut(src: Int16Array, from: number, n: number): void {
    this.outRing?.push(src, from, n);
  }

  /** Called every 20 ms: appends one frame to the file. */
  tick(): void {
    if (!this.active) return;
    if (this.inRing) this.inRing.pull(this.inFrame);
    if (this.outRing) this.outRing.pull(this.outFrame);
    const c = this.chunk;
    let at = this.chunkFill;
    for (let i = 0; i < FRAME; i++) {
      if (this.channels === 2) {
        c.writeInt16LE(this.inFrame[i]!, at);
        c.writeInt16LE(this.outFrame[i]!, at + 2);
        at += 4;
      } else {
        let v = this.direction === 'in' ? this.inFrame[i]! : this.direction === 'out' ? this.outFrame[i]! : this.inFrame[i]! + this.outFrame[i]!;
        if (v > 32767) v = 32767;
        else if (v < -32768) v = -32768;
        c.writeInt16LE(v, at);
        at += 2;
      }
    }
    this.chunkFill = at;
    if (at + FRAME * 2 * this.channels > c.length) this.flush();
  }

  private flush(): void {
    if (this.chunkFill === 0) return;
    const data = this.chunk;
    const len = this.chunkFill;
    this.chunk = Buffer.allocUnsafe(data.length);
    this.chunkFill = 0;
    this.pending = this.pending.then(
      () =>
        new Promise<void>((resolve) => {
          if (this.fd === null || this.failed) return resolve();
          fs.write(this.fd, data, 0, len, 44 + this.dataBytes, (err) => {
            if (err) this.fail(err);
            else this.dataBytes += len;
            resolve();
          });
        }),
    );
  }

  private fail(err: NodeJS.ErrnoException): void {
    if (this.failed) return;
    this.failed = true;
    this.onError(err);
  }

  /** Flushes, writes the final header and closes the file. */
  stop(): Promise<void> {
    if (!this.stopped) {
      this.stopped = true;
      if (!this.failed) this.flush();
      this.pending = this.pending.then(
        () =>
          new Promise<void>((resolve) => {
            const fd = this.fd;
            if (fd === null) return resolve();
            this.fd = null;
            const close = (): void => fs.close(fd, () => resolve());
            if (this.failed) return close();
            fs.write(fd, wavHeader({ sampleRate: 8000, channels: this.channels, bitsPerSample: 16, dataLength: this.dataBytes }), 0, 44, 0, (err) => {
              if (err) this.fail(err);
              close();
            });
          }),
      );
    }
    return this.pending;
  }
}
