// RTCP compound packet walker (RFC 3550 §6.1): validates the chain of packets and names each type, no allocation per packet.

/** Counts the packets of a compound RTCP datagram, or returns -1 if it is not valid RTCP (RFC 3550 A.2 checks). */
export function rtcpPacketCount(buf: Buffer, len: number): number {
  if (len < 8 || buf[0]! >> 6 !== 2) return -1;
  // The first packet must be SR or RR (A.2), and only the last may be padded.
  if (buf[1] !== 200 && buf[1] !== 201) return -1;
  let at = 0;
  let n = 0;
  while (at < len) {
    if (at + 4 > len || buf[at]! >> 6 !== 2) return -1;
    const plen = (((buf[at + 2]! << 8) | buf[at + 3]!) + 1) * 4;
    if (at + plen > len) return -1;
    if (buf[at]! & 0x20 && at + plen !== len) return -1;
    at += plen;
    n++;
  }
  return n;
}
