// The final responses of finished non-INVITE server transactions over UDP, kept for Timer J (RFC 3261 §17.2.2) in
// one fixed ring of bytes instead of one transaction object each.
import { type Clock, type TimerHandle } from '../../shared/index.js';
import { type Target, type TransportKind } from '../transport/index.js';

/** An entry: [u32 length][f64 due][u8 transport][u16 port][u8 address bytes][address][response]. */
const HEADER = 4 + 8;
/** Written where the ring wraps: the reader goes back to offset 0. */
const WRAP = 0xffffffff;
const TRANSPORTS: readonly TransportKind[] = ['udp', 'tcp', 'tls'];

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
 * one ring allocated once; the only heap object per entry is its key (in the index and the arrival-order list).
 *
 * The ring bounds memory: when a flood outruns it, the oldest responses go before their 32 s. A retransmission
 * arriving after that is handled as a new request, which is what RFC 3261 prescribes after Timer J anyway (a
 * registrar re-challenges it). Entries leave in the order they came, since every one lives the same `ttlMs`.
 */
export class ResponseCache {
  private readonly ring: Buffer;
  private readonly index = new Map<string, number>();
  /** Keys in ring order (the same strings as in the index): the oldest entry's key without decoding it. */
  private order: string[] = [];
  private orderHead = 0;
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
  }

  /** Keeps `bytes` for `key` until ttlMs from now. False when the entry is too large for the ring (not kept). */
  put(key: string, bytes: Buffer, target: Target): boolean {
    const addrLen = target.address.length;
    const len = HEADER + 1 + 2 + 1 + addrLen + bytes.length;
    if (len > this.capacity / 8 || addrLen > 0xff) return false;
    this.expire();
    this.makeRoom(len);
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
    // TypedArray#set: Buffer#copy goes through JavaScript that makes a view of the source first (3 x slower here).
    r.set(bytes, p);
    this.head = at + len;
    this.count++;
    this.used += len;
    this.index.set(key, at);
    this.order.push(key);
    if (!this.timer) this.arm();
    return true;
  }

  /** The response kept for `key` (a copy: the ring may reuse its bytes before a queued send goes out). */
  get(key: string): CachedResponse | undefined {
    const at = this.index.get(key);
    if (at === undefined) return undefined;
    const r = this.ring;
    const len = r.readUInt32LE(at);
    let p = at + HEADER;
    const transport = TRANSPORTS[r[p++]!] ?? 'udp';
    const port = r.readUInt16LE(p);
    p += 2;
    const addrLen = r[p++]!;
    const address = r.toString('latin1', p, p + addrLen);
    p += addrLen;
    return { bytes: Buffer.from(r.subarray(p, at + len)), target: { transport, address, port } };
  }

  has(key: string): boolean {
    return this.index.has(key);
  }

  stats(): ResponseCacheStats {
    return { entries: this.count, bytes: this.used, capacity: this.capacity, evictedEarly: this.evictedEarly };
  }

  /** Drops every entry and stops the timer. */
  clear(): void {
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.index.clear();
    this.order = [];
    this.orderHead = 0;
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
    const key = this.order[this.orderHead]!;
    this.order[this.orderHead++] = '';
    if (this.index.get(key) === at) this.index.delete(key);
    this.count--;
    this.used -= len;
    this.tail = at + len;
    if (this.orderHead > 4096 && this.orderHead * 2 > this.order.length) {
      this.order = this.order.slice(this.orderHead);
      this.orderHead = 0;
    }
    if (this.count === 0) {
      this.head = this.tail = 0;
      this.order = [];
      this.orderHead = 0;
    } else if (this.tail + 4 > this.capacity || r.readUInt32LE(this.tail) === WRAP) {
      this.tail = 0;
    }
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
