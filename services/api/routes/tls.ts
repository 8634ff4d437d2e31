// /api/tls/certificate: the box's TLS certificate (console HTTPS, phone provisioning, later SIP TLS): see it, upload
// a certificate + key (checked: PEM, key matches), or make a new self-signed one. Administrators only.
import type Router from '@koa/router';
import type { BoxCertificate } from '../../shared/index.js';
import { RelaisError } from '../../shared/index.js';
import type { ApiState, Authenticator } from '../auth.js';
import { fields, queryParams, readJsonObject } from '../body.js';

export function tlsRoutes(router: Router<ApiState>, auth: Authenticator, certificate: BoxCertificate): void {
  const admin = auth.requireAdmin();

  router.get('/tls/certificate', admin, (ctx) => {
    queryParams(ctx, []);
    if (!certificate.exists()) throw new RelaisError('tls.none', 'the box has no certificate yet (HTTPS is off)', { status: 404 });
    ctx.body = certificate.info();
  });

  router.put('/tls/certificate', admin, async (ctx) => {
    const body = fields(await readJsonObject(ctx), { certificate: { type: 'string', required: true }, key: { type: 'string', required: true } });
    ctx.body = certificate.replace(body.certificate!, body.key!);
  });

  router.post('/tls/certificate/regenerate', admin, async (ctx) => {
    queryParams(ctx, []);
    ctx.body = await certificate.regenerate();
  });
}
