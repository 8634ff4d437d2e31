// Flood control before parsing (Kamailio pike/ratelimit as the model): a token bucket per source address, a
// shared budget for sources nobody vouches for, and a report of sources that keep flooding (the AuthGuard bans).
import type { Clock } from '../../shared/index.js';

/**
 * How much a source is trusted: 'exempt' (the box itself) is never limited; 'trusted' (registered phones, trunk
 * providers) gets `trustedFactor` × the budget and never counts towards a ban; 'normal' is everyone else.
 */
export type FloodTier = 'exempt' | 'trusted' | 'normal';

export interface FloodControlOptions {
  clock: Clock;
  /** Messages per second a normal source may send on average; 0 turns flood control off (default 200). */
  ratePerSource?: number;
  /** Messages a normal source may send at once above its rate (default 2 × rate: a phone booting with 50 BLF keys). */
  burst?: number;
  /** Budget multiplier for trusted sources (default 10). */
  trustedFactor?: number;
  /** Messages per second from all normal sources together (default 10 × rate): a flood from many addresses. */
  globalRate?: number;
  /** The tier of an address (asked at most once a second per source). */
  tierOf: (address: string) => FloodTier;
  /** A normal source that sent twice its rate for a whole second (reported once per second while it lasts). */
  onFlood?: (address: string) => void;
}

interface Bucket {
  tokens: number;
  /** Monotonic ms of the last refill. */
  last: number;
  tier: FloodTier;
  tierAt: number;
  /** Drops in the current one-second window, and when it began. */
  dropped: number;
  windowAt: number;
}

/** Sources tracked at most; a spray of addresses beyond it starts the table afresh (each then gets a full bucket). */
const MAX_SOURCES = 50_000;

export class FloodControl {
  readonly rate: number;
  readonly burst: number;
  readonly trustedFactor: number;
  readonly globalRate: number;
  private readonly clock: Clock;
  private readonly tierOf: (address: string) => FloodTier;
  private readonly onFlood: ((address: string) => void) | undefined;
  private readonly buckets = new Map<string, Bucket>();
  private globalTokens: number;
  private globalLast: number;
  /** Messages dropped for a source over its own budget, and for the shared budget. */
  readonly counters = { dropped: 0, shed: 0, floods: 0 };

  constructor(opts: FloodControlOptions) {
    this.clock = opts.clock;
    this.rate = opts.ratePerSource ?? 200;
    this.burst = opts.burst ?? this.rate * 2;
    this.trustedFactor = opts.trustedFactor ?? 10;
    this.globalRate = opts.globalRate ?? this.rate * 10;
    this.tierOf = opts.tierOf;
    this.onFlood = opts.onFlood;
    this.globalTokens = this.globalRate;
    this.globalLast = this.clock.monotonic();
  }

  get enabled(): boolean {
    return this.rate > 0;
  }

  /** Whether a message from `address` may be processed; false = drop it unanswered (counted). */
  admit(address: string): boolean {
    const now = this.clock.monotonic();
    let b = this.buckets.get(address);
    if (b === undefined) {
      if (this.buckets.size >= MAX_SOURCES) this.buckets.clear();
      const tier = this.tierOf(address);
      b = { tokens: this.capacity(tier), last: now, tier, tierAt: now, dropped: 0, windowAt: now };
      this.buckets.set(address, b);
    } else if (now - b.tierAt >= 1000) {
      b.tier = this.tierOf(address);
      b.tierAt = now;
    }
    if (b.tier === 'exempt') return true;
    const factor = b.tier === 'trusted' ? this.trustedFactor : 1;
    const cap = this.capacity(b.tier);
    b.tokens = Math.min(cap, b.tokens + ((now - b.last) * this.rate * factor) / 1000);
    b.last = now;
    if (b.tokens >= 1 && (b.tier === 'trusted' || this.takeGlobal(now))) {
      b.tokens -= 1;
      return true;
    }
    if (b.tokens >= 1) this.counters.shed++;
    else this.counters.dropped++;
    if (now - b.windowAt >= 1000) {
      b.windowAt = now;
      b.dropped = 0;
    }
    // Over its own budget by its rate again within one second: twice the rate sustained. Trusted sources (a NAT
    // address with phones behind it) are only limited, never reported.
    if (b.tokens < 1 && ++b.dropped === this.rate && b.tier === 'normal') {
      this.counters.floods++;
      this.onFlood?.(address);
    }
    return false;
  }

  /** Sources tracked now (health). */
  get tracked(): number {
    return this.buckets.size;
  }

  /** Forgets a source (its ban was lifted: it starts with a full bucket). */
  forget(address: string): void {
    this.buckets.delete(address);
  }

  private capacity(tier: FloodTier): number {
    return tier === 'trusted' ? this.burst * this.trustedFactor : this.burst;
  }

  private takeGlobal(now: number): boolean {
    this.globalTokens = Math.min(this.globalRate, this.globalTokens + ((now - this.globalLast) * this.globalRate) / 1000);
    this.globalLast = now;
    if (this.globalTokens < 1) return false;
    this.globalTokens -= 1;
    return true;
  }
}
