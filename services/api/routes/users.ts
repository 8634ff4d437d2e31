// /api/users: console users with their role and per-user rights (right "users"); changes apply to the next request.
import type Router from '@koa/router';
import { z } from 'zod';
import { RIGHTS, ROLES, type User, type UserRepository } from '../../directory/index.js';
import { RelaisError } from '../../shared/index.js';
import type { ApiContext, ApiState, Authenticator } from '../auth.js';
import { idParam } from '../body.js';
import { readInput, readQuery, schemas } from '../validate.js';

/** A user as the user pages show it. */
export function userView(u: User): { id: number; username: string; name: string; email: string | null; role: string; rights: string[]; language: string; dnd: boolean; hasPassword: boolean; createdAt: number } {
  return { id: u.id, username: u.username, name: u.name, email: u.email, role: u.role, rights: u.rights, language: u.language, dnd: u.dnd, hasPassword: u.hasPassword, createdAt: u.createdAt };
}

const username = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'lower-case letters, digits, ".", "_" or "-" (1-64, starting with a letter or digit)');
const userFields = {
  name: z.string().max(100),
  email: z.email().max(200).nullable(),
  role: z.enum(ROLES as [string, ...string[]]),
  rights: z.array(z.enum(RIGHTS)).max(RIGHTS.length),
  language: schemas.language,
  dnd: z.boolean(),
  password: schemas.password,
};
const createSchema = z.strictObject({ username, ...userFields }).partial({ name: true, email: true, role: true, rights: true, language: true, dnd: true, password: true });
const patchSchema = z.strictObject({ username, ...userFields }).partial();
const preferencesSchema = z.strictObject({ name: userFields.name, language: userFields.language, dnd: userFields.dnd }).partial();
const listQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(500).default(100),
  offset: z.coerce.number().int().min(0).default(0),
  q: z.string().max(64).optional(),
});

export interface UserRouteDeps {
  auth: Authenticator;
  users: UserRepository;
  /** Ends a user's sessions and API tokens (deleted user, demoted admin). */
  endAccess: (userId: number) => void;
}

/** A user with the "users" right manages plain users; only an administrator makes or changes administrators. */
function checkEscalation(ctx: ApiContext, target: User | undefined, role: string | undefined): void {
  const me = ctx.state.user!;
  if (me.role === 'admin') return;
  if (role === 'admin' || target?.role === 'admin') {
    throw new RelaisError('auth.forbidden', 'only an administrator may create or change administrators', { status: 403, field: 'role' });
  }
}

export function userRoutes(router: Router<ApiState>, deps: UserRouteDeps): void {
  const { auth, users } = deps;
  const right = auth.requireRight('users');

  router.get('/users', right, (ctx) => {
    const q = readQuery(ctx, listQuery);
    const needle = q.q?.toLowerCase();
    const all = users.list().filter((u) => !needle || u.username.includes(needle) || u.name.toLowerCase().includes(needle));
    ctx.body = { users: all.slice(q.offset, q.offset + q.limit).map(userView), total: all.length, offset: q.offset, limit: q.limit };
  });

  router.get('/users/:id', right, (ctx) => {
    ctx.body = { user: userView(users.require(idParam(ctx.params.id, 'user'))) };
  });

  router.post('/users', right, async (ctx) => {
    const body = await readInput(ctx, createSchema);
    checkEscalation(ctx, undefined, body.role);
    const user = users.create({ ...body, role: body.role as User['role'] | undefined });
    ctx.state.audit = { ...ctx.state.audit, target: user.username };
    ctx.status = 201;
    ctx.body = { user: userView(user) };
  });

  router.patch('/users/:id', right, async (ctx) => {
    const id = idParam(ctx.params.id, 'user');
    const body = await readInput(ctx, patchSchema);
    const cur = users.require(id);
    checkEscalation(ctx, cur, body.role);
    if (cur.role === 'admin' && body.role === 'user' && users.list().filter((u) => u.role === 'admin').length === 1) {
      throw new RelaisError('user.last_admin', 'this is the last administrator: make another one first', { status: 409, field: 'role' });
    }
    const user = users.update(id, { ...body, role: body.role as User['role'] | undefined });
    // New password or lost admin role: whoever was logged in as this user logs in again.
    if (body.password !== undefined || (cur.role === 'admin' && user.role !== 'admin')) deps.endAccess(id);
    ctx.state.audit = { ...ctx.state.audit, target: user.username };
    ctx.body = { user: userView(user) };
  });

  router.delete('/users/:id', right, (ctx) => {
    const id = idParam(ctx.params.id, 'user');
    const cur = users.require(id);
    checkEscalation(ctx, cur, undefined);
    if (cur.id === ctx.state.user!.id) throw new RelaisError('user.self', 'you cannot delete your own account', { status: 409 });
    if (cur.role === 'admin' && users.list().filter((u) => u.role === 'admin').length === 1) {
      throw new RelaisError('user.last_admin', 'this is the last administrator', { status: 409 });
    }
    users.delete(id);
    deps.endAccess(id);
    ctx.state.audit = { target: cur.username };
    ctx.status = 204;
  });

  // Every user may change his own name, language and do-not-disturb.
  router.patch('/session', auth.required(), async (ctx) => {
    const body = await readInput(ctx, preferencesSchema);
    const user = users.update(ctx.state.user!.id, body);
    ctx.state.audit = { ...ctx.state.audit, resource: 'users', target: user.username };
    ctx.body = { user: userView(user) };
  });
}
