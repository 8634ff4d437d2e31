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

/** libpcap file format (tcpdump.org/manpages/pcap-savefile.5): global header, then records. */
export function readPcapRtp(buf: Buffer): CapturedRtp[] {
  if (buf.length < 24) throw new Error(`pcap is ${buf.length} bytes: too short for a header`);
  const magic = buf.readUInt32LE(0);
  let le: boolean;
  let nano = false;
  if (magic === 0xa1b2c3d4) le = true;
  else if (magic === 0xd4c3b2a1) le = false;
  else if (magic === 0xa1b23c4d) {
    le = true;
    nano = true;
  } else if (magic === 0x4d3cb2a1) {
    le = false;
    nano = true;
  } else throw new Error('not a pcap file (bad magic number)');
  const u32 = (o: number): number => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  const linkType = u32(20);
  // 1 = Ethernet, 101 = raw IP, 228 = raw IPv4, 113 = Linux cooked.
  const linkHeader = linkType === 1 ? 14 : linkType === 113 ? 16 : linkType === 101 || linkType === 228 ? 0 : -1;
  if (linkHeader < 0) throw new Error(`pcap link type ${linkType} is not supported`);
  const out: CapturedRtp[] = [];
  let off = 24;
  while (off + 16 <= buf.length) {
    const sec = u32(off);
    const frac = u32(off + 4);
    const incl = u32(off + 8);
    const rec = off + 16;
    off = rec + incl;
    if (off > buf.length) break; // truncated last record (capture still being written)
    const ip = rec + linkHeader;
    if (ip + 20 > off || buf[ip]! >> 4 !== 4) continue;
    const ihl = (buf[ip]! & 0x0f) * 4;
    if (buf[ip + 9] !== 17) continue; // not UDP
    const udp = ip + ihl;
    if (udp + 8 > off) continue;
    const rtp = udp + 8;
    if (rtp + 12 > off || buf[rtp]! >> 6 !== 2) continue;
    const cc = buf[rtp]! & 0x0f;
    const hasExt = (buf[rtp]! & 0x10) !== 0;
    let start = rtp + 12 + cc * 4;
    if (hasExt && start + 4 <= off) start += 4 + buf.readUInt16BE(start + 2) * 4;
    let end = off;
    if (buf[rtp]! & 0x20) end -= buf[off - 1]!; // padding
    if (start > end) continue;
    out.push({
      timeUs: sec * 1e6 + (nano ? Math.floor(frac / 1000) : frac),
      srcPort: buf.readUInt16BE(udp),
      dstPort: buf.readUInt16BE(udp + 2),
      pt: buf[rtp + 1]! & 0x7f,
      ssrc: buf.readUInt32BE(rtp + 8),
      payload: buf.subarray(start, end),
    });
  }
  return out;
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
