// RTCP sender report (RFC 3550 §6.4.1, PT 200) with its reception report blocks: pure parse/serialize.
import { RtcpParseError, parseReportBlocks, writeReportBlocks, type ReportBlock } from './rtcp-report-block.js';

export const RTCP_SR = 200;

export class RtcpSenderReport {
  constructor(
    public ssrc: number,
    /** NTP timestamp, most and least significant words. */
    public ntpSec: number,
    public ntpFrac: number,
    public rtpTimestamp: number,
    public packetCount: number,
    public octetCount: number,
    public reports: ReportBlock[] = [],
  ) {}

  /** Parses one SR packet starting at `buf[0]`; returns it with its length in bytes. */
  static parse(buf: Buffer): { packet: RtcpSenderReport; length: number } {
    if (buf.length < 28) throw new RtcpParseError('sender report shorter than 28 bytes');
    if (buf[0]! >> 6 !== 2) throw new RtcpParseError('version is not 2');
    if (buf[1] !== RTCP_SR) throw new RtcpParseError(`packet type ${buf[1]} is not SR (200)`);
    const length = (buf.readUInt16BE(2) + 1) * 4;
    const rc = buf[0]! & 0x1f;
    if (length > buf.length || length < 28 + 24 * rc) throw new RtcpParseError(`sender report length ${length} does not fit ${rc} report blocks`);
    const packet = new RtcpSenderReport(
      buf.readUInt32BE(4),
      buf.readUInt32BE(8),
      buf.readUInt32BE(12),
      buf.readUInt32BE(16),
      buf.readUInt32BE(20),
      buf.readUInt32BE(24),
      parseReportBlocks(buf, 28, rc),
    );
    return { packet, length };
  }

  serialize(): Buffer {
    if (this.reports.length > 31) throw new RtcpParseError('more than 31 report blocks');
    const out = Buffer.alloc(28 + 24 * this.reports.length);
    out[0] = 0x80 | this.reports.length;
    out[1] = RTCP_SR;
    out.writeUInt16BE(out.length / 4 - 1, 2);
    out.writeUInt32BE(this.ssrc >>> 0, 4);
    out.writeUInt32BE(this.ntpSec >>> 0, 8);
    out.writeUInt32BE(this.ntpFrac >>> 0, 12);
    out.writeUInt32BE(this.rtpTimestamp >>> 0, 16);
    out.writeUInt32BE(this.packetCount >>> 0, 20);
    out.writeUInt32BE(this.octetCount >>> 0, 24);
    writeReportBlocks(out, 28, this.reports);
    return out;
  }
}
