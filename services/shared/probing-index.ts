// An index of positive integers (entry numbers, offsets) in an Int32Array: open addressing with linear probing and
// backward-shift deletion. The keys live in the owner's own storage (a ring of bytes, typed arrays), so an indexed
// entry is no JavaScript object: nothing for the young-generation collector to copy and promote on hot paths that
// keep thousands of entries for seconds (the SIP response cache, the nonce-counts).

export class ProbingIndex<K> {
  private readonly slots: Int32Array;
  private readonly mask: number;

  /**
   * @param minSlots  table size wanted (rounded up to a power of two); the owner keeps it at most half full.
   * @param hashOf    the hash of the key stored for `value` (the same as the hash given for that key).
   * @param matches   whether the key stored for `value` is `key`.
   */
  constructor(
    minSlots: number,
    private readonly hashOf: (value: number) => number,
    private readonly matches: (value: number, key: K) => boolean,
  ) {
    let n = 16;
    while (n < minSlots) n *= 2;
    this.slots = new Int32Array(n);
    this.mask = n - 1;
  }

  get capacity(): number {
    return this.slots.length;
  }

  /** The value stored for `key` (whose hash is `hash`), or 0. */
  get(key: K, hash: number): number {
    return this.slots[this.slotOf(key, hash)]!;
  }

  /** Stores `value` (> 0) for `key`, replacing the value it had. */
  set(key: K, hash: number, value: number): void {
    this.slots[this.slotOf(key, hash)] = value;
  }

  /** Removes `value` if it is indexed (found through the hash of its own stored key). */
  delete(value: number): void {
    const slots = this.slots;
    const mask = this.mask;
    let i = this.hashOf(value) & mask;
    while (slots[i] !== value) {
      if (slots[i] === 0) return;
      i = (i + 1) & mask;
    }
    // Later members of the probe run move up into the hole when their home slot allows it, so no tombstones.
    let hole = i;
    for (let j = (i + 1) & mask; ; j = (j + 1) & mask) {
      const v = slots[j]!;
      if (v === 0) break;
      const home = this.hashOf(v) & mask;
      const movable = hole <= j ? home <= hole || home > j : home <= hole && home > j;
      if (movable) {
        slots[hole] = v;
        hole = j;
      }
    }
    slots[hole] = 0;
  }

  clear(): void {
    this.slots.fill(0);
  }

  private slotOf(key: K, hash: number): number {
    const slots = this.slots;
    for (let i = hash & this.mask; ; i = (i + 1) & this.mask) {
      const v = slots[i]!;
      if (v === 0 || this.matches(v, key)) return i;
    }
  }
}

/** FNV-1a over a string's character codes (the owners keep latin1 keys, so the same as over their stored bytes). */
export function fnv1aString(s: string, length = s.length): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** FNV-1a over bytes [at, at + length). */
export function fnv1aBytes(b: Uint8Array, at: number, length: number): number {
  let h = 0x811c9dc5;
  for (let i = at; i < at + length; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
  return h >>> 0;
}
