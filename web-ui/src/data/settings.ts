// /api/settings: the office's name, language, country and time zone.
import { get, request } from './api.js';

export interface SiteSettings {
  name: string;
  language: 'fr' | 'en' | 'es';
  country: 'FR' | 'US' | 'UK' | 'ES';
  timezone: string | null;
  /** Plain HTTP redirected to the HTTPS port (off by default). */
  httpsRedirect: boolean;
  effectiveTimezone: string;
}

export const getSettings = async (): Promise<SiteSettings> => (await get<{ settings: SiteSettings }>('/settings')).settings;
export const updateSettings = async (s: Partial<Omit<SiteSettings, 'effectiveTimezone'>>): Promise<SiteSettings> => (await request<{ settings: SiteSettings }>('PATCH', '/settings', s)).settings;
