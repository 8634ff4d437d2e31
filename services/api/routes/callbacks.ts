// /api/callbacks: list, create (manual), reschedule / edit / link an origin, cancel (docs/api.md "Callbacks").
import type Router from '@koa/router';
import type { QueueRepository } from '../../directory/index.js';
import { CALLBACK_LINKS, CALLBACK_STATUSES, type Callback, type CallbackLink, type CallbackStatus, type QueueService } from '../../queue/index.js';
import { RelaisError } from '../../shared/index.js';
import type { ApiState, Authenticator } from '../auth.js';
import { fields, idParam, intParam, queryParams, readJsonObject } from '../body.js';

export interface CallbackRouteDeps {
  auth: Authenticator;
  service: QueueService;
  queues: QueueRepository;
}

function present(c: Callback, queueName: (id: number) => string | null) {
  return {
    ...c,
    queue: c.queueId === null ? null : queueName(c.queueId),
    dueAt: new Date(c.dueAt).toISOString(),
    arrivedAt: c.arrivedAt === null ? null : new Date(c.arrivedAt).toISOString(),
    createdAt: new Date(c.createdAt).toISOString(),
    updatedAt: new Date(c.updatedAt).toISOString(),
  };
}

/** An ISO time (with zone) or ms since the epoch. */
function time(v: unknown, field: string): number {
  const t = typeof v === 'number' ? v : typeof v === 'string' && /[zZ]|[+-]\d\d:?\d\d$/.test(v) ? Date.parse(v) : NaN;
  if (!Number.isFinite(t) || t < 0) throw new RelaisError('api.field_type', `field "${field}" must be an ISO time with a zone (2026-12-07T14:30:00Z) or milliseconds`, { field });
  return t;
}

function link(v: string | undefined | null, field: string): CallbackLink | null | undefined {
  if (v === undefined || v === null) return v;
  if (!CALLBACK_LINKS.includes(v as CallbackLink)) throw new RelaisError('api.field_invalid', `field "${field}" must be one of ${CALLBACK_LINKS.join(', ')}`, { field });
  return v as CallbackLink;
}

export function callbackRoutes(router: Router<ApiState>, deps: CallbackRouteDeps): void {
  const { auth, service } = deps;
  const right = auth.requireRight('callbacks');
  const queueName = (id: number): string | null => deps.queues.get(id)?.name ?? null;
  const queueId = (v: unknown): number | null => {
    if (v === null) return null;
    if (typeof v === 'number' && Number.isInteger(v) && deps.queues.get(v)) return v;
    if (typeof v === 'string') {
      const q = deps.queues.findByName(v);
      if (q) return q.id;
    }
    throw new RelaisError('callback.queue_unknown', `queue ${JSON.stringify(v)} does not exist (give its name or id)`, { field: 'queue', status: 404 });
  };

  router.get('/callbacks', right, (ctx) => {
    const q = queryParams(ctx, ['status', 'queue', 'limit']);
    if (q.status !== undefined && !CALLBACK_STATUSES.includes(q.status as CallbackStatus)) {
      throw new RelaisError('api.param_invalid', `query parameter "status" must be one of ${CALLBACK_STATUSES.join(', ')}`, { field: 'status' });
    }
    const filter: { status?: CallbackStatus; queueId?: number; limit?: number } = { limit: intParam(q.limit, 'limit', 1, 1000) ?? 200 };
    if (q.status !== undefined) filter.status = q.status as CallbackStatus;
    if (q.queue !== undefined) filter.queueId = queueId(/^\d+$/.test(q.queue) ? Number(q.queue) : q.queue)!;
    ctx.body = { callbacks: service.callbacks.list(filter).map((c) => present(c, queueName)) };
  });

  router.get('/callbacks/:id', right, (ctx) => {
    queryParams(ctx, []);
    ctx.body = present(service.callbacks.require(idParam(ctx.params.id, 'callback')), queueName);
  });

  // Manual callback: {number, queue?, dueAt? | delayMinutes?, notes?, originCallId?, linkType?}. An existing pending
  // callback for the same number and queue is returned (200) instead of a second one (201).
  router.post('/callbacks', right, async (ctx) => {
    const raw = await readJsonObject(ctx);
    const { queue, dueAt, ...rest } = raw;
    const body = fields(rest, {
      number: { type: 'string', required: true, maxLength: 64 },
      delayMinutes: { type: 'number' },
      notes: { type: 'string', maxLength: 2000 },
      originCallId: { type: 'string', maxLength: 128 },
      linkType: { type: 'string' },
    });
    if (body.delayMinutes !== undefined && (!Number.isInteger(body.delayMinutes) || body.delayMinutes < 0 || body.delayMinutes > 525_600)) {
      throw new RelaisError('api.field_invalid', 'field "delayMinutes" must be a whole number of minutes from 0', { field: 'delayMinutes' });
    }
    if (dueAt !== undefined && body.delayMinutes !== undefined) throw new RelaisError('api.field_invalid', 'give "dueAt" or "delayMinutes", not both', { field: 'dueAt' });
    const out = service.createCallback({
      number: body.number!,
      queueId: queue === undefined ? null : queueId(queue),
      ...(dueAt !== undefined ? { dueAt: time(dueAt, 'dueAt') } : {}),
      ...(body.delayMinutes !== undefined ? { delayMinutes: body.delayMinutes } : {}),
      notes: body.notes ?? '',
      originCallId: body.originCallId ?? null,
      linkType: link(body.linkType, 'linkType') ?? null,
      source: 'manual',
      createdBy: ctx.state.user!.id,
    });
    ctx.status = out.created ? 201 : 200;
    ctx.body = present(out.callback, queueName);
  });

  // Reschedule (dueAt), edit (number, notes, queue), link an origin (originCallId + linkType), or cancel (status).
  router.patch('/callbacks/:id', right, async (ctx) => {
    const id = idParam(ctx.params.id, 'callback');
    const raw = await readJsonObject(ctx);
    const { queue, dueAt, linkType, originCallId, ...rest } = raw;
    const body = fields(rest, { number: { type: 'string', maxLength: 64 }, notes: { type: 'string', maxLength: 2000 }, status: { type: 'string' } });
    if (body.status !== undefined && body.status !== 'cancelled') throw new RelaisError('api.field_invalid', 'field "status" can only be set to "cancelled"', { field: 'status' });
    if (originCallId !== undefined && originCallId !== null && typeof originCallId !== 'string') throw new RelaisError('api.field_type', 'field "originCallId" must be a string or null', { field: 'originCallId' });
    if (linkType !== undefined && linkType !== null && typeof linkType !== 'string') throw new RelaisError('api.field_type', 'field "linkType" must be a string or null', { field: 'linkType' });
    const patch: Parameters<QueueService['updateCallback']>[1] = {};
    if (body.number !== undefined) patch.number = body.number;
    if (body.notes !== undefined) patch.notes = body.notes;
    if (queue !== undefined) patch.queueId = queueId(queue);
    if (dueAt !== undefined) patch.dueAt = time(dueAt, 'dueAt');
    if (linkType !== undefined) patch.linkType = link(linkType as string | null, 'linkType');
    if (originCallId !== undefined) patch.originCallId = originCallId as string | null;
    let cb = Object.keys(patch).length ? service.updateCallback(id, patch) : service.callbacks.require(id);
    if (body.status === 'cancelled') cb = service.cancelCallback(id);
    ctx.body = present(cb, queueName);
  });

  // Cancelling keeps the callback in the history (status cancelled).
  router.delete('/callbacks/:id', right, (ctx) => {
    queryParams(ctx, []);
    ctx.body = present(service.cancelCallback(idParam(ctx.params.id, 'callback')), queueName);
  });
}
