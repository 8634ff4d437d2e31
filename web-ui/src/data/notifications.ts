// /api/notifications/email: e-mail notifications through the office's SMTP server (administrators).
import { get, request } from './api.js';

export type NotifyKind = 'voicemail' | 'missed' | 'callback' | 'alert';
export const NOTIFY_KINDS: readonly NotifyKind[] = ['voicemail', 'missed', 'callback', 'alert'];

export interface EmailSettings {
  enabled: boolean;
  host: string;
  port: number;
  security: 'none' | 'starttls' | 'tls';
  user: string;
  from: string;
  to: string[];
  mailboxOwners: boolean;
  kinds: NotifyKind[];
  hasPassword: boolean;
}

export type EmailSettingsInput = Omit<EmailSettings, 'hasPassword'> & { password?: string };

export const getEmailSettings = async (): Promise<EmailSettings> => (await get<{ email: EmailSettings }>('/notifications/email')).email;
export const saveEmailSettings = async (s: EmailSettingsInput): Promise<EmailSettings> => (await request<{ email: EmailSettings }>('PUT', '/notifications/email', s)).email;
export const sendTestEmail = (): Promise<{ sent: boolean; to: string[] }> => request('POST', '/notifications/email/test');
