// Password guessing protection: an address that fails digest authentication too often is ignored for a while
// (what FreePBX users get from fail2ban and 3CX users from its IP blacklist), with nothing to install.
import { TypedEmitter, type Clock } from '../../shared/index.js';
import type { DigestVerdict } from './digest-server.js';

export interface AuthGuardOptions {
  clock: Clock;
  /** Failed authentications from one address within `windowMs` that ban it; 0 turns the guard off (default 10). */
  maxFailures?: number;
  /** The window failures are counted in (default 60 s). */
  windowMs?: number;
  /** How long a banned address is ignored (default 10 min). */
  banMs?: number;
}

export type AuthGuardEvents = {
  /** An address crossed the limit: its messages are dropped until `until` (epoch ms). */
  banned: [address: string, until: number, lastUser: string | undefined];
};

interface Tally {
  /** Monotonic ms of the first failure of the current window. */
  since: number;
  count: number;
}

/** Addresses tracked at most: a scan from many addresses cannot grow the table without bound. */
const MAX_TRACKED = 10_000;

/**
 * Counts wrong passwords and unknown users per source address. Crossing `maxFailures` within `windowMs` bans the
 * address for `banMs`: the transport drops everything it sends, so a scanner learns nothing more and costs no CPU.
 * Challenges (a first REGISTER without credentials, a stale nonce) are not failures; a phone with a wrong password
 * retries about once a minute and is never banned by default. Bans live in memory: a restart lifts them.
 */
export class AuthGuard extends TypedEmitter<AuthGuardEvents> {
  readonly maxFailures: number;
  readonly windowMs: number;
  readonly banMs: number;
  private readonly clock: Clock;
  private readonly tallies = new Map<string, Tally>();
  /** Address → monotonic ms the ban ends. */
  private readonly banned = new Map<string, number>();
  private bansTotal = 0;

  constructor(opts: AuthGuardOptions) {
    super();
    this.clock = opts.clock;
    this.maxFailures = opts.maxFailures ?? 10;
    this.windowMs = opts.windowMs ?? 60_000;
    this.banMs = opts.banMs ?? 600_000;
  }

  get enabled(): boolean {
    return this.maxFailures > 0;
  }

  /**
   * Counts a digest verdict from `address`: only a wrong password or an unknown user is a failure (a missing or stale
   * credential is a challenge, a malformed one a 400). True when it bans the address.
   */
  check(address: string, verdict: DigestVerdict): boolean {
    if (verdict.ok || (verdict.reason !== 'wrong-password' && verdict.reason !== 'unknown-user')) return false;
    return this.failure(address, verdict.username);
  }

  /** Records a failed authentication; true when this failure bans the address. */
  failure(address: string, user?: string): boolean {
    if (!this.enabled || this.isBanned(address)) return false;
    const now = this.clock.monotonic();
    let t = this.tallies.get(address);
    if (!t || now - t.since > this.windowMs) {
      if (!t && this.tallies.size >= MAX_TRACKED) this.prune(now);
      t = { since: now, count: 0 };
      this.tallies.set(address, t);
    }
    t.count++;
    if (t.count < this.maxFailures) return false;
    this.tallies.delete(address);
    this.banned.set(address, now + this.banMs);
    this.bansTotal++;
    this.emit('banned', address, this.clock.now() + this.banMs, user);
    return true;
  }

  /** Whether messages from `address` are to be dropped now. */
  isBanned(address: string): boolean {
    if (this.banned.size === 0) return false;
    const until = this.banned.get(address);
    if (until === undefined) return false;
    if (this.clock.monotonic() < until) return true;
    this.banned.delete(address);
    return false;
  }

  /** Lifts a ban (an administrator's decision); false when the address was not banned. */
  unban(address: string): boolean {
    this.tallies.delete(address);
    return this.banned.delete(address);
  }

  /** Addresses banned now, with the seconds left. */
  bans(): Array<{ address: string; secondsLeft: number }> {
    const now = this.clock.monotonic();
    const out: Array<{ address: string; secondsLeft: number }> = [];
    for (const [address, until] of this.banned) {
      if (until > now) out.push({ address, secondsLeft: Math.ceil((until - now) / 1000) });
      else this.banned.delete(address);
    }
    return out;
  }

  stats(): { banned: number; bansTotal: number; tracked: number } {
    return { banned: this.bans().length, bansTotal: this.bansTotal, tracked: this.tallies.size };
  }

  /** Bans since start (lifted or not). */
  get total(): number {
    return this.bansTotal;
  }

  private prune(now: number): void {
    for (const [a, t] of this.tallies) if (now - t.since > this.windowMs) this.tallies.delete(a);
    // Still full: a scan from that many addresses at once; start counting afresh rather than grow.
    if (this.tallies.size >= MAX_TRACKED) this.tallies.clear();
  }
}
