// SRTP and SRTCP (RFC 3711) with the SDES suites of RFC 4568 §6.2: AES_CM_128_HMAC_SHA1_80 and _32. One
// SrtpContext per direction of a leg (what we send is protected with our key, what we receive unprotected with the
// remote's). node:crypto does AES-128-CTR and HMAC-SHA1; everything else (key derivation, index estimation, replay
// window) is here. Used by the media worker's relay endpoints (relay-endpoint.ts) on legs whose SDP negotiated SDES.
import { createCipheriv, createHmac, type Hmac } from 'node:crypto';

export type SrtpSuite = 'AES_CM_128_HMAC_SHA1_80' | 'AES_CM_128_HMAC_SHA1_32';
export const SRTP_SUITES: readonly SrtpSuite[] = ['AES_CM_128_HMAC_SHA1_80', 'AES_CM_128_HMAC_SHA1_32'];

/** Master key (16 bytes) and master salt (14 bytes): the 30 bytes of an SDES `inline:` key, base64. */
export const MASTER_KEY_LENGTH = 16;
export const MASTER_SALT_LENGTH = 14;
/** SRTCP's authentication tag is 80 bits for both suites (RFC 4568 §6.2.2 for _32). */
const SRTCP_TAG_LENGTH = 10;
/** Replay window (RFC 3711 §3.3.2: at least 64). */
const REPLAY_WINDOW = 64;

// RFC 3711 §4.3.2 key derivation labels.
const LABEL_RTP_ENCRYPTION = 0x00;
const LABEL_RTP_AUTH = 0x01;
const LABEL_RTP_SALT = 0x02;
const LABEL_RTCP_ENCRYPTION = 0x03;
const LABEL_RTCP_AUTH = 0x04;
const LABEL_RTCP_SALT = 0x05;

/** AES-CM keystream (RFC 3711 §4.1.1) XORed over `data` in place: AES-128-CTR from the 16-byte counter block `iv`. */
export function aesCmXor(key: Buffer, iv: Buffer, data: Buffer): void {
  if (data.length === 0) return;
  const cipher = createCipheriv('aes-128-ctr', key, iv);
  const out = cipher.update(data);
  out.copy(data);
}

/**
 * RFC 3711 §4.3.1 with key_derivation_rate 0: x = label (at byte 7 of the 14-byte key_id) XOR master salt; the
 * session key is the AES-CM keystream under the master key from IV = x * 2^16, cut to `length` bytes.
 */
export function deriveSessionKey(masterKey: Buffer, masterSalt: Buffer, label: number, length: number): Buffer {
  const iv = Buffer.alloc(16);
  masterSalt.copy(iv, 0, 0, MASTER_SALT_LENGTH);
  iv[7]! ^= label;
  const out = Buffer.alloc(length);
  aesCmXor(masterKey, iv, out);
  return out;
}

export interface SessionKeys {
  encryption: Buffer;
  auth: Buffer;
  salt: Buffer;
}

/** The session keys of SRTP (rtcp false) or SRTCP (rtcp true) from one master key and salt. */
export function deriveSessionKeys(masterKey: Buffer, masterSalt: Buffer, rtcp: boolean): SessionKeys {
  return {
    encryption: deriveSessionKey(masterKey, masterSalt, rtcp ? LABEL_RTCP_ENCRYPTION : LABEL_RTP_ENCRYPTION, 16),
    auth: deriveSessionKey(masterKey, masterSalt, rtcp ? LABEL_RTCP_AUTH : LABEL_RTP_AUTH, 20),
    salt: deriveSessionKey(masterKey, masterSalt, rtcp ? LABEL_RTCP_SALT : LABEL_RTP_SALT, 14),
  };
}

/** §4.1.1: IV = (k_s * 2^16) XOR (SSRC * 2^64) XOR (i * 2^16), with i the 48-bit packet index (31 bits for SRTCP). */
function packetIv(iv: Buffer, salt: Buffer, ssrc: number, indexHigh: number, indexLow: number): void {
  iv.fill(0);
  salt.copy(iv, 0, 0, 14);
  iv.writeUInt32BE((iv.readUInt32BE(4) ^ ssrc) >>> 0, 4);
  // The index occupies bytes 8..13: its high 16 bits (ROC's upper half) then the low 32.
  iv.writeUInt16BE((iv.readUInt16BE(8) ^ indexHigh) & 0xffff, 8);
  iv.writeUInt32BE((iv.readUInt32BE(10) ^ indexLow) >>> 0, 10);
}

/** Length of an RTP header with its CSRC list and extension, or -1 when the packet is too short for it. */
function rtpHeaderLength(buf: Buffer, len: number): number {
  if (len < 12) return -1;
  let off = 12 + (buf[0]! & 0x0f) * 4;
  if ((buf[0]! & 0x10) !== 0) {
    if (len < off + 4) return -1;
    off += 4 + buf.readUInt16BE(off + 2) * 4;
  }
  return off <= len ? off : -1;
}

/** The replay window of one receiving stream: the highest index seen and which of the 64 below it arrived. */
class ReplayWindow {
  private highest = -1;
  private readonly seen = new Uint8Array(REPLAY_WINDOW);

  /** True when `index` is new (not seen and not older than the window). */
  check(index: number): boolean {
    if (index > this.highest) return true;
    if (this.highest - index >= REPLAY_WINDOW) return false;
    return this.seen[index % REPLAY_WINDOW] === 0;
  }

  /** Marks an authenticated index as received. */
  accept(index: number): void {
    if (index > this.highest) {
      const clear = this.highest < 0 ? REPLAY_WINDOW : Math.min(REPLAY_WINDOW, index - this.highest);
      for (let i = 0; i < clear; i++) this.seen[(index - i) % REPLAY_WINDOW] = 0;
      this.highest = index;
    }
    this.seen[index % REPLAY_WINDOW] = 1;
  }
}

/** Why a packet was refused (counted by the endpoint; never thrown on the media path). */
export type SrtpFailure = 'short' | 'auth' | 'replay';

/**
 * One SRTP crypto context (RFC 3711 §3.2): one master key and salt, used either to protect what we send or to
 * unprotect what we receive, for RTP and RTCP of one stream.
 */
export class SrtpContext {
  readonly tagLength: number;
  private readonly rtp: SessionKeys;
  private readonly rtcp: SessionKeys;
  private readonly iv = Buffer.alloc(16);
  private readonly rocBytes = Buffer.alloc(4);
  // Sender state: ROC and the last sequence number sent (§3.3.1), SRTCP index.
  private txRoc = 0;
  private txSeq = -1;
  private txRtcpIndex = 0;
  // Receiver state: ROC and highest sequence number s_l (§3.3.1), replay windows.
  private rxRoc = 0;
  private rxSeq = -1;
  private readonly rtpReplay = new ReplayWindow();
  private readonly rtcpReplay = new ReplayWindow();
  /** The last refusal, for the endpoint's counters and diagnostics. */
  lastFailure: SrtpFailure | undefined;

  constructor(
    readonly suite: SrtpSuite,
    masterKey: Buffer,
    masterSalt: Buffer,
  ) {
    if (masterKey.length !== MASTER_KEY_LENGTH || masterSalt.length !== MASTER_SALT_LENGTH) {
      throw new RangeError(`SRTP master key must be ${MASTER_KEY_LENGTH} bytes and salt ${MASTER_SALT_LENGTH} bytes`);
    }
    this.tagLength = suite === 'AES_CM_128_HMAC_SHA1_32' ? 4 : 10;
    this.rtp = deriveSessionKeys(masterKey, masterSalt, false);
    this.rtcp = deriveSessionKeys(masterKey, masterSalt, true);
  }

  /** From the 30-byte key||salt of an SDES inline key. */
  static fromKeySalt(suite: SrtpSuite, keySalt: Buffer): SrtpContext {
    return new SrtpContext(suite, keySalt.subarray(0, MASTER_KEY_LENGTH), keySalt.subarray(MASTER_KEY_LENGTH, MASTER_KEY_LENGTH + MASTER_SALT_LENGTH));
  }

  private hmac(key: Buffer): Hmac {
    return createHmac('sha1', key);
  }

  /** SRTP packet for the first `len` bytes of the RTP packet `buf` (a new buffer: payload encrypted, tag appended). */
  protectRtp(buf: Buffer, len: number): Buffer {
    const header = rtpHeaderLength(buf, len);
    const out = Buffer.allocUnsafe(len + this.tagLength);
    buf.copy(out, 0, 0, len);
    if (header < 0) return out.subarray(0, len);
    const seq = out.readUInt16BE(2);
    // §3.3.1 for the sender: ROC counts the wraps of the sequence numbers it sends.
    if (this.txSeq >= 0 && seq < this.txSeq && this.txSeq - seq > 0x8000) this.txRoc = (this.txRoc + 1) >>> 0;
    this.txSeq = seq;
    packetIv(this.iv, this.rtp.salt, out.readUInt32BE(8), this.txRoc >>> 16, ((this.txRoc & 0xffff) * 0x10000 + seq) >>> 0);
    aesCmXor(this.rtp.encryption, this.iv, out.subarray(header, len));
    // §4.2: the tag covers the header and encrypted payload, then the ROC.
    this.rocBytes.writeUInt32BE(this.txRoc, 0);
    const tag = this.hmac(this.rtp.auth).update(out.subarray(0, len)).update(this.rocBytes).digest();
    tag.copy(out, len, 0, this.tagLength);
    return out;
  }

  /**
   * Checks and decrypts an SRTP packet in place; returns the length of the RTP packet now in `buf` (the tag
   * dropped), or -1 (then `lastFailure` says why and `buf` is unchanged).
   */
  unprotectRtp(buf: Buffer, len: number): number {
    const plain = len - this.tagLength;
    const header = rtpHeaderLength(buf, plain);
    if (plain < 12 || header < 0) return this.fail('short');
    const seq = buf.readUInt16BE(2);
    // §3.3.1: the index the sender most likely used, from the highest sequence number seen (s_l) and ROC.
    let roc = this.rxRoc;
    if (this.rxSeq >= 0) {
      if (this.rxSeq < 0x8000) {
        if (seq - this.rxSeq > 0x8000) roc = (this.rxRoc - 1) >>> 0;
      } else if (this.rxSeq - 0x8000 > seq) roc = (this.rxRoc + 1) >>> 0;
    }
    const index = roc * 0x10000 + seq;
    if (this.rxSeq >= 0 && !this.rtpReplay.check(index)) return this.fail('replay');
    this.rocBytes.writeUInt32BE(roc, 0);
    const tag = this.hmac(this.rtp.auth).update(buf.subarray(0, plain)).update(this.rocBytes).digest();
    if (!constantTimeEqual(tag, buf, plain, this.tagLength)) return this.fail('auth');
    packetIv(this.iv, this.rtp.salt, buf.readUInt32BE(8), roc >>> 16, ((roc & 0xffff) * 0x10000 + seq) >>> 0);
    aesCmXor(this.rtp.encryption, this.iv, buf.subarray(header, plain));
    // Update s_l and ROC only now that the packet is authentic (§3.3.1).
    if (this.rxSeq < 0 || roc === ((this.rxRoc + 1) >>> 0)) {
      this.rxRoc = roc;
      this.rxSeq = seq;
    } else if (roc === this.rxRoc && seq > this.rxSeq) this.rxSeq = seq;
    this.rtpReplay.accept(index);
    return plain;
  }

  /** SRTCP packet (§3.4) for an RTCP compound packet: encrypted after the first 8 bytes, E|index and tag appended. */
  protectRtcp(buf: Buffer, len: number): Buffer {
    const out = Buffer.allocUnsafe(len + 4 + SRTCP_TAG_LENGTH);
    buf.copy(out, 0, 0, len);
    if (len < 8) return out.subarray(0, len);
    const index = this.txRtcpIndex;
    this.txRtcpIndex = (this.txRtcpIndex + 1) & 0x7fffffff;
    packetIv(this.iv, this.rtcp.salt, out.readUInt32BE(4), 0, index);
    aesCmXor(this.rtcp.encryption, this.iv, out.subarray(8, len));
    out.writeUInt32BE((0x80000000 | index) >>> 0, len);
    const tag = this.hmac(this.rtcp.auth).update(out.subarray(0, len + 4)).digest();
    tag.copy(out, len + 4, 0, SRTCP_TAG_LENGTH);
    return out;
  }

  /** Checks and decrypts an SRTCP packet in place; returns the RTCP length, or -1 (see unprotectRtp). */
  unprotectRtcp(buf: Buffer, len: number): number {
    const plain = len - 4 - SRTCP_TAG_LENGTH;
    if (plain < 8) return this.fail('short');
    const word = buf.readUInt32BE(plain);
    const index = word & 0x7fffffff;
    if (!this.rtcpReplay.check(index)) return this.fail('replay');
    const tag = this.hmac(this.rtcp.auth).update(buf.subarray(0, plain + 4)).digest();
    if (!constantTimeEqual(tag, buf, plain + 4, SRTCP_TAG_LENGTH)) return this.fail('auth');
    if ((word & 0x80000000) !== 0) {
      packetIv(this.iv, this.rtcp.salt, buf.readUInt32BE(4), 0, index);
      aesCmXor(this.rtcp.encryption, this.iv, buf.subarray(8, plain));
    }
    this.rtcpReplay.accept(index);
    return plain;
  }

  private fail(why: SrtpFailure): -1 {
    this.lastFailure = why;
    return -1;
  }
}

/** Compares the first `n` bytes of `tag` with `buf[at..at+n)` in time independent of where they differ. */
function constantTimeEqual(tag: Buffer, buf: Buffer, at: number, n: number): boolean {
  if (buf.length < at + n) return false;
  let diff = 0;
  for (let i = 0; i < n; i++) diff |= tag[i]! ^ buf[at + i]!;
  return diff === 0;
}
