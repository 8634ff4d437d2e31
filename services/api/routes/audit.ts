// /api/audit: the audit log of API changes, newest first, paged by id (administrators).
import type Router from '@koa/router';
import { z } from 'zod';
import type { AuditLog } from '../../audit/index.js';
import type { ApiState, Authenticator } from '../auth.js';
import { readQuery } from '../validate.js';

const query = z.strictObject({
  limit: z.coerce.number().int().min(1).max(500).default(100),
  before: z.coerce.number().int().min(1).optional(),
  userId: z.coerce.number().int().min(1).optional(),
  resource: z.string().max(64).optional(),
});

export function auditRoutes(router: Router<ApiState>, auth: Authenticator, log: AuditLog): void {
  router.get('/audit', auth.requireAdmin(), (ctx) => {
    const q = readQuery(ctx, query);
    const entries = log.list(q);
    const last = entries.at(-1);
    const next = entries.length === q.limit && last ? `/api/audit?${new URLSearchParams({ ...(q.resource ? { resource: q.resource } : {}), ...(q.userId ? { userId: String(q.userId) } : {}), limit: String(q.limit), before: String(last.id) })}` : null;
    ctx.body = { entries, next };
  });
}
