// RTP data packet (RFC 3550 §5.1): pure parse/serialize, plus allocation-free accessors for the relay's hot path.

/*
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |V=2|P|X|  CC   |M|     PT      |       sequence number         |
 * |                           timestamp                           |
 * |           synchronization source (SSRC) identifier            |
 * |            contributing source (CSRC) identifiers             |
 */
export const RTP_HEADER_LENGTH = 12;

export class RtpParseError extends Error {
  constructor(reason: string) {
    super(`RTP packet: ${reason}`);
    this.name = 'RtpParseError';
  }
}

export interface RtpHeaderExtension {
  profile: number;
  data: Buffer;
}

export class RtpPacket {
  constructor(
    public payloadType: number,
    public sequenceNumber: number,
    public timestamp: number,
    public ssrc: number,
    public payload: Buffer,
    public marker = false,
    public csrcs: number[] = [],
    public extension: RtpHeaderExtension | undefined = undefined,
    /** Padding octets to append (RFC 3550 §5.1 P bit); 0 = none. */
    public paddingLength = 0,
  ) {}

  static parse(buf: Buffer): RtpPacket {
    const payloadOffset = rtpPayloadOffset(buf, buf.length);
    if (payloadOffset < 0) throw new RtpParseError(RTP_OFFSET_ERRORS[-payloadOffset] ?? 'malformed');
    const cc = buf[0]! & 0x0f;
    const csrcs: number[] = [];
    for (let i = 0; i < cc; i++) csrcs.push(buf.readUInt32BE(12 + 4 * i));
    let extension: RtpHeaderExtension | undefined;
    if (buf[0]! & 0x10) {
      const at = 12 + 4 * cc;
      const words = buf.readUInt16BE(at + 2);
      extension = { profile: buf.readUInt16BE(at), data: Buffer.from(buf.subarray(at + 4, at + 4 + 4 * words)) };
    }
    const paddingLength = buf[0]! & 0x20 ? buf[buf.length - 1]! : 0;
    return new RtpPacket(
      buf[1]! & 0x7f,
      buf.readUInt16BE(2),
      buf.readUInt32BE(4),
      buf.readUInt32BE(8),
      Buffer.from(buf.subarray(payloadOffset, buf.length - paddingLength)),
      (buf[1]! & 0x80) !== 0,
      csrcs,
      extension,
      paddingLength,
    );
  }

  serialize(): Buffer {
    if (this.csrcs.length > 15) throw new RtpParseError('more than 15 CSRCs');
    if (this.extension && this.extension.data.length % 4) throw new RtpParseError('header extension length is not a multiple of 4');
    const extLen = this.extension ? 4 + this.extension.data.length : 0;
    const headerLen = RTP_HEADER_LENGTH + 4 * this.csrcs.length + extLen;
    const out = Buffer.alloc(headerLen + this.payload.length + this.paddingLength);
    out[0] = 0x80 | (this.paddingLength ? 0x20 : 0) | (this.extension ? 0x10 : 0) | this.csrcs.length;
    out[1] = (this.marker ? 0x80 : 0) | (this.payloadType & 0x7f);
    out.writeUInt16BE(this.sequenceNumber & 0xffff, 2);
    out.writeUInt32BE(this.timestamp >>> 0, 4);
    out.writeUInt32BE(this.ssrc >>> 0, 8);
    this.csrcs.forEach((c, i) => out.writeUInt32BE(c >>> 0, 12 + 4 * i));
    if (this.extension) {
      const at = 12 + 4 * this.csrcs.length;
      out.writeUInt16BE(this.extension.profile, at);
      out.writeUInt16BE(this.extension.data.length / 4, at + 2);
      this.extension.data.copy(out, at + 4);
    }
    this.payload.copy(out, headerLen);
    if (this.paddingLength) out[out.length - 1] = this.paddingLength;
    return out;
  }
}

const RTP_OFFSET_ERRORS: Record<number, string> = {
  1: 'shorter than the 12-byte header',
  2: 'version is not 2',
  3: 'CSRC list runs past the end',
  4: 'header extension runs past the end',
  5: 'padding length exceeds the packet',
};

/**
 * Offset of the payload in an RTP packet, or a negative error code (see RTP_OFFSET_ERRORS).
 * Allocation-free: the relay calls it for every packet.
 */
export function rtpPayloadOffset(buf: Buffer, len: number): number {
  if (len < RTP_HEADER_LENGTH) return -1;
  const b0 = buf[0]!;
  if ((b0 & 0xc0) !== 0x80) return -2;
  let off = RTP_HEADER_LENGTH + 4 * (b0 & 0x0f);
  if (off > len) return -3;
  if (b0 & 0x10) {
    if (off + 4 > len) return -4;
    off += 4 + 4 * ((buf[off + 2]! << 8) | buf[off + 3]!);
    if (off > len) return -4;
  }
  if (b0 & 0x20) {
    const pad = buf[len - 1]!;
    if (pad === 0 || off + pad > len) return -5;
  }
  return off;
}

/** Payload end (exclusive) once padding is removed; call only after rtpPayloadOffset succeeded. */
export function rtpPayloadEnd(buf: Buffer, len: number): number {
  return buf[0]! & 0x20 ? len - buf[len - 1]! : len;
}

// In-place accessors: the relay rewrites these fields in the received Buffer and sends it on.
export function rtpSeq(buf: Buffer): number {
  return (buf[2]! << 8) | buf[3]!;
}
export function rtpTimestamp(buf: Buffer): number {
  return ((buf[4]! << 24) | (buf[5]! << 16) | (buf[6]! << 8) | buf[7]!) >>> 0;
}
export function rtpSsrc(buf: Buffer): number {
  return ((buf[8]! << 24) | (buf[9]! << 16) | (buf[10]! << 8) | buf[11]!) >>> 0;
}
export function writeRtpHeader(buf: Buffer, pt: number, marker: boolean, seq: number, ts: number, ssrc: number): void {
  buf[1] = (marker ? 0x80 : 0) | pt;
  buf[2] = (seq >>> 8) & 0xff;
  buf[3] = seq & 0xff;
  buf[4] = (ts >>> 24) & 0xff;
  buf[5] = (ts >>> 16) & 0xff;
  buf[6] = (ts >>> 8) & 0xff;
  buf[7] = ts & 0xff;
  buf[8] = (ssrc >>> 24) & 0xff;
  buf[9] = (ssrc >>> 16) & 0xff;
  buf[10] = (ssrc >>> 8) & 0xff;
  buf[11] = ssrc & 0xff;
}
