// Turns an rtpengine pcap recording (raw IPv4 or Ethernet link, UDP/RTP G.711) into a 16-bit WAV, per direction.
import { ALAW_DECODE, ULAW_DECODE } from '../worker/g711.js';

/** One RTP packet found in a capture. */
export interface CapturedRtp {
  /** Capture time in microseconds. */
  timeUs: number;
  srcPort: number;
  dstPort: number;
  pt: number;
  seq: number;
  /** RTP timestamp (8 kHz units for G.711). */
  ts: number;
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
      seq: buf.readUInt16BE(rtp + 2),
      ts: buf.readUInt32BE(rtp + 4),
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
 * Where each packet of one direction goes in its track: by RTP timestamp within a stream (SSRC), so capture
 * jitter and reordering do not tear the audio and silence suppression keeps its length; a new stream (another
 * SSRC, or a timestamp jump of more than 5 s) starts where capture time says, never over what was written.
 */
export class TrackPlacement {
  private ssrc = -1;
  private ts0 = 0;
  private base = 0;
  /** One past the last sample placed. */
  end = 0;

  /** Sample index of `p`, given the capture-time index `byTime` (samples since the recording began). */
  place(p: CapturedRtp, byTime: number): number {
    if (p.ssrc !== this.ssrc) this.restart(p, byTime);
    let d = (p.ts - this.ts0) >>> 0;
    if (d > 0x7fffffff) d -= 2 ** 32; // earlier than the first packet (reordered)
    let at = this.base + d;
    if (at < 0 || Math.abs(at - byTime) > 5 * 8000) {
      this.restart(p, byTime);
      at = this.base;
    }
    this.end = Math.max(this.end, at + p.payload.length);
    return at;
  }

  private restart(p: CapturedRtp, byTime: number): void {
    this.ssrc = p.ssrc;
    this.ts0 = p.ts;
    this.base = Math.max(this.end, byTime);
  }
}

function isG711(p: CapturedRtp): boolean {
  return p.pt === 0 || p.pt === 8;
}

function decodePayload(p: CapturedRtp): Int16Array {
  const table = p.pt === 0 ? ULAW_DECODE : ALAW_DECODE;
  return Int16Array.from(p.payload, (b) => table[b]!);
}

/**
 * Builds one direction's audio as packets arrive (a WAV that grows while recording, e.g. for voicemail silence
 * detection): returns where each decoded packet goes, the same placement as tracksFromCapture.
 */
export class LiveTrack {
  private t0 = -1;
  private readonly placement = new TrackPlacement();

  constructor(readonly port: number) {}

  add(packets: readonly CapturedRtp[]): { at: number; samples: Int16Array }[] {
    const out: { at: number; samples: Int16Array }[] = [];
    for (const p of packets) {
      if (!isG711(p) || p.dstPort !== this.port) continue;
      if (this.t0 < 0) this.t0 = p.timeUs;
      out.push({ at: this.placement.place(p, Math.round(((p.timeUs - this.t0) * 8) / 1000)), samples: decodePayload(p) });
    }
    return out;
  }
}

/**
 * Decodes the G.711 packets that arrived on each of `ports` into one track per port. The tracks share one time
 * origin (the first packet of either), so the two directions of a call stay aligned. Other payload types
 * (telephone-event, comfort noise) are skipped.
 */
export function tracksFromCapture(packets: readonly CapturedRtp[], ports: readonly number[]): Int16Array[] {
  const audio = packets.filter((p) => isG711(p) && ports.includes(p.dstPort));
  if (!audio.length) return ports.map(() => new Int16Array(0));
  const t0 = Math.min(...audio.map((p) => p.timeUs));
  const placements = ports.map(() => new TrackPlacement());
  const placed = audio.map((p) => {
    const k = ports.indexOf(p.dstPort);
    return { k, p, at: placements[k]!.place(p, Math.round(((p.timeUs - t0) * 8) / 1000)) };
  });
  const len = Math.max(...placements.map((x) => x.end));
  const tracks = ports.map(() => new Int16Array(len));
  for (const { k, p, at } of placed) {
    const table = p.pt === 0 ? ULAW_DECODE : ALAW_DECODE;
    const track = tracks[k]!;
    for (let i = 0; i < p.payload.length; i++) track[at + i] = table[p.payload[i]!]!;
  }
  return tracks;
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
