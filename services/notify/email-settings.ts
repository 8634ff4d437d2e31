// E-mail notification settings (docs/console.md "Notifications"): the office's own SMTP server and who gets what,
// kept as one site setting and read at every send (a change applies to the next notification, no restart).
import { z } from 'zod';
import type { SettingsRepository } from '../directory/index.js';

export const EMAIL_SETTINGS_KEY = 'notify.email';
export const NOTIFY_KINDS = ['voicemail', 'missed', 'callback', 'alert'] as const;
export type NotifyKind = (typeof NOTIFY_KINDS)[number];

const address = z.string().trim().max(254).regex(/^[^\s@<>]+@[^\s@<>]+$/, 'is not an e-mail address');

/** What an administrator sends (PUT /api/notifications/email); the password is write-only. */
export const emailSettingsSchema = z.strictObject({
  enabled: z.boolean(),
  host: z.string().trim().max(253).regex(/^[A-Za-z0-9.:[\]-]*$/, 'is not a host name or address'),
  port: z.number().int().min(1).max(65535),
  /** none: plain SMTP (a LAN relay); starttls: upgrade required; tls: implicit TLS (465). */
  security: z.enum(['none', 'starttls', 'tls']),
  user: z.string().max(254),
  /** Omitted: keep the stored one; "" clears it. */
  password: z.string().max(1024).optional(),
  from: address,
  /** The site's recipients (every notification of the chosen kinds). */
  to: z.array(address).max(20),
  /** Also the mailbox owner (the user of the extension, the users of the number) for their voicemail. */
  mailboxOwners: z.boolean(),
  kinds: z.array(z.enum(NOTIFY_KINDS)).max(NOTIFY_KINDS.length),
});

export type EmailSettingsInput = z.output<typeof emailSettingsSchema>;
export type EmailSettings = Omit<EmailSettingsInput, 'password'> & { password: string };

export const DEFAULT_EMAIL_SETTINGS: EmailSettings = {
  enabled: false,
  host: '',
  port: 587,
  security: 'starttls',
  user: '',
  password: '',
  from: 'relais@localhost',
  to: [],
  mailboxOwners: true,
  kinds: ['voicemail', 'alert'],
};

export function readEmailSettings(settings: SettingsRepository): EmailSettings {
  const stored = settings.getJson<Partial<EmailSettings>>(EMAIL_SETTINGS_KEY) ?? {};
  return { ...DEFAULT_EMAIL_SETTINGS, ...stored };
}

/** Stores new settings; a missing password keeps the one stored. */
export function writeEmailSettings(settings: SettingsRepository, input: EmailSettingsInput): EmailSettings {
  const current = readEmailSettings(settings);
  const next: EmailSettings = { ...input, password: input.password ?? current.password };
  settings.setJson(EMAIL_SETTINGS_KEY, next);
  return next;
}

/** What the API shows: everything but the password (whether one is set). */
export function publicEmailSettings(s: EmailSettings): Omit<EmailSettings, 'password'> & { hasPassword: boolean } {
  const { password, ...rest } = s;
  return { ...rest, hasPassword: password !== '' };
}
