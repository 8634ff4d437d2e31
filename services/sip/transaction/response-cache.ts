// The final responses of finished non-INVITE server transactions over UDP, kept for Timer J (RFC 3261 §17.2.2) in
// one fixed ring of bytes instead of one transaction object each.
import { ProbingIndex, fnv1aBytes, fnv1aString, type Clock, type TimerHandle } from '../../shared/index.js';
import { type Target, type TransportKind } from '../transport/index.js';

/**
 * An entry: [u32 length][f64 due][u8 transport][u16 port][u8 address bytes][address][u16 key bytes][key][response].
 * The key is kept in the ring too: the index holds only offsets, so an entry is no JavaScript object at all.
 */
const HEADER = 4 + 8;
/** Written where the ring wraps: the reader goes back to offset 0. */
const WRAP = 0xffffffff;
const TRANSPORTS: readonly TransportKind[] = ['udp', 'tcp', 'tls'];
/** Longest transaction key kept (a branch is at most a few dozen characters; longer keys are not cached). */
const MAX_KEY = 1024;

export interface CachedResponse {
  bytes: Buffer;
  target: Target;
}

export interface ResponseCacheStats {
  entries: number;
  bytes: number;
  capacity: number;
  /** Entries dropped before their time because the ring was full (a flood larger than the ring holds). */
  evictedEarly: number;
}

/**
 * §17.2.2: a non-INVITE server transaction in Completed only answers retransmissions of its request with its final
 * response, for 64*T1 (Timer J, 32 s) on unreliable transports. At a few thousand REGISTERs a second that is a
 * hundred thousand and more transactions alive, each a handful of heap objects the garbage collector walks again and
 * again, and memory without bound under a flood. Here the response, its destination and its deadline are bytes in
 * one ring allocated once, and the index is an open-addressing hash table of ring offsets in an Int32Array: a
 * kept response is no heap object at all, so the young-generation collector has nothing of it to copy and promote.
 *
 * The ring bounds memory: when a flood outruns it, the oldest responses go before their 32 s. A retransmission
 * arriving after that is handled as a new request, which is what RFC 3261 prescribes after Timer J anyway (a
 * registrar re-challenges it). Entries leave in the order they came, since every one lives the same `ttlMs`.
 */
export class ResponseCache {
  private readonly ring: Buffer;
  /** Ring offset + 1 of each kept entry, by key. At most half full (see put). */
  private readonly index: ProbingIndex<string>;
  private head = 0;
  private tail = 0;
  private count = 0;
  private used = 0;
  private evictedEarly = 0;
  private timer: TimerHandle | undefined;

  constructor(
    private readonly clock: Clock,
    readonly ttlMs: number,
    readonly capacity = 32 * 1024 * 1024,
  ) {
    this.ring = Buffer.allocUnsafeSlow(capacity);
    // A response is a few hundred bytes, so the ring holds far fewer than capacity / 128 entries; put() keeps the
    // table at most half full whatever the sizes (2 MiB of slots for the default 32 MiB ring).
    this.index = new ProbingIndex<string>(
      Math.max(1024, capacity / 64),
      (v) => this.storedHash(v - 1),
      (v, key) => this.keyIs(v - 1, key),
    );
  }

  /** Keeps `bytes` for `key` until ttlMs from now. False when the entry is too large for the ring (not kept). */
  put(key: string, bytes: Buffer, target: Target): boolean {
    const addrLen = target.address.length;
    const keyLen = key.length;
    const len = HEADER + 1 + 2 + 1 + addrLen + 2 + keyLen + bytes.length;
    if (len > this.capacity / 8 || addrLen > 0xff || keyLen > MAX_KEY) return false;
    // The key is stored as latin1 and hashed the same way from the ring: a key with other characters is not kept.
    const hash = hashKey(key);
    if (hash < 0) return false;
    this.expire();
    this.makeRoom(len);
    while (this.count > 0 && this.count * 2 >= this.index.capacity) {
      this.dropOldest();
      this.evictedEarly++;
    }
    const at = this.head;
    const r = this.ring;
    r.writeUInt32LE(len, at);
    r.writeDoubleLE(this.clock.monotonic() + this.ttlMs, at + 4);
    let p = at + HEADER;
    r[p++] = Math.max(0, TRANSPORTS.indexOf(target.transport));
    r.writeUInt16LE(target.port, p);
    p += 2;
    r[p++] = addrLen;
    p += r.write(target.address, p, addrLen, 'latin1');
    r.writeUInt16LE(keyLen, p);
    p += 2;
    p += r.write(key, p, keyLen, 'latin1');
    // TypedArray#set: Buffer#copy goes through JavaScript that makes a view of the source first (3 x slower here).
    r.set(bytes, p);
    this.head = at + len;
    this.count++;
    this.used += len;
    // A key already there (a second final response for one transaction) now names the newer entry.
    this.index.set(key, hash, at + 1);
    if (!this.timer) this.arm();
    return true;
  }

  /** The response kept for `key` (a copy: the ring may reuse its bytes before a queued send goes out). */
  get(key: string): CachedResponse | undefined {
    const hash = hashKey(key);
    if (hash < 0) return undefined;
    const at = this.index.get(key, hash) - 1;
    if (at < 0) return undefined;
    const r = this.ring;
    const len = r.readUInt32LE(at);
    let p = at + HEADER;
    const transport = TRANSPORTS[r[p++]!] ?? 'udp';
    const port = r.readUInt16LE(p);
    p += 2;
    const addrLen = r[p++]!;
    const address = r.toString('latin1', p, p + addrLen);
    p += addrLen;
    p += 2 + r.readUInt16LE(p);
    return { bytes: Buffer.from(r.subarray(p, at + len)), target: { transport, address, port } };
  }

  has(key: string): boolean {
    const hash = hashKey(key);
    return hash >= 0 && this.index.get(key, hash) !== 0;
  }

  stats(): ResponseCacheStats {
    return { entries: this.count, bytes: this.used, capacity: this.capacity, evictedEarly: this.evictedEarly };
  }

  /** Drops every entry and stops the timer. */
  clear(): void {
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.index.clear();
    this.head = this.tail = this.count = this.used = 0;
  }

  /** Drops the entries whose time is up (oldest first; they are in deadline order). */
  private expire(): void {
    const now = this.clock.monotonic();
    while (this.count > 0 && this.ring.readDoubleLE(this.tail + 4) <= now) this.dropOldest();
  }

  /** Frees `len` contiguous bytes at head, dropping the oldest entries while they are in the way. */
  private makeRoom(len: number): void {
    for (;;) {
      if (this.count === 0) {
        this.head = this.tail = 0;
        return;
      }
      if (this.head > this.tail) {
        // Live bytes in [tail, head): free at the end, then at the start.
        if (this.capacity - this.head >= len) return;
        if (this.capacity - this.head >= 4) this.ring.writeUInt32LE(WRAP, this.head);
        this.head = 0;
        continue;
      }
      // Wrapped (or full): free bytes are [head, tail).
      if (this.tail - this.head >= len) return;
      this.dropOldest();
      this.evictedEarly++;
    }
  }

  private dropOldest(): void {
    const at = this.tail;
    const r = this.ring;
    const len = r.readUInt32LE(at);
    this.index.delete(at + 1);
    this.count--;
    this.used -= len;
    this.tail = at + len;
    if (this.count === 0) {
      this.head = this.tail = 0;
    } else if (this.tail + 4 > this.capacity || r.readUInt32LE(this.tail) === WRAP) {
      this.tail = 0;
    }
  }

  /** Where the key length (u16) of the entry at `at` is; the key's bytes follow it. */
  private keyField(at: number): number {
    const p = at + HEADER + 1 + 2;
    return p + 1 + this.ring[p]!;
  }

  /** Whether the entry at `at` was kept for `key`. */
  private keyIs(at: number, key: string): boolean {
    const r = this.ring;
    const f = this.keyField(at);
    const n = key.length;
    if (r[f]! + (r[f + 1]! << 8) !== n) return false;
    const k = f + 2;
    for (let j = 0; j < n; j++) if (r[k + j] !== key.charCodeAt(j)) return false;
    return true;
  }

  private storedHash(at: number): number {
    const f = this.keyField(at);
    return fnv1aBytes(this.ring, f + 2, this.ring.readUInt16LE(f));
  }

  /** One clock timer, for the oldest entry's deadline (so entries go exactly after ttlMs, as Timer J fires). */
  private arm(): void {
    if (this.count === 0) return;
    const due = this.ring.readDoubleLE(this.tail + 4);
    this.timer = this.clock.setTimeout(
      () => {
        this.timer = undefined;
        this.expire();
        this.arm();
      },
      Math.max(0, due - this.clock.monotonic()),
    );
  }
}

/** The key's hash, or -1 when a character is outside latin1 (such a key could not be found again from the ring). */
function hashKey(key: string): number {
  return NOT_LATIN1.test(key) ? -1 : fnv1aString(key);
}

const NOT_LATIN1 = /[\u0100-\uffff]/;
