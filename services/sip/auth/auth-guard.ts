// Password-guessing and scanner protection that never locks out the office: outside addresses that guess are banned
// (escalating on repeat), a phone with a mistyped password only locks its own extension at its own address.
// Technician's view: docs/security.md.
import { TypedEmitter, type Clock } from '../../shared/index.js';
import { AddressList, lanSubnets, normalizeAddress, ownAddresses } from '../transport/address-list.js';
import type { SourceGuard } from '../transport/transport-layer.js';
import type { DigestVerdict } from './digest-server.js';

export type BanReason = 'password-guessing' | 'unknown-users' | 'scanner' | 'flood';

/**
 * An address ban (everything from it is dropped unread) or an extension lock (that extension's credentials are
 * refused from that address only; every other phone there keeps working).
 */
export interface Ban {
  kind: 'address' | 'extension';
  address: string;
  /** The locked extension's SIP username (kind 'extension'); the last user tried (kind 'address'), if any. */
  user?: string | undefined;
  reason: BanReason;
  /** Epoch ms the ban ends. */
  until: number;
  /** 1 for a first ban of this address, 2 for the next one, …: each doubles the duration. */
  offence: number;
}

export interface BanView extends Ban {
  secondsLeft: number;
}

/** Where an address stands: the box itself, the office (allow-list), or anywhere else. */
export type AddressClass = 'own' | 'allowed' | 'outside';

export interface AuthGuardOptions {
  clock: Clock;
  /** Failed authentications from one outside address within `windowMs` that ban it; 0 turns the guard off (default 10). */
  maxFailures?: number;
  /** The same for allow-listed addresses (default 5 × maxFailures): higher, never unlimited. */
  allowedMaxFailures?: number;
  /** The window failures are counted in (default 60 s). */
  windowMs?: number;
  /** First ban of an address (default 10 min); each repeat doubles it, up to maxBanMs. */
  banMs?: number;
  /** Longest ban (default 7 days). */
  maxBanMs?: number;
  /** The box's addresses, never banned (default: every interface address, 127.0.0.1 and ::1). */
  ownAddresses?: readonly string[];
  /** Addresses and networks with the higher threshold (default: the box's LAN subnets). */
  allowList?: readonly string[];
  /** Whether working (registered) phones are behind an address: then a known extension's failures lock only it. */
  hostsPhones?: (address: string) => boolean;
}

export type AuthGuardEvents = {
  /** An address was banned or an extension locked at an address. */
  banned: [ban: Ban];
  /** A ban or lock ended before its time (an administrator lifted it). */
  lifted: [ban: Ban];
};

interface Tally {
  /** Monotonic ms of the first failure of the current window. */
  since: number;
  count: number;
}

interface Active {
  ban: Ban;
  /** Monotonic ms the ban ends. */
  endsAt: number;
}

/** Entries tracked at most per table: a scan from many addresses cannot grow memory without bound. */
const MAX_TRACKED = 10_000;
/** A repeat offence counts as one when the previous ban is older than this (quiet for a day). */
const OFFENCE_MEMORY_MS = 86_400_000;

/**
 * User-Agents of SIP scanners and brute-forcers (SIPVicious' svmap/svwar/svcrack call themselves "friendly-scanner",
 * sipcli, sundayddr, VaxSIPUserAgent, …). Matched case-insensitively as substrings.
 */
const SCANNER_AGENTS = /friendly-scanner|sipvicious|sipcli|sip-scan|sipscan|sundayddr|iwar|vaxsipuseragent|pplsip|sivus|smap\b|sipsploit|voipbuster|sip-?crack/i;

export function isScannerAgent(userAgent: string | undefined): boolean {
  return userAgent !== undefined && SCANNER_AGENTS.test(userAgent);
}

/**
 * Counts failures per source and decides who is shut out:
 * - the box's own addresses are never banned; the allow-list is, but only after `allowedMaxFailures`;
 * - a wrong password for a known extension, from the box itself or from an address where phones are registered,
 *   locks that extension at that address after `maxFailures` (the other phones behind the same NAT or loopback
 *   keep working);
 * - unknown users, wrong passwords from addresses without phones, scanner User-Agents and floods ban the address:
 *   the transport drops everything it sends, so a scanner learns nothing more and costs no CPU;
 * - each new ban of the same address lasts twice as long as the previous one.
 * Challenges (no credentials, a stale nonce) are not failures.
 */
export class AuthGuard extends TypedEmitter<AuthGuardEvents> implements SourceGuard {
  readonly maxFailures: number;
  readonly allowedMaxFailures: number;
  readonly windowMs: number;
  readonly banMs: number;
  readonly maxBanMs: number;
  private readonly clock: Clock;
  private readonly own: Set<string>;
  private readonly allow = new AddressList();
  private hostsPhones: (address: string) => boolean;
  private readonly tallies = new Map<string, Tally>();
  /** Address → its ban. */
  private readonly addressBans = new Map<string, Active>();
  /** "user\naddress" → the lock. */
  private readonly locks = new Map<string, Active>();
  /** Address → bans so far (escalation) and when the last one began (epoch ms). */
  private readonly offences = new Map<string, { count: number; at: number }>();
  private bansTotal = 0;

  constructor(opts: AuthGuardOptions) {
    super();
    this.clock = opts.clock;
    this.maxFailures = opts.maxFailures ?? 10;
    this.allowedMaxFailures = opts.allowedMaxFailures ?? this.maxFailures * 5;
    this.windowMs = opts.windowMs ?? 60_000;
    this.banMs = opts.banMs ?? 600_000;
    this.maxBanMs = Math.max(this.banMs, opts.maxBanMs ?? 7 * 86_400_000);
    this.own = new Set((opts.ownAddresses ?? ownAddresses()).map(normalizeAddress));
    for (const entry of opts.allowList ?? lanSubnets()) this.allow.add(entry);
    this.hostsPhones = opts.hostsPhones ?? (() => false);
  }

  get enabled(): boolean {
    return this.maxFailures > 0;
  }

  /** The registrar tells where phones are registered (set once it exists). */
  setPhoneHosts(hostsPhones: (address: string) => boolean): void {
    this.hostsPhones = hostsPhones;
  }

  /** The allow-list entries (for listings). */
  allowList(): string[] {
    return this.allow.entries();
  }

  classify(address: string): AddressClass {
    const a = normalizeAddress(address);
    if (this.own.has(a)) return 'own';
    return this.allow.has(a) ? 'allowed' : 'outside';
  }

  /**
   * Counts a digest verdict from `address` and returns the verdict to act on: a right password of an extension
   * locked at this address becomes a failure ('locked'), answered like a wrong password (a guesser cannot tell).
   * Only a wrong password or an unknown user is counted (a missing or stale credential is a challenge).
   */
  judge(address: string, verdict: DigestVerdict): DigestVerdict {
    if (!this.enabled) return verdict;
    if (verdict.ok || verdict.reason === 'wrong-password') {
      if (this.locks.size > 0 && this.isLocked(verdict.username ?? '', address)) {
        return { ok: false, reason: 'locked', detail: `extension "${verdict.username}" is locked at ${address}`, username: verdict.username, stale: false };
      }
    }
    if (verdict.ok) return verdict;
    if (verdict.reason === 'wrong-password') this.failure(address, 'wrong-password', verdict.username);
    else if (verdict.reason === 'unknown-user') this.failure(address, 'unknown-user', verdict.username);
    return verdict;
  }

  /** Counts a verdict; true when it banned the address or locked the extension. */
  check(address: string, verdict: DigestVerdict): boolean {
    const before = this.bansTotal;
    this.judge(address, verdict);
    return this.bansTotal > before;
  }

  /**
   * A failed authentication. `known` failures (wrong password of an existing extension) from the box itself or
   * from an address with registered phones lock that extension there; everything else counts against the address.
   * True when this failure banned or locked something.
   */
  failure(address: string, kind: 'wrong-password' | 'unknown-user', user?: string): boolean {
    if (!this.enabled) return false;
    const a = normalizeAddress(address);
    const cls = this.classify(a);
    if (kind === 'wrong-password' && user !== undefined && (cls === 'own' || this.hostsPhones(a))) {
      const key = `${user}\n${a}`;
      if (this.locks.has(key) && this.isLocked(user, a)) return false;
      if (!this.count(`u${key}`, this.maxFailures)) return false;
      this.impose({ kind: 'extension', address: a, user, reason: 'password-guessing' }, key);
      return true;
    }
    if (cls === 'own' || this.isBanned(a)) return false;
    if (!this.count(`a${a}`, cls === 'allowed' ? this.allowedMaxFailures : this.maxFailures)) return false;
    this.impose({ kind: 'address', address: a, user, reason: kind === 'unknown-user' ? 'unknown-users' : 'password-guessing' });
    return true;
  }

  /** The transport's question for each request (SourceGuard): true when it comes from a scanner banned now. */
  screen(address: string, userAgent: string | undefined): boolean {
    if (userAgent === undefined || !SCANNER_AGENTS.test(userAgent)) return false;
    return this.scanner(address, userAgent);
  }

  /**
   * A request whose User-Agent is a known scanner: an outside address is banned at once (the request is to be
   * dropped: true); from the allow-list it counts as one failure; from the box itself it is only answered.
   */
  scanner(address: string, userAgent: string): boolean {
    if (!this.enabled) return false;
    return this.offend(address, 'scanner', userAgent);
  }

  /** A source over its flood budget (the transport's rate limiter): banned like a scanner. True when banned now. */
  flood(address: string): boolean {
    if (!this.enabled) return false;
    return this.offend(address, 'flood');
  }

  /** Whether messages from `address` are to be dropped now (called for every message: a Map lookup when idle). */
  isBanned(address: string): boolean {
    if (this.addressBans.size === 0) return false;
    let active = this.addressBans.get(address);
    if (active === undefined) {
      const a = normalizeAddress(address);
      if (a === address) return false;
      active = this.addressBans.get(a);
      if (active === undefined) return false;
      address = a;
    }
    if (this.clock.monotonic() < active.endsAt) return true;
    this.addressBans.delete(address);
    return false;
  }

  /** Whether `user`'s credentials are refused from `address` now. */
  isLocked(user: string, address: string): boolean {
    if (this.locks.size === 0) return false;
    const key = `${user}\n${normalizeAddress(address)}`;
    const active = this.locks.get(key);
    if (active === undefined) return false;
    if (this.clock.monotonic() < active.endsAt) return true;
    this.locks.delete(key);
    return false;
  }

  /**
   * Lifts the ban of an address and the extension locks at it (only `user`'s when given): an administrator's
   * decision, which also forgives earlier offences. Returns what was lifted (empty when nothing was).
   */
  lift(address: string, user?: string): Ban[] {
    const a = normalizeAddress(address);
    const lifted: Ban[] = [];
    const ban = user === undefined ? this.addressBans.get(a) : undefined;
    if (ban && this.addressBans.delete(a)) lifted.push(ban.ban);
    for (const [key, lock] of this.locks) {
      if (lock.ban.address === a && (user === undefined || lock.ban.user === user)) {
        this.locks.delete(key);
        this.tallies.delete(`u${key}`);
        lifted.push(lock.ban);
      }
    }
    if (user === undefined) {
      this.tallies.delete(`a${a}`);
      this.offences.delete(a);
    }
    for (const b of lifted) this.emit('lifted', b);
    return lifted;
  }

  /** Kept for the API's older call: lifts everything at `address`; false when nothing was banned there. */
  unban(address: string): boolean {
    return this.lift(address).length > 0;
  }

  /** Re-applies a ban remembered from before a restart (no event, no escalation); ignored when already over. */
  restore(ban: Ban): void {
    const left = ban.until - this.clock.now();
    if (left <= 0) return;
    const a = normalizeAddress(ban.address);
    const active: Active = { ban: { ...ban, address: a }, endsAt: this.clock.monotonic() + left };
    if (ban.kind === 'extension') {
      if (ban.user !== undefined) this.locks.set(`${ban.user}\n${a}`, active);
    } else {
      this.addressBans.set(a, active);
      const prev = this.offences.get(a);
      if (!prev || prev.count < ban.offence) this.offences.set(a, { count: ban.offence, at: ban.until - this.banMs * 2 ** (ban.offence - 1) });
    }
  }

  /** Address bans and extension locks in force now, with the seconds left. */
  bans(): BanView[] {
    const now = this.clock.monotonic();
    const out: BanView[] = [];
    for (const table of [this.addressBans, this.locks]) {
      for (const [key, active] of table) {
        if (active.endsAt > now) out.push({ ...active.ban, secondsLeft: Math.ceil((active.endsAt - now) / 1000) });
        else table.delete(key);
      }
    }
    return out;
  }

  stats(): { banned: number; locked: number; bansTotal: number; tracked: number } {
    const all = this.bans();
    const locked = all.filter((b) => b.kind === 'extension').length;
    return { banned: all.length - locked, locked, bansTotal: this.bansTotal, tracked: this.tallies.size };
  }

  /** Bans and locks since start (lifted or not). */
  get total(): number {
    return this.bansTotal;
  }

  private offend(address: string, reason: 'scanner' | 'flood', user?: string): boolean {
    const a = normalizeAddress(address);
    const cls = this.classify(a);
    if (cls === 'own' || this.isBanned(a)) return false;
    // A flood from behind an address with working phones is only rate-limited (the office behind one NAT).
    if (reason === 'flood' && this.hostsPhones(a)) return false;
    if (cls === 'allowed' && !this.count(`a${a}`, this.allowedMaxFailures)) return false;
    this.impose({ kind: 'address', address: a, user, reason });
    return true;
  }

  /** Adds one failure to a tally; true when it reached `limit` (the tally then starts afresh). */
  private count(key: string, limit: number): boolean {
    const now = this.clock.monotonic();
    let t = this.tallies.get(key);
    if (!t || now - t.since > this.windowMs) {
      if (!t && this.tallies.size >= MAX_TRACKED) this.prune(now);
      t = { since: now, count: 0 };
      this.tallies.set(key, t);
    }
    t.count++;
    if (t.count < limit) return false;
    this.tallies.delete(key);
    return true;
  }

  private impose(what: Omit<Ban, 'until' | 'offence'>, lockKey?: string): void {
    const now = this.clock.now();
    let offence = 1;
    if (what.kind === 'address') {
      const prev = this.offences.get(what.address);
      offence = prev && now - prev.at < OFFENCE_MEMORY_MS ? prev.count + 1 : 1;
      if (!prev && this.offences.size >= MAX_TRACKED) this.offences.clear();
      this.offences.set(what.address, { count: offence, at: now });
    }
    const ms = Math.min(this.maxBanMs, this.banMs * 2 ** Math.min(offence - 1, 30));
    const ban: Ban = { ...what, until: now + ms, offence };
    const active: Active = { ban, endsAt: this.clock.monotonic() + ms };
    if (lockKey !== undefined) {
      if (this.locks.size >= MAX_TRACKED) this.bans();
      this.locks.set(lockKey, active);
    } else {
      if (this.addressBans.size >= MAX_TRACKED) this.bans();
      this.addressBans.set(what.address, active);
    }
    this.bansTotal++;
    this.emit('banned', ban);
  }

  private prune(now: number): void {
    for (const [k, t] of this.tallies) if (now - t.since > this.windowMs) this.tallies.delete(k);
    // Still full: a scan from that many addresses at once; start counting afresh rather than grow.
    if (this.tallies.size >= MAX_TRACKED) this.tallies.clear();
  }
}
