// The registrar (RFC 3261 §10.3): authenticates REGISTER, keeps bindings per extension, answers lookups for calls.
import { createHmac, randomBytes } from 'node:crypto';
import type { Clock, Logger, Module, ModuleHealth, TimerHandle } from '../../shared/index.js';
import { TypedEmitter, WritePacer } from '../../shared/index.js';
import type { DigestAlgorithm, Extension } from '../../directory/index.js';

/** What the registrar reads of the extensions (ExtensionRepository fits; tests pass a fake). */
export interface RegistrarLookup {
  findByNumber(number: string): Extension | undefined;
  findBySipUsername(username: string): Extension | undefined;
  digestAlgorithmCounts(): Array<{ algorithm: DigestAlgorithm; count: number }>;
}
import { AuthGuard, DigestServer, type AlgorithmChoice, type DigestAccount } from '../auth/index.js';
import { SipParseError, detach, unquoteParam, type NameAddr, type SipRequest } from '../message/index.js';
import type { Binding, BindingSource } from './binding.js';
import { BindingStore } from './binding-store.js';
import type { Database } from 'better-sqlite3';

export interface RegistrarEvents {
  [event: string]: unknown[];
  /** A new contact for an extension (not a refresh of a known one). */
  registered: [Binding];
  /** A contact removed by the phone (Expires: 0 or Contact: *). */
  unregistered: [Binding];
  /** A contact that was not refreshed in time. */
  expired: [Binding];
  /** Every answered REGISTER, for observers (the phone inventory): who sent it and what it got. */
  attempt: [RegisterAttempt];
}

export interface RegisterAttempt {
  source: BindingSource;
  userAgent: string | undefined;
  /** +sip.instance of the first Contact (phones put their MAC there). */
  instance: string | undefined;
  /** User part of the To (the account the phone registers). */
  username: string | undefined;
  status: number;
  /** Why: 'ok', 'challenge' (401 asking for credentials), or the digest failure (wrong-password, unknown-user…). */
  cause: string;
}

export interface RegistrarOptions {
  db: Database;
  extensions: RegistrarLookup;
  clock: Clock;
  logger: Logger;
  /** Digest realm and domain of the addresses-of-record (config.domain). */
  domain: string;
  /**
   * RFC 3261 §10.3 step 7: shorter non-zero requests get 423 with Min-Expires. Default 15 s: short intervals are
   * how phones behind NAT keep their binding open, and 15 s is sipsak's default; below that is a misconfiguration.
   */
  minExpires?: number;
  /** Longer requests are shortened to this (default 3600 s). */
  maxExpires?: number;
  /** Used when neither the contact nor the request says (default 3600 s). */
  defaultExpires?: number;
  /** How often expired bindings are looked for, ms (default 1000). */
  sweepIntervalMs?: number;
  /**
   * The longest a change of the bindings waits to be written (default 200 ms): a change after a quiet moment reaches
   * SQLite on the next turn; under a burst, the wait grows with the commits' cost up to this, one transaction each.
   */
  flushDelayMs?: number;
  /** The shortest time between two writes (default 0; tests set it, their clock makes every write free). */
  minFlushDelayMs?: number;
  /** Shared digest server (the call layer challenges INVITEs with the same nonces); one is made when absent. */
  digest?: DigestServer;
  /** Password-guessing guard (wrong passwords and unknown users per source address); one with defaults when absent. */
  guard?: AuthGuard;
}

/** What the transport layer should answer; the glue in attach() turns it into a response. */
export interface RegisterOutcome {
  status: number;
  reason?: string | undefined;
  headers: Array<[string, string]>;
  /** For observers: 'challenge' on a 401 asking for credentials, the digest failure on a refused one. */
  cause?: string;
}

/** The part of SipStack the registrar needs (kept narrow so tests can drive it without sockets). */
export interface RegistrarSipHost {
  use(
    method: string,
    handler: (
      req: { msg: SipRequest; source: BindingSource },
      res: { send(status: number, reason?: string, opts?: { headers?: Record<string, string | string[]> | Array<[string, string]>; stateless?: boolean }): unknown },
      next: () => void,
    ) => void | Promise<void>,
  ): unknown;
}

interface ContactChange {
  contact: NameAddr;
  uri: string;
  expires: number;
  q: number;
  instanceId: string | undefined;
}

/** Extension as the registrar caches it (digest account + identity). */
interface CachedAccount {
  ext: Extension;
  account: DigestAccount;
  at: number;
}

/** Credentials edits reach the REGISTER path within this time (or at once with invalidateAccounts()). */
const ACCOUNT_CACHE_MS = 5000;

export class Registrar extends TypedEmitter<RegistrarEvents> implements Module {
  readonly name = 'registrar';
  readonly digest: DigestServer;
  /** Bans addresses that keep failing authentication (the SIP transport drops what they send). */
  readonly guard: AuthGuard;
  private readonly store: BindingStore;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly extensions: RegistrarLookup;
  private readonly domain: string;
  readonly minExpires: number;
  readonly maxExpires: number;
  private readonly defaultExpires: number;
  private readonly sweepIntervalMs: number;
  private sweepTimer: TimerHandle | undefined;
  private readonly pacer: WritePacer;
  private running = false;
  /** By SIP username: a REGISTER costs two lookups (challenge, credentials); a short cache keeps them off SQLite. */
  private readonly accounts = new Map<string, CachedAccount>();
  private counters = { registers: 0, challenges: 0, rejected: 0 };
  private algorithmMix: { at: number; counts: Array<{ algorithm: AlgorithmChoice; count: number }> } | undefined;
  private phoneHosts: { at: number; set: Set<string> } | undefined;
  /** Key of the hash that picks the algorithms shown for unknown names (stable within a run). */
  private readonly nameKey = randomBytes(16);
  /** The Date header of 200s, formatted once per second. */
  private dateSecond = -1;
  private dateHeader = '';

  constructor(opts: RegistrarOptions) {
    super();
    this.clock = opts.clock;
    this.log = opts.logger.child({ module: 'registrar' });
    this.extensions = opts.extensions;
    this.domain = opts.domain;
    this.minExpires = opts.minExpires ?? 15;
    this.maxExpires = opts.maxExpires ?? 3600;
    this.defaultExpires = opts.defaultExpires ?? 3600;
    this.sweepIntervalMs = opts.sweepIntervalMs ?? 1000;
    this.digest = opts.digest ?? new DigestServer({ realm: opts.domain, clock: opts.clock });
    this.guard = opts.guard ?? new AuthGuard({ clock: opts.clock });
    this.guard.setPhoneHosts((address) => this.hostsPhones(address));
    this.digest.setChoiceProvider((username) => this.challengeChoice(username));
    const flushDelayMs = opts.flushDelayMs ?? 200;
    // Write-behind: under load one SQLite transaction per 200 ms instead of one write per REGISTER (measured: the
    // upsert was the registrar's largest cost under load); a lone REGISTER is written on the next turn (WritePacer).
    // stop() writes what is left.
    this.pacer = new WritePacer(this.clock, { maxIntervalMs: flushDelayMs, minIntervalMs: opts.minFlushDelayMs ?? 0 }, () => this.flush());
    this.store = new BindingStore(opts.db, { scheduleFlush: () => this.pacer.changed() });
  }

  async start(): Promise<void> {
    if (this.running) return;
    const { loaded, expired } = this.store.load(this.clock.now());
    this.running = true;
    for (const b of expired) this.emit('expired', b);
    this.log.info('bindings loaded', { live: loaded, expiredWhileDown: expired.length });
    this.scheduleSweep();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.clock.clearTimeout(this.sweepTimer);
    this.sweepTimer = undefined;
    this.flush();
  }

  /** Writes pending binding changes to SQLite now. */
  flush(): void {
    if (this.store.pendingCount() === 0) {
      this.pacer.cancel();
      return;
    }
    try {
      this.pacer.write(() => this.store.flush());
    } catch (err) {
      // The bindings stay right in memory; the next change retries the write.
      this.log.error('bindings not written to SQLite', { error: err instanceof Error ? err.message : String(err) });
    }
  }

  health(): ModuleHealth {
    return {
      status: this.running ? 'ok' : 'down',
      detail: {
        bindings: this.store.count(),
        registeredExtensions: [...this.store.extensionIds()].length,
        unwritten: this.store.pendingCount(),
        ...this.counters,
        bans: this.guard.bans().map((b) => ({ kind: b.kind, address: b.address, reason: b.reason, secondsLeft: b.secondsLeft })),
        bansTotal: this.guard.total,
      },
    };
  }

  /** Installs the REGISTER handler on the SIP stack. */
  attach(sip: RegistrarSipHost): void {
    sip.use('REGISTER', (req, res) => {
      const out = this.handleRegister(req.msg, req.source);
      // The pairs as they are (one line each, in order): none of these names is in the response before them.
      // A challenge to a REGISTER without credentials is stateless (§8.2.7): not kept 32 s for Timer J.
      res.send(out.status, out.reason, { headers: out.headers, stateless: out.cause === 'challenge' });
      if (this.listenerCount('attempt') > 0) this.emitAttempt(req.msg, req.source, out);
    });
  }

  private emitAttempt(msg: SipRequest, source: BindingSource, out: RegisterOutcome): void {
    let instance: string | undefined;
    let username: string | undefined;
    try {
      instance = unquoteParam(msg.contacts()[0]?.params['+sip.instance']);
      username = msg.to().uri.user;
    } catch {
      /* a malformed REGISTER already got its 400; what could be read is enough */
    }
    const cause = out.cause ?? (out.status >= 200 && out.status < 300 ? 'ok' : String(out.status));
    this.emit('attempt', { source, userAgent: msg.get('user-agent'), instance, username, status: out.status, cause });
  }

  /** Live contacts of an extension, best first (q, then most recently registered). */
  lookup(extensionNumber: string): Binding[] {
    const ext = this.extensions.findByNumber(extensionNumber);
    if (!ext) return [];
    return this.contactsOf(ext.id);
  }

  /** Live contacts by extension id. */
  contactsOf(extensionId: number): Binding[] {
    const now = this.clock.now();
    return this.store
      .get(extensionId)
      .filter((b) => b.expiresAt > now)
      .sort((a, b) => b.q - a.q || b.expiresAt - a.expiresAt);
  }

  isRegistered(extensionNumber: string): boolean {
    return this.lookup(extensionNumber).length > 0;
  }

  /** Every live binding (the console's list of registered phones). */
  allBindings(): Binding[] {
    const out: Binding[] = [];
    for (const id of this.store.extensionIds()) out.push(...this.store.get(id));
    return out;
  }

  /** Number of live bindings (for the "phones registered" LED and the dashboard). */
  bindingCount(): number {
    return this.store.count();
  }

  /** Forget cached credentials (call after editing extensions; the cache also expires by itself within 2 s). */
  invalidateAccounts(): void {
    this.accounts.clear();
  }

  /**
   * RFC 3261 §10.3, steps 1-8, for one REGISTER. Never throws on bad input: malformed requests get 400 naming
   * what is wrong.
   */
  handleRegister(req: SipRequest, source: BindingSource): RegisterOutcome {
    this.counters.registers++;
    try {
      return this.process(req, source);
    } catch (err) {
      if (err instanceof SipParseError) {
        this.counters.rejected++;
        return { status: 400, reason: err.message.slice(0, 120), headers: [] };
      }
      throw err;
    }
  }

  private process(req: SipRequest, source: BindingSource): RegisterOutcome {
    const to = req.to();
    const toUser = to.uri.user;
    // Step 3 (authentication) comes before revealing whether the AOR exists.
    const target = toUser === undefined ? undefined : this.account(toUser, true);
    const verdict = this.guard.judge(
      source.address,
      this.digest.verify({
        authorization: req.getAll('authorization'),
        method: 'REGISTER',
        requestUri: req.uri,
        account: (u) => this.account(u, false)?.account,
        source: source.address,
      }),
    );
    if (!verdict.ok) {
      if (verdict.reason !== 'missing' && verdict.reason !== 'stale') {
        this.log.info('REGISTER refused', { reason: verdict.reason, detail: verdict.detail, from: `${source.address}:${source.port}` });
      }
      if (verdict.reason === 'malformed') {
        this.counters.rejected++;
        return { status: 400, reason: 'Bad Authorization header', headers: [] };
      }
      this.counters.challenges++;
      // The same challenge whether the To user exists or not (no enumeration): see challengeChoice.
      const choice = target?.account.algorithms ?? this.challengeChoice(toUser);
      return {
        status: 401,
        cause: verdict.reason === 'missing' || verdict.reason === 'stale' ? 'challenge' : verdict.reason,
        headers: this.digest.challenge(choice, verdict.stale, source.address).map((v): [string, string] => ['WWW-Authenticate', v]),
      };
    }
    // Step 4: the authenticated user may only change the bindings of its own extension.
    const who = this.account(verdict.username, false)!;
    if (!target || target.ext.id !== who.ext.id) {
      this.counters.rejected++;
      return { status: 403, reason: `User ${verdict.username} may not register ${toUser ?? 'this address'}`, headers: [] };
    }
    const ext = who.ext;
    // An extension that requires TLS + SRTP registers over TLS only (docs/security.md).
    if (ext.requireTlsSrtp && source.transport !== 'tls') {
      this.counters.rejected++;
      this.log.info('REGISTER refused: extension requires TLS', { extension: ext.number, transport: source.transport, from: `${source.address}:${source.port}` });
      return { status: 403, reason: 'Extension requires SIP over TLS', headers: [] };
    }
    const aor = `sip:${ext.number}@${this.domain}`;
    const callId = req.callId;
    const cseq = req.cseq.seq;
    const now = this.clock.now();
    const headerExpires = req.expires;

    // Step 6: Contact: * removes everything, and only with Expires: 0.
    if (req.isContactWildcard()) {
      if (headerExpires !== 0 || req.getAll('contact').length !== 1) {
        return { status: 400, reason: 'Contact: * needs Expires: 0 and no other Contact', headers: [] };
      }
      const existing = this.store.get(ext.id);
      for (const b of existing) {
        if (b.callId === callId && cseq <= b.cseq) return this.outOfOrder();
      }
      const removed = this.store.removeAll(ext.id);
      for (const b of removed) this.emit('unregistered', b);
      return this.ok(ext.id, now);
    }

    const changes: ContactChange[] = [];
    for (const c of req.contacts()) {
      const raw = c.params['expires'];
      let expires = headerExpires ?? this.defaultExpires;
      if (raw !== undefined && raw !== null) {
        if (!/^\d{1,10}$/.test(raw)) return { status: 400, reason: `Contact expires "${raw}" is not a number of seconds`, headers: [] };
        expires = Number(raw);
      }
      // Step 7: "If the expiration interval is less than the Min-Expires, the registrar MUST reject with 423".
      if (expires > 0 && expires < this.minExpires) {
        return { status: 423, headers: [['Min-Expires', String(this.minExpires)]] };
      }
      if (expires > this.maxExpires) expires = this.maxExpires;
      const qRaw = c.params['q'];
      const q = qRaw === undefined || qRaw === null ? 1 : Number(qRaw);
      if (!(q >= 0 && q <= 1)) return { status: 400, reason: `Contact q "${qRaw}" is not between 0 and 1`, headers: [] };
      if (!c.uri.isSip && c.uri.scheme !== 'tel') return { status: 400, reason: `Contact URI scheme "${c.uri.scheme}" is not sip`, headers: [] };
      changes.push({ contact: c, uri: c.uri.format(), expires, q, instanceId: unquoteParam(c.params['+sip.instance']) });
    }

    // Step 8, Call-ID/CSeq ordering: checked for every contact before anything changes (all or nothing).
    const existing = this.store.get(ext.id);
    for (const ch of changes) {
      const b = existing.find((x) => x.contact === ch.uri);
      if (b && b.callId === callId && cseq <= b.cseq) return this.outOfOrder();
    }

    if (changes.length > 0) {
      const userAgent = req.get('user-agent');
      const added: Binding[] = [];
      const removed: Binding[] = [];
      const apply = (): void => {
        for (const ch of changes) {
          if (ch.expires === 0) {
            const gone = this.store.remove(ext.id, ch.uri);
            if (gone) removed.push(gone);
            continue;
          }
          // RFC 5626: the same instance registering a new contact replaces its old one (phone changed address).
          if (ch.instanceId !== undefined) {
            for (const b of [...this.store.get(ext.id)]) {
              if (b.instanceId === ch.instanceId && b.contact !== ch.uri) {
                const gone = this.store.remove(ext.id, b.contact);
                if (gone) removed.push(gone);
              }
            }
          }
          const expiresAt = now + ch.expires * 1000;
          if (this.store.refresh(ext.id, ch.uri, source, userAgent, ch.instanceId, ch.q, aor, callId, cseq, expiresAt, now)) continue;
          const binding: Binding = {
            extensionId: ext.id,
            extensionNumber: ext.number,
            aor,
            contact: ch.uri,
            source: { transport: source.transport, address: source.address, port: source.port, connectionId: source.connectionId },
            // Copies: a binding lives for the whole registration, slices would keep the REGISTER's text with it.
            callId: detach(callId),
            cseq,
            expiresAt,
            userAgent: userAgent === undefined ? undefined : detach(userAgent),
            instanceId: ch.instanceId === undefined ? undefined : detach(ch.instanceId),
            q: ch.q,
          };
          if (this.store.put(binding)) added.push(binding);
        }
      };
      apply();
      for (const b of removed) this.emit('unregistered', b);
      for (const b of added) this.emit('registered', b);
    }
    return this.ok(ext.id, now);
  }

  /** 200 listing every current binding with its remaining time (§10.3 step 8). */
  private ok(extensionId: number, now: number): RegisterOutcome {
    const headers: Array<[string, string]> = [];
    for (const b of this.store.get(extensionId)) {
      const left = Math.max(0, Math.round((b.expiresAt - now) / 1000));
      headers.push(['Contact', `<${b.contact}>;expires=${left}${b.q !== 1 ? `;q=${b.q}` : ''}`]);
    }
    const second = Math.floor(now / 1000);
    if (second !== this.dateSecond) {
      this.dateSecond = second;
      this.dateHeader = new Date(second * 1000).toUTCString();
    }
    headers.push(['Date', this.dateHeader]);
    return { status: 200, headers };
  }

  private outOfOrder(): RegisterOutcome {
    this.counters.rejected++;
    // §10.3 step 7: "If not, the update MUST be aborted and the request fails."
    return { status: 500, reason: 'CSeq out of order for this Call-ID', headers: [['Retry-After', '1']] };
  }

  /**
   * The digest algorithms offered to someone claiming `name`: its extension's, and for a name that is no extension
   * those of a real extension picked by a keyed hash of the name, in the proportions the site uses (an all-MD5
   * site answers MD5 to everyone), so that the challenge does not tell which names exist.
   */
  challengeChoice(name: string | undefined): AlgorithmChoice {
    const known = name === undefined || name === '' ? undefined : this.account(name, true);
    if (known) return known.account.algorithms;
    const now = this.clock.monotonic();
    if (!this.algorithmMix || now - this.algorithmMix.at >= ACCOUNT_CACHE_MS) {
      this.algorithmMix = { at: now, counts: this.extensions.digestAlgorithmCounts() };
    }
    const counts = this.algorithmMix.counts;
    if (counts.length === 0) return 'MD5';
    if (counts.length === 1) return counts[0]!.algorithm;
    const total = counts.reduce((n, c) => n + c.count, 0);
    let pick = createHmac('sha256', this.nameKey).update(name ?? '').digest().readUInt32BE(0) % total;
    for (const c of counts) {
      if (pick < c.count) return c.algorithm;
      pick -= c.count;
    }
    return 'MD5';
  }

  /** Whether registered phones are behind `address` (the AuthGuard then locks a failing extension, not the address). */
  hostsPhones(address: string): boolean {
    const now = this.clock.monotonic();
    if (!this.phoneHosts || now - this.phoneHosts.at >= 1000) {
      const set = new Set<string>();
      for (const id of this.store.extensionIds()) for (const b of this.store.get(id)) set.add(b.source.address);
      this.phoneHosts = { at: now, set };
    }
    return this.phoneHosts.set.has(address);
  }

  /** Account by SIP username (digest) or, with byNumber, by extension number or SIP username (the To user). */
  private account(name: string, byNumber: boolean): CachedAccount | undefined {
    const key = (byNumber ? 'n:' : 'u:') + name;
    const now = this.clock.monotonic();
    const hit = this.accounts.get(key);
    if (hit && now - hit.at < ACCOUNT_CACHE_MS) return hit;
    const ext = byNumber
      ? (this.extensions.findByNumber(name) ?? this.extensions.findBySipUsername(name))
      : this.extensions.findBySipUsername(name);
    if (!ext) {
      this.accounts.delete(key);
      return undefined;
    }
    const entry: CachedAccount = {
      ext,
      account: { ha1Md5: ext.ha1Md5, ha1Sha256: ext.ha1Sha256, algorithms: ext.digestAlgorithm },
      at: now,
    };
    if (this.accounts.size > 10_000) this.accounts.clear();
    this.accounts.set(key, entry);
    return entry;
  }

  private scheduleSweep(): void {
    if (!this.running) return;
    this.sweepTimer = this.clock.setTimeout(() => {
      this.sweep();
      this.scheduleSweep();
    }, this.sweepIntervalMs);
  }

  /** Removes bindings whose time is up and tells listeners (clock-driven; tests call it through the clock). */
  sweep(): void {
    const gone = this.store.sweep(this.clock.now());
    for (const b of gone) this.emit('expired', b);
  }
}
