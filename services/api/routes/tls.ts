// /api/tls/certificate: the box's TLS certificate (console HTTPS, phone provisioning, later SIP TLS): see it, upload
// a certificate + key (checked: PEM, key matches), or make a new self-signed one. Administrators only.
import type Router from '@koa/router';
import type { BoxCertificate } from '../../shared/index.js';
import { RelaisError } from '../../shared/index.js';
import type { ApiState, Authenticator } from '../auth.js';
import { z } from 'zod';
import { queryParams, readJsonObject } from '../body.js';
import { parse } from '../validate.js';

export function tlsRoutes(router: Router<ApiState>, auth: Authenticator, certificate: BoxCertificate): void {
  const admin = auth.requireAdmin();

  router.get('/tls/certificate', admin, (ctx) => {
    queryParams(ctx, []);
    if (!certificate.exists()) throw new RelaisError('tls.none', 'the box has no certificate yet (HTTPS is off)', { status: 404 });
    ctx.body = certificate.info();
  });

  router.put('/tls/certificate', admin, async (ctx) => {
    // parse, not readInput: the private key must not reach the audit log.
    const body = parse(z.strictObject({ certificate: z.string(), key: z.string() }), await readJsonObject(ctx));
    const info = certificate.replace(body.certificate, body.key);
    ctx.state.audit = { detail: { subject: info.subject, fingerprint256: info.fingerprint256 }, ...ctx.state.audit };
    ctx.body = info;
  });

  router.post('/tls/certificate/regenerate', admin, async (ctx) => {
    queryParams(ctx, []);
    ctx.body = await certificate.regenerate();
  });
}
