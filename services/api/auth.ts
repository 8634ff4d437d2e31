// API authentication: login sessions (random token as cookie or bearer), HTTP Basic for scripts, rights, login throttling.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type Koa from 'koa';
import { RelaisError, type Clock, type Logger } from '../shared/index.js';
import type { Right, User, UserRepository } from '../directory/index.js';
import { API_TOKEN_PREFIX, type ApiTokenRepository } from './api-tokens.js';

export const SESSION_COOKIE = 'relais_session';
/** Header a console page sends with every change, carrying its session's CSRF token (synchronizer token pattern). */
export const CSRF_HEADER = 'x-csrf-token';

/** How the caller proved who he is. */
export type AuthVia = 'cookie' | 'bearer' | 'token' | 'basic';

/** What a route knows about the caller once authenticated. */
export interface ApiState {
  user?: User;
  /** The session token when the caller came with one (cookie or bearer), for logout. */
  sessionToken?: string;
  via?: AuthVia;
  /** Set by a route for the audit log: what was changed, beyond method and path. */
  audit?: { action?: string; resource?: string; target?: string | number | null; detail?: Record<string, unknown>; user?: User };
}

export type ApiContext = Koa.ParameterizedContext<ApiState>;

export interface Session {
  token: string;
  userId: number;
  createdAt: number;
  lastSeenAt: number;
  /** Sent back in the X-CSRF-Token header by console pages for every change made with the cookie. */
  csrf: string;
  /**
   * The user's identity and credentials when the session began (creation time, password hash, role, rights):
   * a deleted user, a new user given the same id, a password or rights change all end the session at once.
   */
  stamp?: string | undefined;
}

export interface SessionLimits {
  /** A session unused this long ends (default 8 h). */
  idleMs: number;
  /** A session ends this long after login whatever its use (default 7 days). */
  maxAgeMs: number;
  /** Sessions kept at most (default 1000); see create() for which goes first. */
  max: number;
  /** Sessions of one user at most (default 20): its oldest goes first. */
  perUser: number;
}

/**
 * In-memory sessions: a restart logs everyone out, which is fine for a box on a LAN. A Map keeps insertion order;
 * get() re-inserts, so the first key is always the least recently used one.
 */
export class SessionStore {
  private readonly sessions = new Map<string, Session>();
  private readonly endListeners = new Set<(s: Session) => void>();
  readonly limits: SessionLimits;

  constructor(
    private readonly clock: Clock,
    limits: Partial<SessionLimits> = {},
    /** The user's stamp (see Session.stamp), recorded at login. */
    private readonly stampOf: (userId: number) => string | undefined = () => undefined,
  ) {
    this.limits = { idleMs: 8 * 3600_000, maxAgeMs: 7 * 86_400_000, max: 1000, perUser: 20, ...limits };
  }

  create(userId: number): Session {
    const now = this.clock.now();
    this.sweep(now);
    // Full: the user's own least recently used session goes first (one account logging in again and again cannot
    // log everyone else out), else the least recently used of the user with the most sessions.
    const mine = [...this.sessions.values()].filter((x) => x.userId === userId);
    if (mine.length >= this.limits.perUser) this.sessions.delete(mine[0]!.token);
    while (this.sessions.size >= this.limits.max) {
      const counts = new Map<number, number>();
      for (const x of this.sessions.values()) counts.set(x.userId, (counts.get(x.userId) ?? 0) + 1);
      let top = -1;
      let most = 0;
      for (const [u, n] of counts) if (n > most) [top, most] = [u, n];
      const victim = [...this.sessions.values()].find((x) => x.userId === top);
      if (!victim) break;
      this.sessions.delete(victim.token);
    }
    // 32 random bytes: guessing is hopeless, so lookups need not be constant-time.
    const s: Session = {
      token: randomBytes(32).toString('base64url'),
      userId,
      createdAt: now,
      lastSeenAt: now,
      csrf: randomBytes(24).toString('base64url'),
      stamp: this.stampOf(userId),
    };
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
    const s = this.sessions.get(token);
    if (!s) return false;
    this.sessions.delete(token);
    this.ended(s);
    return true;
  }

  /** Called when a session is ended on purpose (logout, logout everywhere): its event sockets close at once. */
  onEnd(listener: (s: Session) => void): () => void {
    this.endListeners.add(listener);
    return () => this.endListeners.delete(listener);
  }

  private ended(s: Session): void {
    for (const l of this.endListeners) l(s);
  }

  /** Whether a session is still open, without counting this as a use (the event socket's periodic check). */
  isLive(token: string): boolean {
    const s = this.sessions.get(token);
    return s !== undefined && !this.expired(s, this.clock.now());
  }

  /** Ends every session of a user but `except` (logout everywhere); how many ended. */
  deleteForUser(userId: number, except?: string): number {
    let n = 0;
    // The session kept (a user who just changed his own password) takes the user's new stamp.
    const kept = except === undefined ? undefined : this.sessions.get(except);
    if (kept && kept.userId === userId) kept.stamp = this.stampOf(userId);
    for (const [token, s] of this.sessions) {
      if (s.userId === userId && token !== except) {
        this.sessions.delete(token);
        this.ended(s);
        n++;
      }
    }
    return n;
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
  /** API tokens (Bearer rls_…) for scripts. */
  tokens?: ApiTokenRepository;
}

/** Resolves who is calling (session cookie, bearer token or HTTP Basic) and checks rights. */
export class Authenticator {
  readonly sessions: SessionStore;
  readonly throttle: LoginThrottle;
  /** Failed logins per account (4 x the per-address limit): guesses spread over many addresses still stop. */
  readonly accountThrottle: LoginThrottle;
  private readonly basicCache = new Map<string, { userId: number; until: number; stamp: string | undefined }>();
  private readonly basicCacheMs: number;
  private readonly basicPending = new Map<string, Promise<User>>();

  get users(): UserRepository {
    return this.opts.users;
  }

  constructor(private readonly opts: AuthOptions) {
    this.sessions = new SessionStore(opts.clock, opts.sessions, (id) => this.stampOf(id));
    this.throttle = new LoginThrottle(opts.clock, opts.maxFailedLogins ?? 5);
    this.accountThrottle = new LoginThrottle(opts.clock, (opts.maxFailedLogins ?? 5) * 4);
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
    const account = `user:${username.slice(0, 64).toLowerCase()}`;
    const accountWait = this.accountThrottle.retryAfterMs(account);
    if (accountWait > 0) {
      this.opts.logger?.warn('login throttled for the account', { source, username: username.slice(0, 64) });
      ctx.set('Retry-After', String(Math.ceil(accountWait / 1000)));
      throw new RelaisError('auth.too_many_attempts', `too many failed logins for this account; try again in ${Math.ceil(accountWait / 1000)} s`, {
        status: 429,
      });
    }
    // Counted as a failure before the (asynchronous) check, so parallel guesses cannot all slip under the limit.
    this.throttle.fail(source);
    this.accountThrottle.fail(account);
    const user = await this.opts.users.verifyAsync(username, password);
    if (!user) {
      this.opts.logger?.warn('login failed', { source, username: username.slice(0, 64) });
      throw new RelaisError('auth.invalid', 'username or password is wrong', { status: 401 });
    }
    this.throttle.succeed(source);
    this.accountThrottle.succeed(account);
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

  /** Koa middleware: 403 unless the authenticated user is an administrator. */
  requireAdmin(): Koa.Middleware<ApiState> {
    return async (ctx, next) => {
      const user = ctx.state.user ?? (await this.authenticate(ctx));
      ctx.state.user = user;
      if (user.role !== 'admin') throw new RelaisError('auth.forbidden', `user "${user.username}" is not an administrator`, { status: 403 });
      await next();
    };
  }

  hasRight(user: User, right: Right): boolean {
    return this.opts.users.hasRight(user, right);
  }

  /** Who is calling (the same checks as required(), for requests outside the router such as the event socket). */
  identify(ctx: ApiContext): Promise<User> {
    return this.authenticate(ctx);
  }

  private async authenticate(ctx: ApiContext): Promise<User> {
    const header = ctx.get('authorization');
    let userId: number | undefined;
    if (header) {
      const m = /^(\S+)\s+(\S+)\s*$/.exec(header);
      const scheme = m?.[1]?.toLowerCase();
      if (scheme === 'bearer' && m![2]!.startsWith(API_TOKEN_PREFIX)) {
        const token = this.opts.tokens?.verify(m![2]!);
        if (!token) throw unauthorized(ctx, 'the API token is unknown, expired or was revoked');
        ctx.state.via = 'token';
        userId = token.userId;
      } else if (scheme === 'bearer') {
        ctx.state.via = 'bearer';
        const session = this.fromSession(ctx, m![2]!);
        this.checkStamp(ctx, session);
        userId = session.userId;
      } else if (scheme === 'basic') {
        checkOrigin(ctx); // browsers replay remembered Basic credentials on other sites' requests
        ctx.state.via = 'basic';
        userId = await this.fromBasic(ctx, m![2]!);
      } else {
        throw unauthorized(ctx, 'the Authorization header must be "Bearer <token>" or "Basic <base64 user:password>"');
      }
    } else {
      const token = ctx.cookies.get(SESSION_COOKIE);
      if (!token) throw unauthorized(ctx, 'log in first: POST /api/session, or send HTTP Basic credentials');
      checkOrigin(ctx);
      const session = this.fromSession(ctx, token);
      this.checkStamp(ctx, session);
      checkCsrf(ctx, session);
      ctx.state.via = 'cookie';
      userId = session.userId;
    }
    // Read the user on every request: a changed role or a deleted user takes effect at once.
    const user = this.opts.users.get(userId);
    if (!user) throw unauthorized(ctx, 'this account no longer exists');
    return user;
  }

  /**
   * What identifies a user's credentials now: creation time (a new user given a deleted user's id differs), password
   * hash, role and rights. Undefined for a user that no longer exists.
   */
  stampOf(userId: number): string | undefined {
    const user = this.opts.users.get(userId);
    if (!user) return undefined;
    const hash = this.opts.users.passwordHash(userId) ?? '';
    return createHash('sha256').update(`${user.createdAt}\n${user.username}\n${hash}\n${user.role}\n${user.rights.join(',')}`).digest('base64url');
  }

  /** A session outlives neither its user nor a change of that user's password, role or rights. */
  private checkStamp(ctx: ApiContext, session: Session): void {
    if (session.stamp === undefined) return;
    if (this.stampOf(session.userId) === session.stamp) return;
    this.sessions.delete(session.token);
    throw unauthorized(ctx, 'this account was changed or removed since the login; log in again');
  }

  /** Ends every session of a user and forgets its cached Basic logins (an administrator's decision). */
  endSessionsOf(userId: number): number {
    for (const [k, v] of this.basicCache) if (v.userId === userId) this.basicCache.delete(k);
    return this.sessions.deleteForUser(userId);
  }

  private fromSession(ctx: ApiContext, token: string): Session {
    const s = this.sessions.get(token);
    if (!s) throw unauthorized(ctx, 'the session has expired or was logged out; log in again');
    ctx.state.sessionToken = token;
    return s;
  }

  private async fromBasic(ctx: ApiContext, b64: string): Promise<number> {
    const decoded = Buffer.from(b64, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon <= 0) throw unauthorized(ctx, 'HTTP Basic credentials must be base64 of "user:password"', 'Basic');
    const key = createHash('sha256').update(decoded).digest('base64');
    const now = this.opts.clock.now();
    const hit = this.basicCache.get(key);
    // A cached login counts only while the account is the same one, unchanged (password, role, rights).
    if (hit && hit.until > now && hit.stamp !== undefined && this.stampOf(hit.userId) === hit.stamp) return hit.userId;
    if (hit) this.basicCache.delete(key);
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
    this.basicCache.set(key, { userId: user.id, until: now + this.basicCacheMs, stamp: this.stampOf(user.id) });
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

/** Methods that change nothing (RFC 9110 §9.2.1): the only ones a cookie alone may make. */
export function isSafeMethod(method: string): boolean {
  return method === 'GET' || method === 'HEAD' || method === 'OPTIONS';
}

/**
 * Cross-site request forgery, second line after SameSite=Strict: a change made with the session cookie must carry
 * the session's own token in X-CSRF-Token, which only a page of this appliance can read (GET /api/session).
 */
function checkCsrf(ctx: ApiContext, session: Session): void {
  if (isSafeMethod(ctx.method)) return;
  const sent = Buffer.from(ctx.get(CSRF_HEADER));
  const expected = Buffer.from(session.csrf);
  if (sent.length !== expected.length || !timingSafeEqual(sent, expected)) {
    throw new RelaisError('auth.csrf', `a change made with the session cookie needs the ${CSRF_HEADER} header from GET /api/session`, { status: 403, field: CSRF_HEADER });
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
