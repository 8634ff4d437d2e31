// Outbound registration of Relais to a provider (RFC 3261 §10.2 as a UAC): digest, refresh before expiry, backoff.
import { randomToken, type Clock, type Logger, type TimerHandle } from '../../shared/index.js';
import type { Trunk } from '../../directory/index.js';
import { DigestClient } from '../auth/index.js';
import type { SipResponse } from '../message/index.js';

/**
 * unregistered → registering → registered ⇄ registering (refresh)
 *                      ↓ failure                ↓ failure
 *                   failed (retry after backoff) → registering
 * stopped is final.
 */
export type TrunkRegistrationState = 'unregistered' | 'registering' | 'registered' | 'failed' | 'stopped';

const MOVES: Record<TrunkRegistrationState, readonly TrunkRegistrationState[]> = {
  unregistered: ['registering', 'stopped'],
  registering: ['registered', 'failed', 'unregistered', 'stopped'],
  registered: ['registering', 'unregistered', 'stopped'],
  failed: ['registering', 'stopped'],
  stopped: [],
};

export interface TrunkRequestOptions {
  method: string;
  uri: string;
  headers: Record<string, string | string[]>;
  target: { address: string; port: number; transport: 'udp' | 'tcp' };
}

export interface TrunkRegistrationHost {
  request(opts: TrunkRequestOptions): Promise<SipResponse>;
  /** Our Contact URI (without <>) for the flow to the provider. */
  contactUri(transport: 'udp' | 'tcp', user: string): string;
}

export interface TrunkRegistrationStatus {
  state: TrunkRegistrationState;
  /** Seconds granted by the provider in the last 200. */
  expires: number | undefined;
  registeredAt: number | undefined;
  /** Wall-clock ms of the next REGISTER (refresh or retry). */
  nextAttemptAt: number | undefined;
  lastStatus: number | undefined;
  lastError: string | undefined;
  consecutiveFailures: number;
}

export interface TrunkRegistrationOptions {
  clock: Clock;
  logger: Logger;
  host: TrunkRegistrationHost;
  /** First retry delay after a failure (default 10 s), doubled per failure up to maxBackoffMs (default 300 s). */
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  /** Called on every state change (health, console). */
  onChange?: (status: TrunkRegistrationStatus) => void;
}

export class TrunkRegistration {
  private state: TrunkRegistrationState = 'unregistered';
  private readonly callId: string;
  private readonly fromTag = randomToken(6);
  private cseq = 0;
  private timer: TimerHandle | undefined;
  private expires: number | undefined;
  private registeredAt: number | undefined;
  private nextAttemptAt: number | undefined;
  private lastStatus: number | undefined;
  private lastError: string | undefined;
  private failures = 0;
  private requestedExpires: number;
  private readonly log: Logger;
  private readonly baseBackoffMs: number;
  private readonly maxBackoffMs: number;
  private inFlight: Promise<void> | undefined;

  constructor(
    readonly trunk: Trunk,
    private readonly opts: TrunkRegistrationOptions,
  ) {
    this.callId = `${randomToken(10)}@relais`;
    this.requestedExpires = trunk.expires;
    this.log = opts.logger.child({ trunk: trunk.name });
    this.baseBackoffMs = opts.baseBackoffMs ?? 10_000;
    this.maxBackoffMs = opts.maxBackoffMs ?? 300_000;
  }

  status(): TrunkRegistrationStatus {
    return {
      state: this.state,
      expires: this.expires,
      registeredAt: this.registeredAt,
      nextAttemptAt: this.nextAttemptAt,
      lastStatus: this.lastStatus,
      lastError: this.lastError,
      consecutiveFailures: this.failures,
    };
  }

  /** The user part of our Contact: providers send inbound calls to it (matched back to this trunk). */
  get contactUser(): string {
    return this.trunk.username ?? 'relais';
  }

  /** Registers now; resolves when this attempt has ended (success or scheduled retry). */
  start(): Promise<void> {
    if (this.state === 'stopped') return Promise.resolve();
    return this.attempt();
  }

  /** Stops timers; with unregister, sends Expires: 0 first (trunk disabled or removed). */
  async stop(unregister = false): Promise<void> {
    if (this.state === 'stopped') return;
    this.opts.clock.clearTimeout(this.timer);
    this.timer = undefined;
    if (unregister && this.state === 'registered') {
      try {
        await this.send(0);
      } catch {
        /* best effort */
      }
    }
    this.transition('stopped');
  }

  private transition(to: TrunkRegistrationState): void {
    if (this.state === to) return;
    if (!MOVES[this.state].includes(to)) throw new Error(`trunk registration: ${this.state} → ${to} is not a valid move`);
    this.state = to;
    this.opts.onChange?.(this.status());
  }

  private attempt(): Promise<void> {
    if (this.inFlight) return this.inFlight;
    this.inFlight = this.run().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async run(): Promise<void> {
    if (this.state === 'stopped') return;
    this.transition('registering');
    this.nextAttemptAt = undefined;
    let res: SipResponse;
    try {
      res = await this.send(this.requestedExpires);
    } catch (err) {
      this.fail(undefined, err instanceof Error ? err.message : String(err));
      return;
    }
    // stop() may have run while the REGISTER was under way.
    if ((this.state as TrunkRegistrationState) === 'stopped') return;
    this.lastStatus = res.status;
    if (res.status >= 200 && res.status < 300) {
      this.succeed(res);
      return;
    }
    this.fail(res.status, `${res.status} ${res.reason}`);
  }

  /**
   * One REGISTER transaction, answering up to two digest challenges (a second one only when stale=true) and one
   * 423 (RFC 3261 §10.2.8: retry with the Min-Expires the registrar asked for).
   */
  private async send(expires: number): Promise<SipResponse> {
    const t = this.trunk;
    const domain = t.realm ?? t.fromDomain ?? t.host;
    const user = this.contactUser;
    const aor = `sip:${user}@${domain}`;
    const uri = `sip:${domain}`;
    const target = { address: t.host, port: t.port, transport: t.transport };
    const digest = new DigestClient({ username: t.authUsername ?? user, password: t.secret ?? '' });
    let authHeader: [string, string] | undefined;
    let challenges = 0;
    let intervalRetry = false;
    for (;;) {
      const headers: Record<string, string | string[]> = {
        From: `<${aor}>;tag=${this.fromTag}`,
        To: `<${aor}>`,
        'Call-ID': this.callId,
        CSeq: `${++this.cseq} REGISTER`,
        Contact: `<${this.opts.host.contactUri(t.transport, user)}>`,
        Expires: String(expires),
      };
      if (authHeader) headers[authHeader[0]] = authHeader[1];
      const res = await this.opts.host.request({ method: 'REGISTER', uri, headers, target });
      if ((res.status === 401 || res.status === 407) && t.secret) {
        const proxy = res.status === 407;
        const values = res.getAll(proxy ? 'proxy-authenticate' : 'www-authenticate');
        const stale = values.some((v) => /stale\s*=\s*"?true/i.test(v));
        if (challenges === 0 || (challenges === 1 && stale)) {
          challenges++;
          const value = digest.authorize({ challenges: values, method: 'REGISTER', uri });
          if (value) {
            authHeader = [proxy ? 'Proxy-Authorization' : 'Authorization', value];
            continue;
          }
        }
        return res;
      }
      if (res.status === 423 && !intervalRetry && expires > 0) {
        const min = Number(res.get('min-expires'));
        if (Number.isInteger(min) && min > expires && min <= 86_400) {
          intervalRetry = true;
          expires = min;
          this.requestedExpires = min;
          continue;
        }
      }
      return res;
    }
  }

  private succeed(res: SipResponse): void {
    // The registrar lists our contact with the time it granted (§10.2.4); otherwise Expires, otherwise what we asked.
    const ours = this.opts.host.contactUri(this.trunk.transport, this.contactUser);
    let granted: number | undefined;
    try {
      for (const c of res.contacts()) {
        if (c.uri.format() === ours || c.uri.user === this.contactUser) {
          const e = c.params['expires'];
          if (e !== undefined && e !== null && /^\d+$/.test(e)) granted = Number(e);
          if (c.uri.format() === ours) break;
        }
      }
    } catch {
      /* an unparsable Contact in the 200: fall back on Expires */
    }
    if (granted === undefined) {
      try {
        granted = res.expires;
      } catch {
        granted = undefined;
      }
    }
    const expires = granted ?? this.requestedExpires;
    this.expires = expires;
    this.failures = 0;
    this.lastError = undefined;
    this.registeredAt = this.opts.clock.now();
    // Refresh well before expiry: at 90 % for long intervals, half-way for short ones.
    const refreshS = Math.max(expires / 2, expires - Math.max(30, expires * 0.1));
    this.schedule(refreshS * 1000);
    this.transition('registered');
    this.log.info('trunk registered', { expires });
  }

  private fail(status: number | undefined, error: string): void {
    if (this.state === 'stopped') return;
    this.failures++;
    this.lastStatus = status;
    this.lastError = error;
    this.expires = undefined;
    const delay = Math.min(this.maxBackoffMs, this.baseBackoffMs * 2 ** Math.min(this.failures - 1, 20));
    this.schedule(delay);
    this.transition('failed');
    this.log.warn('trunk registration failed', { error, retryInMs: delay, failures: this.failures });
  }

  private schedule(ms: number): void {
    this.opts.clock.clearTimeout(this.timer);
    this.nextAttemptAt = this.opts.clock.now() + ms;
    this.timer = this.opts.clock.setTimeout(() => {
      this.timer = undefined;
      void this.attempt();
    }, ms);
  }
}
