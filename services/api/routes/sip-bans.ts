// /api/sip/bans: addresses banned for repeated failed SIP authentication (AuthGuard); an administrator lifts a ban.
import type Router from '@koa/router';
import type { AuthGuard } from '../../sip/index.js';
import { RelaisError } from '../../shared/index.js';
import type { ApiState, Authenticator } from '../auth.js';
import { queryParams } from '../body.js';

/** An IPv4 or IPv6 address as the transport reports it (no ports, no names). */
const ADDRESS_RE = /^(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f:.]{2,45})$/;

export function sipBanRoutes(router: Router<ApiState>, auth: Authenticator, guard: AuthGuard): void {
  const admin = auth.required();
  const onlyAdmins = async (ctx: { state: ApiState }, next: () => Promise<unknown>): Promise<void> => {
    const user = ctx.state.user!;
    if (user.role !== 'admin') throw new RelaisError('auth.forbidden', `user "${user.username}" is not an administrator`, { status: 403 });
    await next();
  };

  router.get('/sip/bans', admin, onlyAdmins, (ctx) => {
    queryParams(ctx, []);
    ctx.body = { bans: guard.bans(), banAfter: guard.maxFailures, windowSeconds: guard.windowMs / 1000, banSeconds: guard.banMs / 1000 };
  });

  router.delete('/sip/bans/:address', admin, onlyAdmins, (ctx) => {
    queryParams(ctx, []);
    const address = ctx.params.address ?? '';
    if (!ADDRESS_RE.test(address)) throw new RelaisError('api.address_invalid', `"${address.slice(0, 60)}" is not an IP address`, { field: 'address' });
    if (!guard.unban(address)) throw new RelaisError('ban.not_found', `${address} is not banned`, { status: 404 });
    ctx.status = 204;
  });
}
