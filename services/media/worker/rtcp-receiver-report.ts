// RTCP receiver report (RFC 3550 §6.4.2, PT 201): pure parse/serialize.
import { RtcpParseError, parseReportBlocks, writeReportBlocks, type ReportBlock } from './rtcp-report-block.js';

export const RTCP_RR = 201;

export class RtcpReceiverReport {
  constructor(
    public ssrc: number,
    public reports: ReportBlock[] = [],
  ) {}

  static parse(buf: Buffer): { packet: RtcpReceiverReport; length: number } {
    if (buf.length < 8) throw new RtcpParseError('receiver report shorter than 8 bytes');
    if (buf[0]! >> 6 !== 2) throw new RtcpParseError('version is not 2');
    if (buf[1] !== RTCP_RR) throw new RtcpParseError(`packet type ${buf[1]} is not RR (201)`);
    const length = (buf.readUInt16BE(2) + 1) * 4;
    const rc = buf[0]! & 0x1f;
    if (length > buf.length || length < 8 + 24 * rc) throw new RtcpParseError(`receiver report length ${length} does not fit ${rc} report blocks`);
    return { packet: new RtcpReceiverReport(buf.readUInt32BE(4), parseReportBlocks(buf, 8, rc)), length };
  }

  serialize(): Buffer {
    if (this.reports.length > 31) throw new RtcpParseError('more than 31 report blocks');
    const out = Buffer.alloc(8 + 24 * this.reports.length);
    out[0] = 0x80 | this.reports.length;
    out[1] = RTCP_RR;
    out.writeUInt16BE(out.length / 4 - 1, 2);
    out.writeUInt32BE(this.ssrc >>> 0, 4);
    writeReportBlocks(out, 8, this.reports);
    return out;
  }
}
