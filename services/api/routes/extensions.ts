// /api/extensions: phone accounts (right "users"). The SIP secret is shown once, at creation or when regenerated;
// the registrar reads changed credentials for the next REGISTER.
import type Router from '@koa/router';
import { z } from 'zod';
import { DIGEST_ALGORITHMS, generateSecret, type DigestAlgorithm, type Extension, type ExtensionRepository, type UserRepository } from '../../directory/index.js';
import { RelaisError } from '../../shared/index.js';
import type { ApiState, Authenticator } from '../auth.js';
import { idParam } from '../body.js';
import { readInput, readQuery } from '../validate.js';

export interface ExtensionRouteDeps {
  auth: Authenticator;
  extensions: ExtensionRepository;
  users: UserRepository;
  /** Live registrations of an extension (count of contacts), for the list. */
  registrations: (extensionId: number) => { address: string; userAgent: string | null; expiresAt: number }[];
  /** Credentials changed: the registrar drops its cached accounts. */
  credentialsChanged: () => void;
}

/** An extension without its secret (never shown after creation) nor its HA1 values. */
export function extensionView(e: Extension, registrations: ReturnType<ExtensionRouteDeps['registrations']>): Record<string, unknown> {
  return {
    id: e.id,
    number: e.number,
    userId: e.userId,
    displayName: e.displayName,
    sipUsername: e.sipUsername,
    digestAlgorithm: e.digestAlgorithm,
    voicemailEnabled: e.voicemailEnabled,
    hasVoicemailPin: e.voicemailPin !== null,
    requireTlsSrtp: e.requireTlsSrtp,
    registered: registrations.length > 0,
    registrations,
  };
}

const fields = {
  number: z.string().regex(/^[0-9]{2,8}$/, 'must be 2 to 8 digits'),
  userId: z.number().int().positive().nullable(),
  displayName: z.string().max(64),
  sipUsername: z.string().regex(/^[A-Za-z0-9._~!$&'()*+,;=-]{1,64}$/, 'has characters not allowed in a SIP user part'),
  digestAlgorithm: z.enum(DIGEST_ALGORITHMS as [DigestAlgorithm, ...DigestAlgorithm[]]),
  voicemailEnabled: z.boolean(),
  voicemailPin: z.string().regex(/^[0-9]{4,10}$/, 'must be 4 to 10 digits').nullable(),
  requireTlsSrtp: z.boolean(),
};
const createSchema = z.strictObject(fields).partial().required({ number: true });
const patchSchema = z.strictObject(fields).partial();
const listQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(1000).default(200),
  offset: z.coerce.number().int().min(0).default(0),
  userId: z.coerce.number().int().positive().optional(),
});

export function extensionRoutes(router: Router<ApiState>, deps: ExtensionRouteDeps): void {
  const { auth, extensions } = deps;
  const right = auth.requireRight('users');
  const checkUser = (userId: number | null | undefined): void => {
    if (userId != null && !deps.users.get(userId)) throw new RelaisError('extension.user_invalid', `user ${userId} does not exist`, { field: 'userId' });
  };
  const view = (e: Extension): Record<string, unknown> => extensionView(e, deps.registrations(e.id));

  router.get('/extensions', right, (ctx) => {
    const q = readQuery(ctx, listQuery);
    const all = q.userId === undefined ? extensions.list() : extensions.listByUser(q.userId);
    ctx.body = { extensions: all.slice(q.offset, q.offset + q.limit).map(view), total: all.length, offset: q.offset, limit: q.limit };
  });

  router.get('/extensions/:id', right, (ctx) => {
    ctx.body = { extension: view(extensions.require(idParam(ctx.params.id, 'extension'))) };
  });

  router.post('/extensions', right, async (ctx) => {
    const body = await readInput(ctx, createSchema);
    checkUser(body.userId);
    const secret = generateSecret();
    const ext = extensions.create({ ...body, secret });
    deps.credentialsChanged();
    ctx.state.audit = { ...ctx.state.audit, target: ext.number };
    ctx.status = 201;
    // The secret is shown this once: the console tells the user to copy it into the phone now.
    ctx.body = { extension: view(ext), secret };
  });

  router.patch('/extensions/:id', right, async (ctx) => {
    const id = idParam(ctx.params.id, 'extension');
    const body = await readInput(ctx, patchSchema);
    checkUser(body.userId);
    const ext = extensions.update(id, body);
    deps.credentialsChanged();
    ctx.state.audit = { ...ctx.state.audit, target: ext.number };
    ctx.body = { extension: view(ext) };
  });

  router.post('/extensions/:id/secret', right, (ctx) => {
    const id = idParam(ctx.params.id, 'extension');
    const secret = generateSecret();
    const ext = extensions.update(id, { secret });
    deps.credentialsChanged();
    ctx.state.audit = { action: 'extension.secret', target: ext.number, detail: {} };
    ctx.body = { extension: view(ext), secret };
  });

  router.delete('/extensions/:id', right, (ctx) => {
    const id = idParam(ctx.params.id, 'extension');
    const ext = extensions.require(id);
    extensions.delete(id);
    deps.credentialsChanged();
    ctx.state.audit = { target: ext.number };
    ctx.status = 204;
  });
}
