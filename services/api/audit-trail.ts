// Every change made through the API (any method but GET/HEAD/OPTIONS that succeeded) is written to the audit log and
// announced on the event bus as config.changed, so open consoles refresh what changed.
import type Koa from 'koa';
import type { AuditLog } from '../audit/index.js';
import type { EventBus } from '../events/index.js';
import type { Logger } from '../shared/index.js';
import { errorMessage } from '../shared/index.js';
import { isSafeMethod, type ApiState } from './auth.js';

export function auditTrail(log: AuditLog, bus: EventBus | undefined, logger: Logger): Koa.Middleware<ApiState> {
  return async (ctx, next) => {
    if (isSafeMethod(ctx.method) || !ctx.path.startsWith('/api/')) return next();
    await next();
    if (ctx.status >= 400) return;
    const a = ctx.state.audit ?? {};
    const segments = ctx.path.slice('/api/'.length).split('/');
    const resource = a.resource ?? segments[0] ?? '';
    const params = (ctx as { params?: Record<string, string> }).params ?? {};
    const target = a.target ?? params.id ?? params.name ?? params.address ?? null;
    const user = a.user ?? ctx.state.user;
    const action = a.action ?? `${ctx.method} ${ctx.path}`;
    try {
      log.record({
        userId: user?.id ?? null,
        username: user?.username ?? null,
        source: ctx.ip || '',
        action,
        resource,
        target: target === null ? null : String(target),
        status: ctx.status,
        detail: a.detail ?? {},
      });
    } catch (err) {
      // The change is made; a full disk must not turn it into an error the user would retry.
      logger.error('audit log entry not written', { action, error: errorMessage(err) });
    }
    if (resource !== 'session' && resource !== 'tokens') {
      bus?.publish('config.changed', { resource, id: target === null ? null : String(target), action, by: user?.username ?? null });
    }
  };
}
