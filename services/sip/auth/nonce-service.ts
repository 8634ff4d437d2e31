// Stateless nonces (keyed SHA-256 over issue time + randomness) with a bounded nonce-count window against replays.
import crypto, { createHash, randomBytes } from 'node:crypto';
import { ProbingIndex, fnv1aBytes, fnv1aString, type Clock } from '../../shared/index.js';

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

/**
 * RFC 2617 §3.2.1: "the nonce might contain time-stamp H(time-stamp ":" ETag ":" private-key)".
 * Validity needs no state: the keyed hash proves we issued it, the time stamp bounds its age. Only the nonce-counts
 * of nonces in use are remembered, in a table bounded by maxTracked (NcTable: typed arrays, no object per nonce);
 * when one is evicted, every nonce issued at or before it is treated as stale, so forgetting never re-opens a replay.
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
  private readonly tracked: NcTable;
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
    this.tracked = new NcTable(opts.maxTracked ?? 65_536);
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
      this.tracked.remove(nonce);
      return { status: 'stale' };
    }
    const count = nc === undefined ? 1 : /^[0-9a-fA-F]{8}$/.test(nc) ? parseInt(nc, 16) : NaN;
    if (!(count > 0)) return { status: 'replay' };
    const t = this.tracked;
    const hash = fnv1aString(nonce, NONCE_CHARS);
    let e = t.find(nonce, hash);
    if (e < 0) {
      if (issued <= t.evictedFloor) return { status: 'stale' };
      e = t.add(nonce, hash, issued, this.clock.now() - this.lifetimeMs);
    }
    const highest = t.highest[e]!;
    if (count > highest) {
      const shift = count - highest;
      t.seen[e] = shift >= WINDOW ? 1 : ((t.seen[e]! << shift) | 1) >>> 0;
      t.highest[e] = count;
      return { status: 'ok' };
    }
    const back = highest - count;
    if (back >= WINDOW) return { status: 'replay' };
    const bit = (1 << back) >>> 0;
    if (t.seen[e]! & bit) return { status: 'replay' };
    t.seen[e] = (t.seen[e]! | bit) >>> 0;
    return { status: 'ok' };
  }

  /** Number of nonces whose counts are remembered (for health and tests). */
  trackedCount(): number {
    return this.tracked.live;
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

/**
 * The nonce-counts of the nonces in use, without an object per nonce: entries in a fixed ring of typed arrays
 * (oldest first, so evicting is O(1)), found through a linear-probing table of entry numbers. Every nonce we issue
 * is NONCE_CHARS base64url characters, stored as bytes.
 */
class NcTable {
  readonly highest: Uint32Array;
  /** Bit i set = nc (highest - i) seen. */
  readonly seen: Uint32Array;
  private readonly issued: Float64Array;
  private readonly keys: Uint8Array;
  /** 1 while the entry is in the index (a nonce dropped as stale leaves a dead entry in the ring). */
  private readonly indexed: Uint8Array;
  /** Entry number + 1, by nonce; at most half full (twice as many slots as entries). */
  private readonly index: ProbingIndex<string>;
  private head = 0;
  private size = 0;
  live = 0;
  /** Issue time of the newest live entry ever evicted: nonces issued at or before it read as stale. */
  evictedFloor = -1;

  constructor(private readonly capacity: number) {
    this.highest = new Uint32Array(capacity);
    this.seen = new Uint32Array(capacity);
    this.issued = new Float64Array(capacity);
    this.keys = new Uint8Array(capacity * NONCE_CHARS);
    this.indexed = new Uint8Array(capacity);
    this.index = new ProbingIndex<string>(
      capacity * 2,
      (v) => fnv1aBytes(this.keys, (v - 1) * NONCE_CHARS, NONCE_CHARS),
      (v, nonce) => {
        const at = (v - 1) * NONCE_CHARS;
        for (let j = 0; j < NONCE_CHARS; j++) if (this.keys[at + j] !== nonce.charCodeAt(j)) return false;
        return true;
      },
    );
  }

  /** The entry of `nonce` (whose fnv1aString hash is `hash`), or -1. */
  find(nonce: string, hash: number): number {
    return this.index.get(nonce, hash) - 1;
  }

  /**
   * Starts tracking `nonce` (not tracked yet) and returns its entry. Entries issued before `expiredBefore` at the old
   * end go first; when the table is still full the oldest is evicted, which moves evictedFloor.
   */
  add(nonce: string, hash: number, issuedAt: number, expiredBefore: number): number {
    while (this.size > 0) {
      const old = this.oldest();
      if (this.indexed[old] && this.issued[old]! >= expiredBefore && this.size < this.capacity) break;
      if (this.indexed[old]) {
        // Expired ones read as stale by their time stamp anyway; a live one evicted moves the floor.
        if (this.issued[old]! >= expiredBefore && this.issued[old]! > this.evictedFloor) this.evictedFloor = this.issued[old]!;
        this.unindex(old);
      }
      this.size--;
    }
    const e = this.head;
    this.head = (this.head + 1) % this.capacity;
    this.size++;
    for (let i = 0; i < NONCE_CHARS; i++) this.keys[e * NONCE_CHARS + i] = nonce.charCodeAt(i);
    this.issued[e] = issuedAt;
    this.highest[e] = 0;
    this.seen[e] = 0;
    this.indexed[e] = 1;
    this.live++;
    this.index.set(nonce, hash, e + 1);
    return e;
  }

  /** Stops tracking `nonce` if it is tracked. */
  remove(nonce: string): void {
    const e = this.find(nonce, fnv1aString(nonce, NONCE_CHARS));
    if (e >= 0) this.unindex(e);
  }

  private oldest(): number {
    return (this.head - this.size + this.capacity) % this.capacity;
  }

  private unindex(e: number): void {
    this.indexed[e] = 0;
    this.live--;
    this.index.delete(e + 1);
  }
}
