// /provisioning/<file>: phones fetch their config files here (HTTP on the console port, HTTPS with the box's
// certificate); /provisioning/auth/<file> asks for the phone's own digest credentials first (docs/provisioning.md).
import type Router from '@koa/router';
import type { ProvisioningService } from '../../provisioning/index.js';
import { RelaisError, type Clock } from '../../shared/index.js';
import { DigestServer } from '../../sip/index.js';
import type { ApiContext, ApiState } from '../auth.js';

export interface ProvisioningFileDeps {
  service: ProvisioningService;
  clock: Clock;
  /** Digest realm of the device credentials (the SIP domain). */
  realm: string;
}

export function provisioningFileRoutes(router: Router<ApiState>, deps: ProvisioningFileDeps): void {
  const digest = new DigestServer({ realm: deps.realm, clock: deps.clock });

  const send = (ctx: ApiContext, file: string, authenticated: boolean): void => {
    const r = deps.service.serve({
      name: file,
      via: ctx.secure ? 'https' : 'http',
      ip: ctx.request.ip.replace(/^::ffff:/, ''),
      userAgent: ctx.get('user-agent') || undefined,
      host: ctx.hostname || undefined,
      authenticated,
    });
    if (r.status !== 200) throw new RelaisError(r.code, r.message, { status: r.status });
    ctx.set('Cache-Control', 'no-store');
    ctx.type = r.contentType;
    ctx.body = r.body;
  };

  router.get('/provisioning/:file', (ctx) => send(ctx, ctx.params.file ?? '', false));

  router.get('/provisioning/auth/:file', (ctx) => {
    const file = ctx.params.file ?? '';
    const source = ctx.request.ip.replace(/^::ffff:/, '');
    const verdict = digest.verify({
      source,
      authorization: ctx.get('authorization') ? [ctx.get('authorization')] : [],
      method: ctx.method === 'HEAD' ? 'GET' : ctx.method,
      requestUri: ctx.originalUrl,
      account: (username) => {
        const ha1 = deps.service.deviceHa1(username, deps.realm);
        return ha1 ? { ha1Md5: ha1, algorithms: 'MD5' } : undefined;
      },
    });
    if (!verdict.ok) {
      ctx.set('WWW-Authenticate', digest.challenge('MD5', verdict.stale, source)[0]!);
      const why = verdict.reason === 'missing' ? 'this path needs the phone\'s device credentials (HTTP digest, user name = its MAC)' : verdict.detail;
      throw new RelaisError('provisioning.credentials', why, { status: 401 });
    }
    // A phone's credentials open its own files (and the vendors' common files, which name no MAC) only.
    const mac = /([0-9a-f]{12})/i.exec(file)?.[1]?.toLowerCase();
    if (mac && mac !== '000000000000' && mac !== verdict.username.toLowerCase()) {
      throw new RelaisError('provisioning.credentials_other_phone', `the credentials of ${verdict.username} do not open ${file.slice(0, 80)}`, { status: 403 });
    }
    send(ctx, file, true);
  });
}
