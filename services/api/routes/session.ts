// /api/session: log in (session token as an HttpOnly cookie and in the body), who am I, log out.
import type Router from '@koa/router';
import type { User } from '../../directory/index.js';
import { SESSION_COOKIE, type ApiState, type Authenticator } from '../auth.js';
import { fields, readJsonObject } from '../body.js';

/** A user as the API shows it (never the password hash). */
export function publicUser(u: User): { id: number; username: string; name: string; role: string; rights: string[]; language: string } {
  return { id: u.id, username: u.username, name: u.name, role: u.role, rights: u.rights, language: u.language };
}

export function sessionRoutes(router: Router<ApiState>, auth: Authenticator): void {
  router.post('/session', async (ctx) => {
    const body = fields(await readJsonObject(ctx), {
      username: { type: 'string', required: true, maxLength: 64 },
      password: { type: 'string', required: true, maxLength: 1024 },
    });
    const user = await auth.login(ctx, body.username!, body.password!);
    const session = auth.sessions.create(user.id);
    ctx.cookies.set(SESSION_COOKIE, session.token, {
      httpOnly: true,
      sameSite: 'strict', // the cookie is never sent by another site's page: no cross-site request forgery
      secure: ctx.secure,
      path: '/',
      maxAge: auth.sessions.limits.maxAgeMs,
      overwrite: true,
    });
    ctx.status = 201;
    ctx.body = { token: session.token, expiresAt: auth.sessions.expiresAt(session), user: publicUser(user) };
  });

  router.get('/session', auth.required(), (ctx) => {
    const token = ctx.state.sessionToken;
    const session = token ? auth.sessions.get(token) : undefined;
    ctx.body = { user: publicUser(ctx.state.user!), expiresAt: session ? auth.sessions.expiresAt(session) : null };
  });

  router.delete('/session', auth.required(), (ctx) => {
    if (ctx.state.sessionToken) auth.sessions.delete(ctx.state.sessionToken);
    ctx.cookies.set(SESSION_COOKIE, null, { httpOnly: true, sameSite: 'strict', path: '/' });
    ctx.status = 204;
  });
}
