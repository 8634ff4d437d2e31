// /api/settings: the office's settings (language, country, time zone, name) — read by every user, changed with the
// "settings" right; stored as site settings, read by the modules at each use.
import type Router from '@koa/router';
import { z } from 'zod';
import type { SettingsRepository } from '../../directory/index.js';
import type { ApiState, Authenticator } from '../auth.js';
import { readInput, readQuery, schemas } from '../validate.js';

export const COUNTRIES = ['FR', 'US', 'UK', 'ES'] as const;

export interface SiteSettings {
  name: string;
  language: 'fr' | 'en' | 'es';
  country: (typeof COUNTRIES)[number];
  /** IANA time zone; null: the box's own. */
  timezone: string | null;
  /** Plain HTTP console requests redirected to HTTPS (site setting https_redirect; docs/security.md). */
  httpsRedirect: boolean;
}

function validTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

const patchSchema = z
  .strictObject({
    name: z.string().trim().max(100),
    language: schemas.language,
    country: z.enum(COUNTRIES),
    timezone: z.string().max(64).refine(validTimeZone, 'is not an IANA time zone such as Europe/Paris').nullable(),
    httpsRedirect: z.boolean(),
  })
  .partial();

/** API names of settings whose site-file name differs. */
const SITE_KEY: Record<string, string> = { httpsRedirect: 'https_redirect' };

export function readSiteSettings(settings: SettingsRepository): SiteSettings {
  const lang = settings.site<string>('language');
  const country = settings.site<string>('country');
  const tz = settings.site<string>('timezone');
  return {
    name: settings.site<string>('name') ?? '',
    language: lang === 'fr' || lang === 'es' ? lang : 'en',
    country: (COUNTRIES as readonly string[]).includes(country ?? '') ? (country as SiteSettings['country']) : 'FR',
    timezone: tz && validTimeZone(tz) ? tz : null,
    httpsRedirect: settings.site<boolean>('https_redirect') === true,
  };
}

export function settingsRoutes(router: Router<ApiState>, auth: Authenticator, settings: SettingsRepository): void {
  router.get('/settings', auth.required(), (ctx) => {
    readQuery(ctx, z.strictObject({}));
    const s = readSiteSettings(settings);
    ctx.body = { settings: { ...s, effectiveTimezone: s.timezone ?? Intl.DateTimeFormat().resolvedOptions().timeZone } };
  });

  router.patch('/settings', auth.requireRight('settings'), async (ctx) => {
    const body = await readInput(ctx, patchSchema);
    for (const [k, v] of Object.entries(body)) {
      const key = SITE_KEY[k] ?? k;
      if (v === null) settings.delete(`site.${key}`);
      else settings.setJson(`site.${key}`, v);
    }
    const s = readSiteSettings(settings);
    ctx.body = { settings: { ...s, effectiveTimezone: s.timezone ?? Intl.DateTimeFormat().resolvedOptions().timeZone } };
  });
}
