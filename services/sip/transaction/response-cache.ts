// The final responses of finished non-INVITE server transactions over UDP, kept for Timer J (RFC 3261 §17.2.2) in
// one fixed ring of bytes instead of one transaction object each.
import { type Clock, type TimerHandle } from '../../shared/index.js';
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
  /** Linear-probing table: ring offset + 1 of an entry, 0 = free. At most half full (see put). */
  private readonly slots: Int32Array;
  private readonly mask: number;
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
    let size = 1024;
    while (size < capacity / 64) size *= 2;
    this.slots = new Int32Array(size);
    this.mask = size - 1;
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
    while (this.count > 0 && this.count * 2 >= this.slots.length) {
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
    this.slots[this.find(key, hash)] = at + 1;
    if (!this.timer) this.arm();
    return true;
  }

  /** The response kept for `key` (a copy: the ring may reuse its bytes before a queued send goes out). */
  get(key: string): CachedResponse | undefined {
    const hash = hashKey(key);
    if (hash < 0) return undefined;
    const at = this.slots[this.find(key, hash)]! - 1;
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
    return hash >= 0 && this.slots[this.find(key, hash)] !== 0;
  }

  stats(): ResponseCacheStats {
    return { entries: this.count, bytes: this.used, capacity: this.capacity, evictedEarly: this.evictedEarly };
  }

  /** Drops every entry and stops the timer. */
  clear(): void {
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.slots.fill(0);
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
    this.unindex(at);
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

  /** The slot holding `key`, or the free slot where it would go (linear probing). */
  private find(key: string, hash: number): number {
    const slots = this.slots;
    const r = this.ring;
    const n = key.length;
    for (let i = hash & this.mask; ; i = (i + 1) & this.mask) {
      const v = slots[i]!;
      if (v === 0) return i;
      const f = this.keyField(v - 1);
      if (r[f]! + (r[f + 1]! << 8) !== n) continue;
      const k = f + 2;
      let j = 0;
      while (j < n && r[k + j] === key.charCodeAt(j)) j++;
      if (j === n) return i;
    }
  }

  private storedHash(at: number): number {
    const f = this.keyField(at);
    return hashBytes(this.ring, f + 2, this.ring.readUInt16LE(f));
  }

  /** Removes the entry at `at` from the index if it is there (a newer entry may have taken its key). */
  private unindex(at: number): void {
    const slots = this.slots;
    const mask = this.mask;
    let i = this.storedHash(at) & mask;
    for (;;) {
      const v = slots[i]!;
      if (v === 0) return;
      if (v === at + 1) break;
      i = (i + 1) & mask;
    }
    // Backward-shift deletion: later entries of the same probe run move up, so no tombstones are needed.
    let hole = i;
    for (let j = (i + 1) & mask; ; j = (j + 1) & mask) {
      const v = slots[j]!;
      if (v === 0) break;
      const home = this.storedHash(v - 1) & mask;
      // The entry at j may fill the hole unless its home lies cyclically in (hole, j].
      const movable = hole <= j ? home <= hole || home > j : home <= hole && home > j;
      if (movable) {
        slots[hole] = v;
        hole = j;
      }
    }
    slots[hole] = 0;
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

/** FNV-1a over the key's characters; -1 when one is outside latin1 (such a key is never kept). */
function hashKey(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    if (c > 0xff) return -1;
    h = Math.imul(h ^ c, 0x01000193);
  }
  return h >>> 0;
}

/** The same hash over a key stored in the ring. */
function hashBytes(buf: Buffer, at: number, len: number): number {
  let h = 0x811c9dc5;
  for (let i = at; i < at + len; i++) h = Math.imul(h ^ buf[i]!, 0x01000193);
  return h >>> 0;
}
