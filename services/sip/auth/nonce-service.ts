// Stateless nonces (keyed SHA-256 over issue time + randomness) with a bounded nonce-count window against replays.
import crypto, { createHash, randomBytes } from 'node:crypto';
import type { Clock } from '../../shared/index.js';
import { detach } from '../message/index.js';

export type NonceCheck =
  | { status: 'ok' }
  /** Ours but too old, or forgotten by the replay window: the client retries with a fresh nonce (stale=true). */
  | { status: 'stale' }
  /** Not issued by this server (another secret, e.g. before a restart, or forged). */
  | { status: 'foreign' }
  /** This nonce-count was already used with this nonce. */
  | { status: 'replay' };

export interface NonceServiceOptions {
  clock: Clock;
  /** MAC key; random per process by default (nonces of a previous run then read as foreign → stale challenge). */
  secret?: Buffer;
  /** How long a nonce may be used, in ms (default 300 s, as Kamailio's nonce_expire). */
  lifetimeMs?: number;
  /** Most nonces whose nonce-counts are remembered (default 65 536); bounds memory whatever the load. */
  maxTracked?: number;
}

const TS_BYTES = 6; // milliseconds since the epoch fit in 48 bits until year 10889
const RAND_BYTES = 6;
const MAC_BYTES = 12;
const HEAD_BYTES = TS_BYTES + RAND_BYTES;
const RAW_BYTES = HEAD_BYTES + MAC_BYTES;
/** The nonce is base64url(time stamp ‖ randomness ‖ MAC): 12 + 12 bytes, 16 + 16 characters (12 bytes = 16 characters exactly). */
const HEAD_CHARS = (HEAD_BYTES * 4) / 3;
const MAC_CHARS = (MAC_BYTES * 4) / 3;
const NONCE_CHARS = HEAD_CHARS + MAC_CHARS;
/** Longest source address written into the MAC input in place (an IPv6 address with a zone fits); longer ones are concatenated. */
const MAX_SOURCE = 255;
/**
 * One-shot crypto.hash (Node >= 20.12): no Hash object per nonce; createHash on older Node. Asked for base64url, whose
 * first 16 characters are the MAC's 12 bytes: a string result costs a fifth of a Buffer result on Node 20 (which
 * builds the Buffer in C++), measured 0.23 vs 1.4 µs.
 */
const oneShot = (crypto as { hash?: (algorithm: string, data: Uint8Array, encoding: 'base64url') => string }).hash;
/** Width of the anti-replay window below the highest nc seen (as in IPsec ESP, RFC 4303 §3.4.3). */
const WINDOW = 32;

interface NcState {
  issuedAt: number;
  highest: number;
  /** Bit i set = nc (highest - i) seen. */
  seen: number;
}

/**
 * RFC 2617 §3.2.1: "the nonce might contain time-stamp H(time-stamp ":" ETag ":" private-key)".
 * Validity needs no state: the keyed hash proves we issued it, the time stamp bounds its age. Only the nonce-counts
 * of nonces in use are remembered, in a Map bounded by maxTracked; when one is evicted, every nonce issued at or
 * before it is treated as stale, so forgetting never re-opens a replay.
 */
export class NonceService {
  private readonly clock: Clock;
  /**
   * time stamp ‖ randomness ‖ private key [‖ "\n" source]: the first 12 bytes and the source are written in place for
   * each MAC, the key stays.
   */
  private readonly macInput: Buffer;
  private readonly keyEnd: number;
  readonly lifetimeMs: number;
  private readonly maxTracked: number;
  private readonly tracked = new Map<string, NcState>();
  /**
   * Tracked nonces in first-use order, as a ring: evicting the oldest is O(1). (Deleting the first entries of a
   * Map over and over makes V8 skip the deleted slots on every iteration: it showed up at 5 % of REGISTER CPU.)
   */
  private ring: string[] = [];
  private ringHead = 0;
  private evictedFloor = -1;
  /** randomBytes() per nonce costs a native job each time; one 4 KiB draw serves 680 nonces. */
  private pool = Buffer.alloc(0);
  private poolOffset = 0;

  constructor(opts: NonceServiceOptions) {
    this.clock = opts.clock;
    const secret = opts.secret ?? randomBytes(32);
    this.keyEnd = HEAD_BYTES + secret.length;
    this.macInput = Buffer.alloc(this.keyEnd + 1 + MAX_SOURCE);
    secret.copy(this.macInput, HEAD_BYTES);
    this.macInput[this.keyEnd] = 0x0a;
    this.lifetimeMs = opts.lifetimeMs ?? 300_000;
    this.maxTracked = opts.maxTracked ?? 65_536;
  }

  /**
   * A fresh nonce; with `source` (the client's address) it is bound to it: the same nonce coming back from
   * another address reads as foreign, so a nonce sniffed on the LAN is worthless elsewhere.
   */
  issue(source?: string): string {
    const head = this.macInput;
    head.writeUIntBE(Math.floor(this.clock.now()), 0, TS_BYTES);
    if (this.poolOffset + RAND_BYTES > this.pool.length) {
      this.pool = randomBytes(4096);
      this.poolOffset = 0;
    }
    this.pool.copy(head, TS_BYTES, this.poolOffset, this.poolOffset + RAND_BYTES);
    this.poolOffset += RAND_BYTES;
    return head.toString('base64url', 0, HEAD_BYTES) + this.mac(source);
  }

  /** Issue time of a nonce we issued (to `source`, when it was bound), or undefined when it is not ours. */
  issuedAt(nonce: string, source?: string): number | undefined {
    if (nonce.length !== NONCE_CHARS) return undefined;
    // Characters outside base64url are skipped by the decoder: fewer than 12 bytes then.
    if (this.macInput.write(nonce.slice(0, HEAD_CHARS), 0, HEAD_BYTES, 'base64url') !== HEAD_BYTES) return undefined;
    const expected = this.mac(source);
    // Constant time over the 16 characters (no early exit on the first difference).
    let diff = 0;
    for (let i = 0; i < MAC_CHARS; i++) diff |= expected.charCodeAt(i) ^ nonce.charCodeAt(HEAD_CHARS + i);
    if (diff !== 0) return undefined;
    return this.macInput.readUIntBE(0, TS_BYTES);
  }

  /**
   * Checks a nonce and records its nonce-count: each nc is good once (a window of 32 below the highest seen for
   * requests that overtake each other); credentials without qop carry no nc and use the nonce once (as nc 1).
   * Call only after the digest response proved the client knows the password, so that forged requests cannot
   * fill the window.
   */
  check(nonce: string, nc: string | undefined, source?: string): NonceCheck {
    const issued = this.issuedAt(nonce, source);
    if (issued === undefined) return { status: 'foreign' };
    const age = this.clock.now() - issued;
    if (age > this.lifetimeMs || age < -60_000) {
      this.tracked.delete(nonce);
      return { status: 'stale' };
    }
    const count = nc === undefined ? 1 : /^[0-9a-fA-F]{8}$/.test(nc) ? parseInt(nc, 16) : NaN;
    if (!(count > 0)) return { status: 'replay' };
    let st = this.tracked.get(nonce);
    if (!st) {
      if (issued <= this.evictedFloor) return { status: 'stale' };
      st = { issuedAt: issued, highest: 0, seen: 0 };
      // Kept for minutes: a copy, not a slice of the request's Authorization header (which would keep the request).
      const key = detach(nonce);
      this.tracked.set(key, st);
      this.ring.push(key);
      this.evictIfFull();
    }
    if (count > st.highest) {
      const shift = count - st.highest;
      st.seen = shift >= WINDOW ? 1 : ((st.seen << shift) | 1) >>> 0;
      st.highest = count;
      return { status: 'ok' };
    }
    const back = st.highest - count;
    if (back >= WINDOW) return { status: 'replay' };
    const bit = (1 << back) >>> 0;
    if (st.seen & bit) return { status: 'replay' };
    st.seen = (st.seen | bit) >>> 0;
    return { status: 'ok' };
  }

  /** Number of nonces whose counts are remembered (for health and tests). */
  trackedCount(): number {
    return this.tracked.size;
  }

  private evictIfFull(): void {
    // Expired nonces at the head go first (they read as stale by their time stamp anyway).
    const oldest = this.clock.now() - this.lifetimeMs;
    while (this.ringHead < this.ring.length) {
      const key = this.ring[this.ringHead]!;
      const st = this.tracked.get(key);
      if (st && st.issuedAt >= oldest) break;
      if (st) this.tracked.delete(key);
      this.ringHead++;
    }
    while (this.tracked.size > this.maxTracked && this.ringHead < this.ring.length) {
      const key = this.ring[this.ringHead++]!;
      const st = this.tracked.get(key);
      if (!st) continue; // already dropped as stale
      this.tracked.delete(key);
      if (st.issuedAt > this.evictedFloor) this.evictedFloor = st.issuedAt;
    }
    // Compact the ring once its dead head is as long as the live part.
    if (this.ringHead > 1024 && this.ringHead * 2 > this.ring.length) {
      this.ring = this.ring.slice(this.ringHead);
      this.ringHead = 0;
    }
  }

  /**
   * RFC 2617 §3.2.1's own suggestion, H(time-stamp ":" ETag ":" private-key), with SHA-256 in one shot (it cost
   * half of an HMAC object per nonce, and every REGISTER issues one nonce and checks one). The data part always
   * has the same 12 bytes, so no length-extension applies; forging needs the key.
   */
  private mac(source?: string): string {
    let input: Buffer;
    if (source === undefined) input = this.macInput.subarray(0, this.keyEnd);
    else if (source.length <= MAX_SOURCE) input = this.macInput.subarray(0, this.keyEnd + 1 + this.macInput.write(source, this.keyEnd + 1, 'latin1'));
    else input = Buffer.concat([this.macInput.subarray(0, this.keyEnd + 1), Buffer.from(source, 'latin1')]);
    const h = oneShot ? oneShot('sha256', input, 'base64url') : createHash('sha256').update(input).digest('base64url');
    return h.slice(0, MAC_CHARS);
  }
}
