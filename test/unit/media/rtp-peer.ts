// A real RTP peer for media tests: a loopback UDP socket that sends G.711/RFC 4733 packets and keeps what it receives.
import dgram from 'node:dgram';
import { RtpPacket } from '../../../services/media/worker/rtp-packet.js';
import { ULAW_ENCODE, ALAW_ENCODE, ULAW_DECODE, ALAW_DECODE } from '../../../services/media/worker/g711.js';

export interface Received {
  pkt: RtpPacket;
  at: number;
  from: { address: string; port: number };
}

export class RtpPeer {
  readonly received: Received[] = [];
  seq = 1000;
  ts = 160000;
  ssrc = 0x1234abcd;

  private constructor(readonly sock: dgram.Socket) {
    sock.on('message', (m, r) => {
      try {
        this.received.push({ pkt: RtpPacket.parse(m), at: performance.now(), from: { address: r.address, port: r.port } });
      } catch {
        /* not RTP: ignored */
      }
    });
  }

  static async open(): Promise<RtpPeer> {
    const s = dgram.createSocket('udp4');
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
    return new RtpPeer(s);
  }

  get port(): number {
    return this.sock.address().port;
  }

  sdp(opts: { pts?: number[]; te?: number; direction?: string; port?: number; ptime?: number } = {}): string {
    const pts = opts.pts ?? [0];
    const all = opts.te !== undefined ? [...pts, opts.te] : pts;
    const lines = ['v=0', 'o=peer 1 1 IN IP4 127.0.0.1', 's=peer', 'c=IN IP4 127.0.0.1', 't=0 0', `m=audio ${opts.port ?? this.port} RTP/AVP ${all.join(' ')}`];
    if (opts.te !== undefined) lines.push(`a=rtpmap:${opts.te} telephone-event/8000`, `a=fmtp:${opts.te} 0-16`);
    if (opts.ptime) lines.push(`a=ptime:${opts.ptime}`);
    lines.push(`a=${opts.direction ?? 'sendrecv'}`);
    return lines.join('\r\n') + '\r\n';
  }

  send(to: number, pt: number, payload: Buffer, opts: { marker?: boolean; samples?: number; seq?: number; ts?: number } = {}): void {
    const p = new RtpPacket(pt, opts.seq ?? this.seq, opts.ts ?? this.ts, this.ssrc, payload, !!opts.marker);
    this.sock.send(p.serialize(), to, '127.0.0.1');
    if (opts.seq === undefined) this.seq = (this.seq + 1) & 0xffff;
    if (opts.ts === undefined) this.ts = (this.ts + (opts.samples ?? payload.length)) >>> 0;
  }

  sendRaw(to: number, buf: Buffer): void {
    this.sock.send(buf, to, '127.0.0.1');
  }

  /** Bounded poll on what has arrived (tests never sleep blindly). */
  async waitFor(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
    const end = performance.now() + timeoutMs;
    while (!cond()) {
      if (performance.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (received ${this.received.length} packets)`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  close(): void {
    this.sock.close();
  }
}

export function encode(samples: ArrayLike<number>, law: 'u' | 'a'): Buffer {
  const t = law === 'u' ? ULAW_ENCODE : ALAW_ENCODE;
  const b = Buffer.alloc(samples.length);
  for (let i = 0; i < samples.length; i++) b[i] = t[(Math.max(-32768, Math.min(32767, Math.round(samples[i]!))) + 32768) >> 2]!;
  return b;
}

export function decode(payload: Buffer, law: 'u' | 'a'): Int16Array {
  const t = law === 'u' ? ULAW_DECODE : ALAW_DECODE;
  return Int16Array.from(payload, (b) => t[b]!);
}

/**
 * A sender clock like a phone's: `next()` resolves at start + k × 20 ms, so a late timer is made up on the next packet
 * instead of slowing the whole stream below 50 packets/s (setTimeout(20) in a loop averages 21–25 ms per packet).
 */
export function pacer(periodMs = 20): { next(): Promise<void> } {
  const t0 = performance.now();
  let k = 0;
  return {
    next: () => {
      k++;
      const wait = t0 + k * periodMs - performance.now();
      return new Promise((r) => setTimeout(r, Math.max(0, wait)));
    },
  };
}

/** Sends n packets of a 20 ms G.711 tone (µ-law for PT 0, A-law otherwise), paced every 20 ms like a phone. */
export async function sendTone(p: RtpPeer, to: number, freq: number, n: number, pt = 0): Promise<void> {
  const clock = pacer();
  for (let i = 0; i < n; i++) {
    p.send(to, pt, encode(sine(freq, 160, 8000, i * 160), pt === 0 ? 'u' : 'a'));
    await clock.next();
  }
}

export function sine(freq: number, n: number, amp = 8000, start = 0): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(amp * Math.sin((2 * Math.PI * freq * (start + i)) / 8000));
  return out;
}

/**
 * Mean of toneShare over the 20 ms frames that carry sound, and the share of frames that do. A jitter buffer that waits
 * out a late packet inserts silence, which shifts the tone's phase by a fraction of a cycle at 440 Hz (20 ms is 8.8
 * cycles): one Goertzel over the whole stretch then sees the pieces cancel, although every piece is the right tone.
 */
export function framedToneShare(x: ArrayLike<number>, freq: number): { share: number; voiced: number } {
  let sum = 0;
  let voiced = 0;
  let frames = 0;
  for (let at = 0; at + 160 <= x.length; at += 160) {
    frames++;
    const frame = Array.prototype.slice.call(x, at, at + 160) as number[];
    let e = 0;
    for (const v of frame) e += v * v;
    if (e / 160 < 100) continue; // silence (below −50 dBFS)
    voiced++;
    sum += toneShare(frame, freq);
  }
  return { share: voiced === 0 ? 0 : sum / voiced, voiced: frames === 0 ? 0 : voiced / frames };
}

/** Share of the signal's energy at `freq` (≈1 for a pure tone there). */
export function toneShare(x: ArrayLike<number>, freq: number): number {
  const n = x.length;
  const c = 2 * Math.cos((2 * Math.PI * freq) / 8000);
  let s1 = 0;
  let s2 = 0;
  let e = 0;
  for (let i = 0; i < n; i++) {
    const s0 = x[i]! + c * s1 - s2;
    s2 = s1;
    s1 = s0;
    e += x[i]! * x[i]!;
  }
  return e === 0 ? 0 : (s1 * s1 + s2 * s2 - c * s1 * s2) / ((n / 2) * e);
}
