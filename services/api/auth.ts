// API authentication: login sessions (random token as cookie or bearer), HTTP Basic for scripts, rights, login throttling.
import { createHash, randomBytes } from 'node:crypto';
import type Koa from 'koa';
import { RelaisError, type Clock, type Logger } from '../shared/index.js';
import type { Right, User, UserRepository } from '../directory/index.js';

export const SESSION_COOKIE = 'relais_session';

/** What a route knows about the caller once authenticated. */
export interface ApiState {
  user?: User;
  /** The session token when the caller came with one (cookie or bearer), for logout. */
  sessionToken?: string;
}

export type ApiContext = Koa.ParameterizedContext<ApiState>;

export interface Session {
  token: string;
  userId: number;
  createdAt: number;
  lastSeenAt: number;
}

export interface SessionLimits {
  /** A session unused this long ends (default 8 h). */
  idleMs: number;
  /** A session ends this long after login whatever its use (default 7 days). */
  maxAgeMs: number;
  /** Sessions kept at most; the least recently used goes first (default 1000). */
  max: number;
}

/**
 * In-memory sessions: a restart logs everyone out, which is fine for a box on a LAN. A Map keeps insertion order;
 * get() re-inserts, so the first key is always the least recently used one.
 */
export class SessionStore {
  private readonly sessions = new Map<string, Session>();
  readonly limits: SessionLimits;

  constructor(
    private readonly clock: Clock,
    limits: Partial<SessionLimits> = {},
  ) {
    this.limits = { idleMs: 8 * 3600_000, maxAgeMs: 7 * 86_400_000, max: 1000, ...limits };
  }

  create(userId: number): Session {
    const now = this.clock.now();
    this.sweep(now);
    while (this.sessions.size >= this.limits.max) {
      const oldest = this.sessions.keys().next().value;
      if (oldest === undefined) break;
      this.sessions.delete(oldest);
    }
    // 32 random bytes: guessing is hopeless, so lookups need not be constant-time.
    const s: Session = { token: randomBytes(32).toString('base64url'), userId, createdAt: now, lastSeenAt: now };
    this.sessions.set(s.token, s);
    return s;
  }

  get(token: string): Session | undefined {
    const s = this.sessions.get(token);
    if (!s) return undefined;
    const now = this.clock.now();
    if (this.expired(s, now)) {
      this.sessions.delete(token);
      return undefined;
    }
    s.lastSeenAt = now;
    this.sessions.delete(token);
    this.sessions.set(token, s);
    return s;
  }

  /** When the session ends if unused from now on. */
  expiresAt(s: Session): number {
    return Math.min(s.lastSeenAt + this.limits.idleMs, s.createdAt + this.limits.maxAgeMs);
  }

  delete(token: string): boolean {
    return this.sessions.delete(token);
  }

  size(): number {
    return this.sessions.size;
  }

  private expired(s: Session, now: number): boolean {
    return now >= this.expiresAt(s);
  }

  private sweep(now: number): void {
    for (const [token, s] of this.sessions) if (this.expired(s, now)) this.sessions.delete(token);
  }
}

/**
 * Failed logins per source address in a sliding window. scrypt costs ~30 ms of the main thread per try, so a
 * source that keeps failing is refused before its password is even checked.
 */
export class LoginThrottle {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly clock: Clock,
    readonly maxFailures = 5,
    readonly windowMs = 60_000,
    /** Sources tracked at most; the oldest entries go first (bounded memory under a spray of addresses). */
    private readonly maxSources = 10_000,
  ) {}

  /** Milliseconds until this source may try again, 0 when it may try now. */
  retryAfterMs(source: string): number {
    const list = this.recent(source);
    if (list.length < this.maxFailures) return 0;
    return Math.max(1, list[0]! + this.windowMs - this.clock.now());
  }

  fail(source: string): void {
    const list = this.recent(source);
    list.push(this.clock.now());
    this.failures.delete(source);
    this.failures.set(source, list);
    while (this.failures.size > this.maxSources) {
      const oldest = this.failures.keys().next().value;
      if (oldest === undefined) break;
      this.failures.delete(oldest);
    }
  }

  /**
   * Takes back the tentative failure of an attempt that succeeded. Earlier failures stay: were a success to clear
   * them, a user could interleave logins to his own account with guesses at another's.
   */
  succeed(source: string): void {
    const list = this.recent(source);
    list.pop();
    if (list.length === 0) this.failures.delete(source);
    else this.failures.set(source, list);
  }

  private recent(source: string): number[] {
    const since = this.clock.now() - this.windowMs;
    const list = (this.failures.get(source) ?? []).filter((t) => t > since);
    if (list.length === 0) this.failures.delete(source);
    return list;
  }
}

export interface AuthOptions {
  users: UserRepository;
  clock: Clock;
  sessions?: Partial<SessionLimits>;
  /** Failed logins allowed per source and minute (default 5). */
  maxFailedLogins?: number;
  /** Verified Basic credentials are remembered this long, sparing scrypt on each scripted request (default 60 s). */
  basicCacheMs?: number;
  /** Logins, failures and throttling are logged (the technician's trail of who got in and who tried). */
  logger?: Logger;
}

/** Resolves who is calling (session cookie, bearer token or HTTP Basic) and checks rights. */
export class Authenticator {
  readonly sessions: SessionStore;
  readonly throttle: LoginThrottle;
  private readonly basicCache = new Map<string, { userId: number; until: number }>();
  private readonly basicCacheMs: number;
  private readonly basicPending = new Map<string, Promise<User>>();

  constructor(private readonly opts: AuthOptions) {
    this.sessions = new SessionStore(opts.clock, opts.sessions);
    this.throttle = new LoginThrottle(opts.clock, opts.maxFailedLogins ?? 5);
    this.basicCacheMs = opts.basicCacheMs ?? 60_000;
  }

  /** Checks a username and password (throttled per source address); the user, or a 401/429 RelaisError. */
  async login(ctx: ApiContext, username: string, password: string): Promise<User> {
    const source = ctx.ip || 'unknown';
    const wait = this.throttle.retryAfterMs(source);
    if (wait > 0) {
      this.opts.logger?.warn('login throttled', { source, username: username.slice(0, 64) });
      ctx.set('Retry-After', String(Math.ceil(wait / 1000)));
      throw new RelaisError('auth.too_many_attempts', `too many failed logins from ${source}; try again in ${Math.ceil(wait / 1000)} s`, {
        status: 429,
      });
    }
    // Counted as a failure before the (asynchronous) check, so parallel guesses cannot all slip under the limit.
    this.throttle.fail(source);
    const user = await this.opts.users.verifyAsync(username, password);
    if (!user) {
      this.opts.logger?.warn('login failed', { source, username: username.slice(0, 64) });
      throw new RelaisError('auth.invalid', 'username or password is wrong', { status: 401 });
    }
    this.throttle.succeed(source);
    this.opts.logger?.info('login', { source, username: user.username });
    return user;
  }

  /** Koa middleware: 401 unless the request carries valid credentials; sets ctx.state.user. */
  required(): Koa.Middleware<ApiState> {
    return async (ctx, next) => {
      ctx.state.user = await this.authenticate(ctx);
      await next();
    };
  }

  /** Koa middleware: 403 unless the authenticated user has the right (admins have them all). */
  requireRight(right: Right): Koa.Middleware<ApiState> {
    return async (ctx, next) => {
      const user = ctx.state.user ?? (await this.authenticate(ctx));
      ctx.state.user = user;
      if (!this.opts.users.hasRight(user, right)) {
        throw new RelaisError('auth.forbidden', `user "${user.username}" does not have the "${right}" right`, { status: 403 });
      }
      await next();
    };
  }

  hasRight(user: User, right: Right): boolean {
    return this.opts.users.hasRight(user, right);
  }

  private async authenticate(ctx: ApiContext): Promise<User> {
    const header = ctx.get('authorization');
    let userId: number | undefined;
    if (header) {
      const m = /^(\S+)\s+(\S+)\s*$/.exec(header);
      const scheme = m?.[1]?.toLowerCase();
      if (scheme === 'bearer') {
        userId = this.fromSession(ctx, m![2]!);
      } else if (scheme === 'basic') {
        checkOrigin(ctx); // browsers replay remembered Basic credentials on other sites' requests
        userId = await this.fromBasic(ctx, m![2]!);
      } else {
        throw unauthorized(ctx, 'the Authorization header must be "Bearer <token>" or "Basic <base64 user:password>"');
      }
    } else {
      const token = ctx.cookies.get(SESSION_COOKIE);
      if (!token) throw unauthorized(ctx, 'log in first: POST /api/session, or send HTTP Basic credentials');
      checkOrigin(ctx);
      userId = this.fromSession(ctx, token);
    }
    // Read the user on every request: a changed role or a deleted user takes effect at once.
    const user = this.opts.users.get(userId);
    if (!user) throw unauthorized(ctx, 'this account no longer exists');
    return user;
  }

  private fromSession(ctx: ApiContext, token: string): number {
    const s = this.sessions.get(token);
    if (!s) throw unauthorized(ctx, 'the session has expired or was logged out; log in again');
    ctx.state.sessionToken = token;
    return s.userId;
  }

  private async fromBasic(ctx: ApiContext, b64: string): Promise<number> {
    const decoded = Buffer.from(b64, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon <= 0) throw unauthorized(ctx, 'HTTP Basic credentials must be base64 of "user:password"', 'Basic');
    const key = createHash('sha256').update(decoded).digest('base64');
    const now = this.opts.clock.now();
    const hit = this.basicCache.get(key);
    if (hit && hit.until > now) return hit.userId;
    // A script firing parallel requests with the same credentials gets one check, not one per request (each would
    // count as a pending failure and the later ones would be throttled).
    let pending = this.basicPending.get(key);
    if (!pending) {
      pending = this.login(ctx, decoded.slice(0, colon), decoded.slice(colon + 1));
      this.basicPending.set(key, pending);
      pending.then(
        () => this.basicPending.delete(key),
        () => this.basicPending.delete(key),
      );
    }
    let user: User;
    try {
      user = await pending;
    } catch (err) {
      if (err instanceof RelaisError && err.status === 401) ctx.set('WWW-Authenticate', 'Basic realm="Relais", charset="UTF-8"');
      if (err instanceof RelaisError && err.status === 429 && !ctx.response.get('Retry-After')) {
        ctx.set('Retry-After', String(Math.max(1, Math.ceil(this.throttle.retryAfterMs(ctx.ip || 'unknown') / 1000))));
      }
      throw err;
    }
    for (const [k, v] of this.basicCache) if (v.until <= now) this.basicCache.delete(k);
    if (this.basicCache.size >= 100) this.basicCache.clear();
    this.basicCache.set(key, { userId: user.id, until: now + this.basicCacheMs });
    return user.id;
  }
}

/**
 * Cookies and remembered Basic credentials ride along on requests another site's page makes: a change (anything but
 * GET/HEAD) must come from a page of this appliance. Browsers send Origin on such requests (Fetch standard); curl and
 * scripts send none and are not affected. SameSite=Strict already stops the cookie; this also covers Basic.
 */
function checkOrigin(ctx: ApiContext): void {
  if (ctx.method === 'GET' || ctx.method === 'HEAD') return;
  const origin = ctx.get('origin');
  if (!origin) return;
  let host: string;
  try {
    host = new URL(origin).host;
  } catch {
    host = '';
  }
  if (host !== ctx.host) {
    throw new RelaisError('auth.cross_origin', `a request from ${origin} may not change this appliance; use the console at ${ctx.protocol}://${ctx.host}`, {
      status: 403,
    });
  }
}

/**
 * RFC 9110 §11.6.1: a 401 carries a challenge. Bearer unless the caller tried Basic: a Basic challenge on a console
 * request would make the browser pop up its own login dialog.
 */
function unauthorized(ctx: ApiContext, message: string, scheme: 'Basic' | 'Bearer' = 'Bearer'): RelaisError {
  ctx.set('WWW-Authenticate', `${scheme} realm="Relais"`);
  return new RelaisError('auth.required', message, { status: 401 });
}
