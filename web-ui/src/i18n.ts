// French, English and Spanish: the user's choice, else the browser's; dates in the site's time zone.
import { en } from './i18n-en.js';

export type Language = 'fr' | 'en' | 'es';
export type Messages = typeof en;
export type MessageKey = keyof Messages;

const loaded: Partial<Record<Language, Messages>> = { en };
let current: Language = 'en';
let timeZone: string | undefined;

export function browserLanguage(): Language {
  for (const l of navigator.languages ?? [navigator.language]) {
    const p = l.slice(0, 2).toLowerCase();
    if (p === 'fr' || p === 'es' || p === 'en') return p;
  }
  return 'en';
}

/** Loads a language's messages (French and Spanish are separate chunks). */
export async function setLanguage(lang: string): Promise<Language> {
  const l: Language = lang === 'fr' || lang === 'es' ? lang : 'en';
  if (!loaded[l]) loaded[l] = l === 'fr' ? (await import('./i18n-fr.js')).fr : (await import('./i18n-es.js')).es;
  current = l;
  document.documentElement.lang = l;
  return l;
}

export function language(): Language {
  return current;
}

export function setTimeZone(tz: string | undefined): void {
  timeZone = tz;
}

export function t(key: MessageKey, vars: Record<string, string | number> = {}): string {
  const s = loaded[current]?.[key] ?? en[key];
  return s.replace(/\{(\w+)\}/g, (_, k: string) => String(vars[k] ?? `{${k}}`));
}

const locale = (): string => ({ fr: 'fr-FR', en: 'en-GB', es: 'es-ES' })[current];

export function formatDateTime(ms: number | null | undefined): string {
  if (!ms) return '—';
  return new Intl.DateTimeFormat(locale(), { dateStyle: 'short', timeStyle: 'medium', ...(timeZone ? { timeZone } : {}) }).format(ms);
}

export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

/** Days, hours and minutes (a box's uptime). */
export function formatUptime(seconds: number): string {
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const unit = { fr: ['j', 'h', 'min'], en: ['d', 'h', 'min'], es: ['d', 'h', 'min'] }[current];
  return d > 0 ? `${d} ${unit[0]} ${h} ${unit[1]}` : h > 0 ? `${h} ${unit[1]} ${m} ${unit[2]}` : `${m} ${unit[2]}`;
}

export function formatBytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 && i > 0 ? 1 : 0)} ${units[i]}`;
}
