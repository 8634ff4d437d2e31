// /api/sip/bans: SIP address bans and extension locks (AuthGuard) listed and lifted by administrators, and the
// security events they leave (/api/sip/security-events). Technician's view: docs/security.md.
import type Router from '@koa/router';
import type { AuthGuard, BanRepository } from '../../sip/index.js';
import { RelaisError, parseNetwork } from '../../shared/index.js';
import type { ApiState, Authenticator } from '../auth.js';
import { intParam, queryParams } from '../body.js';

export function sipBanRoutes(router: Router<ApiState>, auth: Authenticator, guard: AuthGuard, repo?: BanRepository): void {
  const admin = auth.requireAdmin();

  router.get('/sip/bans', admin, (ctx) => {
    queryParams(ctx, []);
    ctx.body = {
      bans: guard.bans().map((b) => ({ ...b, until: new Date(b.until).toISOString() })),
      banAfter: guard.maxFailures,
      allowedBanAfter: guard.allowedMaxFailures,
      allowList: guard.allowList(),
      windowSeconds: guard.windowMs / 1000,
      banSeconds: guard.banMs / 1000,
    };
  });

  // DELETE /sip/bans/ADDRESS lifts the address ban and the extension locks there; ?user=NAME only that lock.
  router.delete('/sip/bans/:address', admin, (ctx) => {
    const { user } = queryParams(ctx, ['user']);
    const address = ctx.params.address ?? '';
    const net = parseNetwork(address);
    if (!net || net.prefix !== (net.family === 'ipv4' ? 32 : 128)) {
      throw new RelaisError('api.address_invalid', `"${address.slice(0, 60)}" is not an IP address`, { field: 'address' });
    }
    if (guard.lift(net.address, user).length === 0) {
      throw new RelaisError('ban.not_found', `${address}${user !== undefined ? ` (extension ${user.slice(0, 40)})` : ''} is not banned`, { status: 404 });
    }
    ctx.status = 204;
  });

  if (repo) {
    router.get('/sip/security-events', admin, (ctx) => {
      const q = queryParams(ctx, ['limit']);
      ctx.body = { events: repo.events(intParam(q.limit, 'limit', 1, 1000) ?? 100).map((e) => ({ ...e, at: new Date(e.at).toISOString() })) };
    });
  }
}
