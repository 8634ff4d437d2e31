// /api/queues: live queue state (participants, waiting callers), log in / out / pause, the closed switches,
// stats per queue and per agent, queue history (docs/api.md "Queues").
import type Router from '@koa/router';
import type { QueueRepository, User, UserRepository } from '../../directory/index.js';
import type { QueueService, QueueView } from '../../queue/index.js';
import { RelaisError, type Clock } from '../../shared/index.js';
import type { ApiContext, ApiState, Authenticator } from '../auth.js';
import { fields, idParam, intParam, queryParams, readJsonObject } from '../body.js';

export interface QueueRouteDeps {
  auth: Authenticator;
  service: QueueService;
  queues: QueueRepository;
  users: UserRepository;
  clock: Clock;
}

const DAY = 86_400_000;

export function queueRoutes(router: Router<ApiState>, deps: QueueRouteDeps): void {
  const { auth, service, users } = deps;
  const signedIn = auth.required();
  const right = auth.requireRight('queues');
  const userName = (id: number): string | null => users.get(id)?.username ?? null;

  const present = (v: QueueView) => ({
    id: v.id,
    name: v.name,
    shortNumber: v.shortNumber,
    strategy: v.strategy,
    availability: v.availability,
    participants: v.participants.map((p) => ({ user: userName(p.userId), userId: p.userId, loggedIn: p.loggedIn, paused: p.paused, pauseReason: p.pauseReason, state: p.state })),
    waiting: v.waiting.map((w) => ({
      caller: w.caller, since: new Date(w.since).toISOString(), position: w.position, kind: w.kind, callId: w.callId, callbackId: w.callbackId, ringing: w.ringing,
    })),
    connected: v.connected.map((c) => ({ caller: c.caller, user: userName(c.userId), userId: c.userId })),
  });

  const view = (id: number): QueueView => {
    const q = service.engine.queue(id);
    if (!q) {
      service.reload();
      const again = service.engine.queue(id);
      if (!again) throw new RelaisError('queue.not_found', `queue ${id} does not exist`, { status: 404, field: 'id' });
      return service.engine.view(again);
    }
    return service.engine.view(q);
  };

  const since = (ctx: ApiContext): number => {
    const q = queryParams(ctx, ['since']);
    return intParam(q.since, 'since', 0, Number.MAX_SAFE_INTEGER) ?? deps.clock.now() - DAY;
  };

  router.get('/queues', right, (ctx) => {
    queryParams(ctx, []);
    ctx.body = { queues: service.engine.views().map(present) };
  });

  // Per agent: calls, talk and pause time since `since` (ms; default the last 24 h), and their state in each queue.
  router.get('/queues/agents', right, (ctx) => {
    const from = since(ctx);
    const stats = new Map(service.agentStats(from).map((s) => [s.userId, s]));
    const byUser = new Map<number, { queue: string; queueId: number; loggedIn: boolean; paused: boolean; state: string }[]>();
    for (const v of service.engine.views()) {
      for (const p of v.participants) {
        const l = byUser.get(p.userId) ?? [];
        l.push({ queue: v.name, queueId: v.id, loggedIn: p.loggedIn, paused: p.paused, state: p.state });
        byUser.set(p.userId, l);
      }
    }
    const ids = new Set([...byUser.keys(), ...stats.keys()]);
    ctx.body = {
      since: new Date(from).toISOString(),
      agents: [...ids].sort((a, b) => a - b).map((id) => ({
        user: userName(id), userId: id, calls: stats.get(id)?.calls ?? 0, talkSeconds: Math.round((stats.get(id)?.talkMs ?? 0) / 1000),
        pauseSeconds: Math.round((stats.get(id)?.pauseMs ?? 0) / 1000), queues: byUser.get(id) ?? [],
      })),
    };
  });

  router.get('/queues/history', right, (ctx) => {
    const q = queryParams(ctx, ['since', 'limit']);
    const events = service.history.list({ since: intParam(q.since, 'since', 0, Number.MAX_SAFE_INTEGER) ?? 0, limit: intParam(q.limit, 'limit', 1, 1000) ?? 200 });
    ctx.body = { events: events.map((e) => ({ ...e, at: new Date(e.at).toISOString() })) };
  });

  router.get('/queues/:id', right, (ctx) => {
    queryParams(ctx, []);
    ctx.body = present(view(idParam(ctx.params.id, 'queue')));
  });

  router.get('/queues/:id/stats', right, (ctx) => {
    const id = idParam(ctx.params.id, 'queue');
    view(id);
    const from = since(ctx);
    const s = service.stats(id, from);
    ctx.body = {
      queueId: id, since: new Date(from).toISOString(), waiting: s.waiting, longestWaitSeconds: Math.round(s.longestWaitMs / 1000), answered: s.answered, abandoned: s.abandoned,
      timedOut: s.timedOut, serviceLevel: s.serviceLevel, serviceLevelSeconds: service.engine.queue(id)?.serviceLevelSeconds ?? 20,
      averageWaitSeconds: s.averageWaitMs === null ? null : Math.round(s.averageWaitMs / 100) / 10,
      averageTalkSeconds: s.averageTalkMs === null ? null : Math.round(s.averageTalkMs / 100) / 10,
    };
  });

  // The closed switch and exceptional closure (opening hours and the rest of a queue are site configuration).
  router.patch('/queues/:id', right, async (ctx) => {
    const id = idParam(ctx.params.id, 'queue');
    const body = fields(await readJsonObject(ctx), { closed: { type: 'boolean' }, exceptionalClosure: { type: 'boolean' } });
    if (!deps.queues.get(id)) throw new RelaisError('queue.not_found', `queue ${id} does not exist`, { status: 404, field: 'id' });
    const patch: { closed?: boolean; exceptionalClosure?: boolean } = {};
    if (body.closed !== undefined) patch.closed = body.closed;
    if (body.exceptionalClosure !== undefined) patch.exceptionalClosure = body.exceptionalClosure;
    deps.queues.update(id, patch);
    service.reload();
    ctx.body = present(view(id));
  });

  /**
   * Log in / out / pause / resume a participant: oneself without any right (an agent at their desk), anyone with
   * the `queues` right. Body: `{"user"?: NAME, "reason"?: TEXT}`.
   */
  const participantAction = (action: 'login' | 'logout' | 'pause' | 'unpause') =>
    router.post(`/queues/:id/${action}`, signedIn, async (ctx) => {
      const id = idParam(ctx.params.id, 'queue');
      const raw = ctx.request.length ? await readJsonObject(ctx) : {};
      const body = fields(raw, { user: { type: 'string', maxLength: 64 }, reason: { type: 'string', maxLength: 200 } });
      const me = ctx.state.user!;
      let who: User = me;
      if (body.user !== undefined && body.user !== me.username) {
        if (!auth.hasRight(me, 'queues')) throw new RelaisError('auth.forbidden', `user "${me.username}" does not have the "queues" right`, { status: 403 });
        const u = users.findByUsername(body.user);
        if (!u) throw new RelaisError('user.not_found', `user "${body.user}" does not exist`, { status: 404, field: 'user' });
        who = u;
      }
      view(id);
      if (body.reason !== undefined && action !== 'pause') throw new RelaisError('api.field_unknown', `field "reason" only applies to pause`, { field: 'reason' });
      if (action === 'login' || action === 'logout') service.setLoggedIn(id, who.id, action === 'login');
      else service.setPaused(who.id, action === 'pause', body.reason ?? null, id);
      ctx.body = present(view(id));
    });
  participantAction('login');
  participantAction('logout');
  participantAction('pause');
  participantAction('unpause');
}
