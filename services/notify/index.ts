// Notifications outside the console: e-mail through the office's SMTP server (settings, the notifier).
export { EmailNotifier, type EmailNotifierDeps, type Mail } from './email-notifier.js';
export {
  EMAIL_SETTINGS_KEY,
  NOTIFY_KINDS,
  DEFAULT_EMAIL_SETTINGS,
  emailSettingsSchema,
  readEmailSettings,
  writeEmailSettings,
  publicEmailSettings,
  type EmailSettings,
  type EmailSettingsInput,
  type NotifyKind,
} from './email-settings.js';
