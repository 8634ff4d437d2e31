// RTCP reception report block (RFC 3550 §6.4.1), shared by SR and RR packets.

export class RtcpParseError extends Error {
  constructor(reason: string) {
    super(`RTCP packet: ${reason}`);
    this.name = 'RtcpParseError';
  }
}

export interface ReportBlock {
  ssrc: number;
  /** Fraction of packets lost since the previous report, in 1/256. */
  fractionLost: number;
  /** Cumulative number of packets lost (signed 24-bit). */
  packetsLost: number;
  highestSeq: number;
  jitter: number;
  lastSr: number;
  delaySinceLastSr: number;
}

export function parseReportBlocks(buf: Buffer, at: number, count: number): ReportBlock[] {
  const out: ReportBlock[] = [];
  for (let i = 0; i < count; i++, at += 24) {
    let lost = (buf[at + 5]! << 16) | (buf[at + 6]! << 8) | buf[at + 7]!;
    if (lost & 0x800000) lost -= 0x1000000;
    out.push({
      ssrc: buf.readUInt32BE(at),
      fractionLost: buf[at + 4]!,
      packetsLost: lost,
      highestSeq: buf.readUInt32BE(at + 8),
      jitter: buf.readUInt32BE(at + 12),
      lastSr: buf.readUInt32BE(at + 16),
      delaySinceLastSr: buf.readUInt32BE(at + 20),
    });
  }
  return out;
}

export function writeReportBlocks(out: Buffer, at: number, blocks: ReportBlock[]): void {
  for (const b of blocks) {
    out.writeUInt32BE(b.ssrc >>> 0, at);
    out[at + 4] = b.fractionLost & 0xff;
    const lost = b.packetsLost < 0 ? b.packetsLost + 0x1000000 : b.packetsLost;
    out[at + 5] = (lost >> 16) & 0xff;
    out[at + 6] = (lost >> 8) & 0xff;
    out[at + 7] = lost & 0xff;
    out.writeUInt32BE(b.highestSeq >>> 0, at + 8);
    out.writeUInt32BE(b.jitter >>> 0, at + 12);
    out.writeUInt32BE(b.lastSr >>> 0, at + 16);
    out.writeUInt32BE(b.delaySinceLastSr >>> 0, at + 20);
    at += 24;
  }
}
