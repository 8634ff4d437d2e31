// /api/wallboard: the TV's queue board (a wallboard token, no login) and its tokens (administrators make and revoke them).
import type Router from '@koa/router';
import { z } from 'zod';
import type { UserRepository } from '../../directory/index.js';
import type { ApiState, Authenticator } from '../auth.js';
import { idParam, queryParams, readJsonObject } from '../body.js';
import { parse } from '../validate.js';
import type { Wallboard } from '../wallboard.js';
import type { WallboardToken, WallboardTokenRepository } from '../wallboard-tokens.js';

export interface WallboardRouteDeps {
  auth: Authenticator;
  tokens: WallboardTokenRepository;
  wallboard: Wallboard;
  users: UserRepository;
}

export function wallboardRoutes(router: Router<ApiState>, d: WallboardRouteDeps): void {
  const admin = d.auth.requireAdmin();
  const present = (t: WallboardToken): Record<string, unknown> => ({
    id: t.id,
    name: t.name,
    createdBy: t.createdBy === null ? null : (d.users.get(t.createdBy)?.username ?? null),
    createdAt: t.createdAt,
    lastUsedAt: t.lastUsedAt,
  });

  // The board itself: the token only (query or Bearer), never a session; read-only.
  router.get('/wallboard', (ctx) => {
    const q = queryParams(ctx, ['token']);
    d.wallboard.tokenOf(q.token, ctx.get('authorization') || undefined);
    ctx.set('Cache-Control', 'no-store');
    ctx.body = d.wallboard.state();
  });

  router.get('/wallboard/tokens', admin, (ctx) => {
    queryParams(ctx, []);
    ctx.body = { tokens: d.tokens.list().map(present) };
  });

  // The secret is in this answer only (the box keeps its hash).
  router.post('/wallboard/tokens', admin, async (ctx) => {
    queryParams(ctx, []);
    const body = parse(z.strictObject({ name: z.string().trim().min(1, 'give the wallboard a name (where the TV is)').max(100) }), await readJsonObject(ctx));
    const { token, secret } = d.tokens.create(body.name, ctx.state.user?.id ?? null);
    ctx.status = 201;
    ctx.body = { token: present(token), secret, url: `/wallboard?token=${secret}` };
  });

  router.delete('/wallboard/tokens/:id', admin, (ctx) => {
    queryParams(ctx, []);
    const id = idParam(ctx.params.id, 'wallboard token');
    d.tokens.delete(id);
    d.wallboard.revoked(id);
    ctx.status = 204;
  });
}
