// /api/trunks and /api/routes: SIP trunks with their registration state, outbound routes (right "trunks"); a change
// reloads the trunk service at once (un-REGISTER of a removed trunk, REGISTER of a new one).
import type Router from '@koa/router';
import { z } from 'zod';
import type { OutboundRoute, Trunk, TrunkRepository } from '../../directory/index.js';
import type { TrunkStatusView } from '../../events/index.js';
import type { ApiState, Authenticator } from '../auth.js';
import { idParam } from '../body.js';
import { readInput, readQuery } from '../validate.js';

export interface TrunkRouteDeps {
  auth: Authenticator;
  trunks: TrunkRepository;
  status: () => TrunkStatusView[];
  reload: () => Promise<void>;
}

/** A trunk without its secret. */
export function trunkView(t: Trunk, status: TrunkStatusView | undefined, routes: OutboundRoute[]): Record<string, unknown> {
  const { secret, ...rest } = t;
  return { ...rest, hasSecret: secret !== null && secret !== '', state: status?.state ?? (t.enabled ? 'unknown' : 'disabled'), stateDetail: status?.detail ?? null, routes };
}

const nullableText = (max: number) => z.string().max(max).nullable();
const trunkFields = {
  name: z.string().trim().min(1).max(64),
  host: z.string().regex(/^[A-Za-z0-9.-]+$|^\[[0-9a-fA-F:]+\]$/, 'is not a host name or address'),
  port: z.number().int().min(1).max(65535),
  transport: z.enum(['udp', 'tcp']),
  register: z.boolean(),
  username: nullableText(128),
  authUsername: nullableText(128),
  secret: nullableText(256),
  realm: nullableText(128),
  fromDomain: nullableText(128),
  callerId: z.string().regex(/^\+?[0-9]{1,20}$/, 'must be a phone number').nullable(),
  allowedIps: z.array(z.string().max(64)).max(50),
  expires: z.number().int().min(60).max(86400),
  enabled: z.boolean(),
};
const createSchema = z.strictObject(trunkFields).partial().required({ name: true, host: true });
const patchSchema = z.strictObject(trunkFields).partial();
const routeSchema = z.strictObject({
  name: z.string().trim().min(1).max(64),
  pattern: z.string().min(1).max(32).regex(/^[0-9+*#XNZ]*\.?$/, 'may hold digits, + * #, X N Z and a trailing "."'),
  strip: z.number().int().min(0).max(20).optional(),
  prepend: z.string().max(16).regex(/^[0-9+*#]*$/, 'may hold only digits, + * #').optional(),
  trunkId: z.number().int().positive(),
  priority: z.number().int().min(0).max(1000).optional(),
});

export function trunkRoutes(router: Router<ApiState>, deps: TrunkRouteDeps): void {
  const { auth, trunks } = deps;
  const right = auth.requireRight('trunks');
  const view = (t: Trunk): Record<string, unknown> =>
    trunkView(
      t,
      deps.status().find((s) => s.trunk === t.name),
      trunks.routes(t.id),
    );

  router.get('/trunks', right, (ctx) => {
    readQuery(ctx, z.strictObject({}));
    ctx.body = { trunks: trunks.list().map(view) };
  });

  router.get('/trunks/:id', right, (ctx) => {
    ctx.body = { trunk: view(trunks.require(idParam(ctx.params.id, 'trunk'))) };
  });

  router.post('/trunks', right, async (ctx) => {
    const body = await readInput(ctx, createSchema);
    const t = trunks.create(body);
    await deps.reload();
    ctx.state.audit = { ...ctx.state.audit, target: t.name };
    ctx.status = 201;
    ctx.body = { trunk: view(t) };
  });

  router.patch('/trunks/:id', right, async (ctx) => {
    const id = idParam(ctx.params.id, 'trunk');
    const body = await readInput(ctx, patchSchema);
    const t = trunks.update(id, body);
    await deps.reload();
    ctx.state.audit = { ...ctx.state.audit, target: t.name };
    ctx.body = { trunk: view(t) };
  });

  router.delete('/trunks/:id', right, async (ctx) => {
    const id = idParam(ctx.params.id, 'trunk');
    const t = trunks.require(id);
    trunks.delete(id);
    await deps.reload();
    ctx.state.audit = { target: t.name };
    ctx.status = 204;
  });

  router.get('/routes', right, (ctx) => {
    readQuery(ctx, z.strictObject({}));
    ctx.body = { routes: trunks.routes() };
  });

  router.post('/routes', right, async (ctx) => {
    const body = await readInput(ctx, routeSchema);
    trunks.require(body.trunkId);
    const r = trunks.createRoute(body);
    ctx.state.audit = { ...ctx.state.audit, target: r.id };
    ctx.status = 201;
    ctx.body = { route: r };
  });

  router.delete('/routes/:id', right, (ctx) => {
    trunks.deleteRoute(idParam(ctx.params.id, 'route'));
    ctx.status = 204;
  });
}
