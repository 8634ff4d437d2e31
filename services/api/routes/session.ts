// /api/session: log in (session token as an HttpOnly cookie and in the body), who am I, log out, log out everywhere,
// change one's password; /api/setup: first-run setup in the browser; /api/tokens: API tokens for scripts.
import type Router from '@koa/router';
import { z } from 'zod';
import type { User } from '../../directory/index.js';
import { RelaisError } from '../../shared/index.js';
import type { ApiTokenRepository } from '../api-tokens.js';
import { SESSION_COOKIE, type ApiContext, type ApiState, type Authenticator } from '../auth.js';
import type { FirstRunSetup } from '../setup.js';
import { idParam } from '../body.js';
import { readInput, readQuery, schemas } from '../validate.js';

/** A user as the API shows it (never the password hash). */
export function publicUser(u: User): { id: number; username: string; name: string; role: string; rights: string[]; language: string } {
  return { id: u.id, username: u.username, name: u.name, role: u.role, rights: u.rights, language: u.language };
}

const loginSchema = z.strictObject({ username: z.string().max(64), password: z.string().max(1024) });
const setupSchema = z.strictObject({ token: z.string().max(200), password: schemas.password });
const passwordSchema = z.strictObject({ current: z.string().max(1024), password: schemas.password });
const tokenSchema = z.strictObject({ name: z.string().trim().min(1).max(64), expiresInDays: z.number().int().min(1).max(3650).optional() });

export interface SessionRouteDeps {
  auth: Authenticator;
  setup?: FirstRunSetup | undefined;
  tokens?: ApiTokenRepository | undefined;
  /** A password was set: first-run setup is no longer needed, cached logins of that user end (hook for others). */
  onPasswordChanged?: (user: User) => void;
}

/** Starts a session for a user: cookie + body with the token, its end, the CSRF token and the user. */
function startSession(ctx: ApiContext, auth: Authenticator, user: User): void {
  const session = auth.sessions.create(user.id);
  ctx.cookies.set(SESSION_COOKIE, session.token, {
    httpOnly: true,
    sameSite: 'strict', // the cookie is never sent by another site's page: no cross-site request forgery
    secure: ctx.secure,
    path: '/',
    maxAge: auth.sessions.limits.maxAgeMs,
    overwrite: true,
  });
  ctx.state.audit = { ...ctx.state.audit, user, resource: 'session', target: user.username };
  ctx.status = 201;
  ctx.body = { token: session.token, csrfToken: session.csrf, expiresAt: auth.sessions.expiresAt(session), user: publicUser(user) };
}

export function sessionRoutes(router: Router<ApiState>, deps: SessionRouteDeps): void {
  const { auth } = deps;
  router.post('/session', async (ctx) => {
    const body = await readInput(ctx, loginSchema);
    const user = await auth.login(ctx, body.username, body.password);
    ctx.state.audit = { action: 'session.login', detail: {} };
    startSession(ctx, auth, user);
  });

  router.get('/session', auth.required(), (ctx) => {
    readQuery(ctx, z.strictObject({}));
    const token = ctx.state.sessionToken;
    const session = token ? auth.sessions.get(token) : undefined;
    ctx.body = {
      user: publicUser(ctx.state.user!),
      expiresAt: session ? auth.sessions.expiresAt(session) : null,
      csrfToken: session?.csrf ?? null,
      via: ctx.state.via ?? null,
    };
  });

  router.delete('/session', auth.required(), (ctx) => {
    if (ctx.state.sessionToken) auth.sessions.delete(ctx.state.sessionToken);
    ctx.cookies.set(SESSION_COOKIE, null, { httpOnly: true, sameSite: 'strict', path: '/' });
    ctx.state.audit = { action: 'session.logout', resource: 'session', target: ctx.state.user!.username };
    ctx.status = 204;
  });

  // Logout everywhere: every session of this user ends (other browsers, phones, scripts using a session token).
  router.delete('/sessions', auth.required(), (ctx) => {
    const ended = auth.sessions.deleteForUser(ctx.state.user!.id);
    ctx.cookies.set(SESSION_COOKIE, null, { httpOnly: true, sameSite: 'strict', path: '/' });
    ctx.state.audit = { action: 'session.logout_all', resource: 'session', target: ctx.state.user!.username, detail: { ended } };
    ctx.status = 204;
  });

  router.put('/session/password', auth.required(), async (ctx) => {
    const body = await readInput(ctx, passwordSchema);
    const me = ctx.state.user!;
    try {
      await auth.login(ctx, me.username, body.current);
    } catch (err) {
      if (err instanceof RelaisError && err.status === 401) throw new RelaisError('auth.password_wrong', 'the current password is wrong', { status: 400, field: 'current' });
      throw err;
    }
    auth.users.setPassword(me.id, body.password);
    // Every other session of this user ends: whoever knew the old password is out.
    auth.sessions.deleteForUser(me.id, ctx.state.sessionToken);
    if (me.role === 'admin') deps.setup?.done();
    deps.onPasswordChanged?.(me);
    ctx.state.audit = { action: 'user.password', resource: 'users', target: me.username, detail: {} };
    ctx.status = 204;
  });

  router.get('/setup', (ctx) => {
    readQuery(ctx, z.strictObject({}));
    ctx.body = { pending: deps.setup?.pending() ?? false };
  });

  router.post('/setup', async (ctx) => {
    const body = await readInput(ctx, setupSchema);
    const setup = deps.setup;
    if (!setup) throw new RelaisError('setup.done', 'first-run setup is already done; log in', { status: 409 });
    const source = ctx.ip || 'unknown';
    const wait = auth.throttle.retryAfterMs(source);
    if (wait > 0) {
      ctx.set('Retry-After', String(Math.ceil(wait / 1000)));
      throw new RelaisError('auth.too_many_attempts', `too many failed attempts from ${source}; try again in ${Math.ceil(wait / 1000)} s`, { status: 429 });
    }
    let admin: User;
    try {
      admin = setup.complete(body.token, body.password);
    } catch (err) {
      if (err instanceof RelaisError && err.code === 'setup.token_invalid') auth.throttle.fail(source);
      throw err;
    }
    ctx.state.audit = { action: 'setup.complete', detail: {} };
    startSession(ctx, auth, admin);
  });

  const tokens = deps.tokens;
  if (!tokens) return;
  router.get('/tokens', auth.required(), (ctx) => {
    readQuery(ctx, z.strictObject({ all: z.enum(['true', 'false']).optional() }));
    const me = ctx.state.user!;
    const all = ctx.query.all === 'true' && me.role === 'admin';
    ctx.body = { tokens: tokens.list(all ? undefined : me.id) };
  });

  router.post('/tokens', auth.required(), async (ctx) => {
    const body = await readInput(ctx, tokenSchema);
    const me = ctx.state.user!;
    const { token, secret } = tokens.create(me.id, body.name, body.expiresInDays === undefined ? null : body.expiresInDays * 86_400_000);
    ctx.state.audit = { resource: 'tokens', target: token.id };
    ctx.status = 201;
    // The secret is shown once: only its hash is kept.
    ctx.body = { token, secret };
  });

  router.delete('/tokens/:id', auth.required(), (ctx) => {
    const id = idParam(ctx.params.id, 'token');
    const me = ctx.state.user!;
    const t = tokens.list(me.role === 'admin' ? undefined : me.id).find((x) => x.id === id);
    if (!t) throw new RelaisError('token.not_found', `API token ${id} does not exist`, { status: 404 });
    tokens.delete(id);
    ctx.status = 204;
  });
}
