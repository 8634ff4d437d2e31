// /api/notifications/email: the office's SMTP server and who gets which notification (administrators); a test send.
import type Router from '@koa/router';
import type { SettingsRepository } from '../../directory/index.js';
import { EmailNotifier, emailSettingsSchema, publicEmailSettings, readEmailSettings, writeEmailSettings } from '../../notify/index.js';
import { RelaisError, errorMessage } from '../../shared/index.js';
import type { ApiState, Authenticator } from '../auth.js';
import { queryParams } from '../body.js';
import { readInput } from '../validate.js';

export interface NotificationRouteDeps {
  auth: Authenticator;
  settings: SettingsRepository;
  notifier: EmailNotifier;
}

export function notificationRoutes(router: Router<ApiState>, d: NotificationRouteDeps): void {
  const admin = d.auth.requireAdmin();

  router.get('/notifications/email', admin, (ctx) => {
    queryParams(ctx, []);
    ctx.body = { email: publicEmailSettings(readEmailSettings(d.settings)), status: d.notifier.status() };
  });

  // Applies to the next notification (read at each send). The password is never echoed, nor kept in the audit log.
  router.put('/notifications/email', admin, async (ctx) => {
    const body = await readInput(ctx, emailSettingsSchema);
    if (body.enabled && !body.host) throw new RelaisError('api.field_missing', 'give the SMTP server ("host") to turn e-mail on', { field: 'host' });
    ctx.body = { email: publicEmailSettings(writeEmailSettings(d.settings, body)) };
  });

  // Sends one test message with the stored settings, to the site's recipients; the SMTP server's error when it fails.
  router.post('/notifications/email/test', admin, async (ctx) => {
    queryParams(ctx, []);
    const s = readEmailSettings(d.settings);
    if (!s.host) throw new RelaisError('notify.not_configured', 'set the SMTP server first', { field: 'host', status: 409 });
    if (s.to.length === 0) throw new RelaisError('notify.no_recipient', 'add a recipient ("to") first', { field: 'to', status: 409 });
    try {
      await d.notifier.send({ kind: 'alert', subject: 'Relais: test e-mail', text: 'E-mail notifications from this box work.\n', owners: [] }, { ...s, enabled: true, kinds: ['alert'] });
    } catch (err) {
      throw new RelaisError('notify.smtp_failed', `the SMTP server ${s.host}:${s.port} refused or did not answer: ${errorMessage(err)}`, { status: 502, field: 'host' });
    }
    ctx.body = { sent: true, to: s.to };
  });
}
