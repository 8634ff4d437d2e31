// Turns an rtpengine pcap recording (raw IPv4 or Ethernet link, UDP/RTP G.711) into a 16-bit WAV, per direction.
import { ALAW_DECODE, ULAW_DECODE } from '../worker/g711.js';

/** One RTP packet found in a capture. */
export interface CapturedRtp {
  /** Capture time in microseconds. */
  timeUs: number;
  srcPort: number;
  dstPort: number;
  pt: number;
  ssrc: number;
  payload: Buffer;
}

/**
 * libpcap file format (tcpdump.org/manpages/pcap-savefile.5): a 24-byte global header, then records of a 16-byte
 * header and the packet. Fed in chunks as the capture grows; a record is returned once it is complete.
 */
export class PcapStream {
  private pending: Buffer = Buffer.alloc(0);
  private le = true;
  private nano = false;
  private linkHeader = -1;

  /** Bytes consumed so far (global header and complete records). */
  consumed = 0;

  push(chunk: Buffer): CapturedRtp[] {
    const buf = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    let off = 0;
    if (this.linkHeader < 0) {
      if (buf.length < 24) {
        this.pending = buf;
        return [];
      }
      this.readGlobalHeader(buf);
      off = 24;
    }
    const out: CapturedRtp[] = [];
    const u32 = (o: number): number => (this.le ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
    while (off + 16 <= buf.length) {
      const incl = u32(off + 8);
      const rec = off + 16;
      if (rec + incl > buf.length) break; // the rest of this record is not written yet
      const p = this.parseRecord(buf, rec, rec + incl, u32(off), u32(off + 4));
      if (p) out.push(p);
      off = rec + incl;
    }
    this.consumed += off;
    this.pending = buf.subarray(off);
    return out;
  }

  private readGlobalHeader(buf: Buffer): void {
    const magic = buf.readUInt32LE(0);
    if (magic === 0xa1b2c3d4) this.le = true;
    else if (magic === 0xd4c3b2a1) this.le = false;
    else if (magic === 0xa1b23c4d) [this.le, this.nano] = [true, true];
    else if (magic === 0x4d3cb2a1) [this.le, this.nano] = [false, true];
    else throw new Error('not a pcap file (bad magic number)');
    const linkType = this.le ? buf.readUInt32LE(20) : buf.readUInt32BE(20);
    // 1 = Ethernet, 101 = raw IP (rtpengine --recording-format=raw), 228 = raw IPv4, 113 = Linux cooked.
    const lh = linkType === 1 ? 14 : linkType === 113 ? 16 : linkType === 101 || linkType === 228 ? 0 : -1;
    if (lh < 0) throw new Error(`pcap link type ${linkType} is not supported`);
    this.linkHeader = lh;
  }

  private parseRecord(buf: Buffer, rec: number, end: number, sec: number, frac: number): CapturedRtp | undefined {
    const ip = rec + this.linkHeader;
    if (ip + 20 > end || buf[ip]! >> 4 !== 4) return undefined;
    const ihl = (buf[ip]! & 0x0f) * 4;
    if (buf[ip + 9] !== 17) return undefined; // not UDP
    const udp = ip + ihl;
    const rtp = udp + 8;
    if (rtp + 12 > end || buf[rtp]! >> 6 !== 2) return undefined;
    const cc = buf[rtp]! & 0x0f;
    let start = rtp + 12 + cc * 4;
    if (buf[rtp]! & 0x10 && start + 4 <= end) start += 4 + buf.readUInt16BE(start + 2) * 4;
    let stop = end;
    if (buf[rtp]! & 0x20) stop -= buf[end - 1]!; // padding
    if (start > stop) return undefined;
    return {
      timeUs: sec * 1e6 + (this.nano ? Math.floor(frac / 1000) : frac),
      srcPort: buf.readUInt16BE(udp),
      dstPort: buf.readUInt16BE(udp + 2),
      pt: buf[rtp + 1]! & 0x7f,
      ssrc: buf.readUInt32BE(rtp + 8),
      // Copied: the stream's buffer is reused for the next chunk.
      payload: Buffer.from(buf.subarray(start, stop)),
    };
  }
}

/** Every RTP packet of a whole capture (a truncated last record is ignored). */
export function readPcapRtp(buf: Buffer): CapturedRtp[] {
  if (buf.length < 24) throw new Error(`pcap is ${buf.length} bytes: too short for a header`);
  return new PcapStream().push(buf);
}

/**
 * Builds one direction's audio as packets arrive (for a WAV that grows while recording, e.g. voicemail silence
 * detection): same placement rule as tracksFromCapture.
 */
export class LiveTrack {
  private t0 = -1;
  private next = 0;

  constructor(readonly port: number) {}

  /** Samples to append for these packets (silence first when a real gap opened). */
  add(packets: readonly CapturedRtp[]): Int16Array {
    const parts: Int16Array[] = [];
    for (const p of packets) {
      if ((p.pt !== 0 && p.pt !== 8) || p.dstPort !== this.port) continue;
      if (this.t0 < 0) this.t0 = p.timeUs;
      const byTime = Math.round(((p.timeUs - this.t0) * 8) / 1000);
      if (byTime - this.next > 480) {
        parts.push(new Int16Array(byTime - this.next));
        this.next = byTime;
      }
      const table = p.pt === 0 ? ULAW_DECODE : ALAW_DECODE;
      parts.push(Int16Array.from(p.payload, (b) => table[b]!));
      this.next += p.payload.length;
    }
    const out = new Int16Array(parts.reduce((n, x) => n + x.length, 0));
    let at = 0;
    for (const x of parts) {
      out.set(x, at);
      at += x.length;
    }
    return out;
  }
}

/**
 * Decodes the G.711 packets that arrived on each of `ports` into one track per port, placed by capture time
 * (so two directions stay aligned and silence gaps keep their length). Other payload types (events, CN) are skipped.
 */
export function tracksFromCapture(packets: readonly CapturedRtp[], ports: readonly number[]): Int16Array[] {
  const audio = packets.filter((p) => (p.pt === 0 || p.pt === 8) && ports.includes(p.dstPort));
  if (!audio.length) return ports.map(() => new Int16Array(0));
  const t0 = Math.min(...audio.map((p) => p.timeUs));
  const next = ports.map(() => 0);
  const len = Math.max(...audio.map((p) => Math.round(((p.timeUs - t0) * 8) / 1000) + p.payload.length)) + 160;
  const tracks = ports.map(() => new Int16Array(len));
  for (const p of audio) {
    const k = ports.indexOf(p.dstPort);
    // Packets are paced 20 ms apart but captured with jitter: keep them contiguous unless a real gap (> 60 ms) opens.
    const byTime = Math.round(((p.timeUs - t0) * 8) / 1000);
    const at = byTime - next[k]! > 480 || byTime < next[k]! - 480 ? byTime : next[k]!;
    const table = p.pt === 0 ? ULAW_DECODE : ALAW_DECODE;
    const track = tracks[k]!;
    for (let i = 0; i < p.payload.length && at + i < len; i++) track[at + i] = table[p.payload[i]!]!;
    next[k] = at + p.payload.length;
  }
  const used = Math.max(...next);
  return tracks.map((t) => t.subarray(0, used));
}

/** Sums two tracks with clipping (mono recording of both directions). */
export function mixTracks(a: Int16Array, b: Int16Array): Int16Array {
  const out = new Int16Array(Math.max(a.length, b.length));
  for (let i = 0; i < out.length; i++) {
    const v = (a[i] ?? 0) + (b[i] ?? 0);
    out[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
  }
  return out;
}

/** Interleaves two tracks as left/right. */
export function interleave(left: Int16Array, right: Int16Array): Int16Array {
  const n = Math.max(left.length, right.length);
  const out = new Int16Array(n * 2);
  for (let i = 0; i < n; i++) {
    out[2 * i] = left[i] ?? 0;
    out[2 * i + 1] = right[i] ?? 0;
  }
  return out;
}
