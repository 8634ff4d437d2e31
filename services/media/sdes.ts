// SDES (RFC 4568): the a=crypto lines of an SDP, keys for our side, and the choice of one suite per leg. What the
// media engines share; the SRTP packet work is in worker/srtp.ts (built-in) or rtpengine.
import { randomBytes } from 'node:crypto';
import { SRTP_SUITES, type SrtpSuite } from './worker/srtp.js';

/**
 * What a leg does about SRTP: 'off' offers plain RTP (and still answers SRTP when the phone offers it), 'optional'
 * offers RTP/AVP with a=crypto (a phone without SRTP ignores the lines: best effort), 'mandatory' offers RTP/SAVP
 * and refuses a leg without SRTP (488).
 */
export type SrtpPolicy = 'off' | 'optional' | 'mandatory';

/** One a=crypto line we can use: its tag, suite and the 30-byte key||salt (base64). */
export interface SdesCrypto {
  tag: number;
  suite: SrtpSuite;
  key: string;
}

/** The keys of one SRTP leg: ours protects what we send, the remote's unprotects what we receive. */
export interface SrtpKeys {
  suite: SrtpSuite;
  tx: string;
  rx: string;
}

/**
 * Parses the value of an a=crypto attribute (after "crypto:"): `<tag> <suite> inline:<key||salt>[|lifetime][|MKI:len]`.
 * Undefined for suites we do not do, several keys, an MKI (not supported) or a key that is not 30 bytes.
 */
export function parseCrypto(value: string): SdesCrypto | undefined {
  const m = /^\s*(\d{1,9})\s+(\S+)\s+inline:([A-Za-z0-9+/=]+)((?:\|[^\s;]*)*)(?:\s|$)/.exec(value);
  if (!m) return undefined;
  const suite = m[2]!.toUpperCase() as SrtpSuite;
  if (!SRTP_SUITES.includes(suite)) return undefined;
  if (value.includes(';inline:')) return undefined;
  // A lifetime (2^n or a number) may follow; an MKI (n:len) is not supported.
  if (m[4]!.split('|').some((p) => p.includes(':'))) return undefined;
  if (Buffer.from(m[3]!, 'base64').length !== 30) return undefined;
  return { tag: Number(m[1]), suite, key: m[3]! };
}

/** A fresh master key and salt for our side of a leg, base64 (RFC 4568 §6.1: 30 bytes for these suites). */
export function newSdesKey(): string {
  return randomBytes(30).toString('base64');
}

/** An a=crypto attribute value. */
export function cryptoAttribute(tag: number, suite: SrtpSuite, key: string): string {
  return `${tag} ${suite} inline:${key}`;
}

/** Our offer's lines: every suite we do, strongest first, all with our one key. */
export function offerCrypto(key: string): string[] {
  return SRTP_SUITES.map((suite, i) => cryptoAttribute(i + 1, suite, key));
}
