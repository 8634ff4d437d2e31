// A site's IANA time zone as phones want it: the standard UTC offset and whether daylight saving applies.

function offsetAt(timeZone: string, at: Date): number {
  const part = new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'longOffset' }).formatToParts(at).find((p) => p.type === 'timeZoneName');
  const m = /GMT(?:([+-])(\d{2}):?(\d{2})?)?/.exec(part?.value ?? 'GMT');
  if (!m || !m[1]) return 0;
  const minutes = Number(m[2]) * 60 + Number(m[3] ?? 0);
  return m[1] === '-' ? -minutes : minutes;
}

/** Standard offset (minutes east of UTC) of `timeZone` in the year of `now`, and whether it has summer time. */
export function zoneOffsets(timeZone: string, now: number): { offsetMinutes: number; dst: boolean } {
  const year = new Date(now).getUTCFullYear();
  let jan: number;
  let jul: number;
  try {
    jan = offsetAt(timeZone, new Date(Date.UTC(year, 0, 1)));
    jul = offsetAt(timeZone, new Date(Date.UTC(year, 6, 1)));
  } catch {
    return { offsetMinutes: 0, dst: false };
  }
  return { offsetMinutes: Math.min(jan, jul), dst: jan !== jul };
}

/** POSIX TZ strings (Grandstream custom zone) of the zones offices here use; others get a fixed offset. */
const POSIX: Record<string, string> = {
  'Europe/Paris': 'CET-1CEST-2,M3.5.0/02:00:00,M10.5.0/03:00:00',
  'Europe/Madrid': 'CET-1CEST-2,M3.5.0/02:00:00,M10.5.0/03:00:00',
  'Europe/Brussels': 'CET-1CEST-2,M3.5.0/02:00:00,M10.5.0/03:00:00',
  'Europe/Berlin': 'CET-1CEST-2,M3.5.0/02:00:00,M10.5.0/03:00:00',
  'Europe/London': 'GMT0BST-1,M3.5.0/01:00:00,M10.5.0/02:00:00',
  'America/New_York': 'EST5EDT,M3.2.0/02:00:00,M11.1.0/02:00:00',
  UTC: 'UTC0',
};

export function posixZone(timeZone: string, offsetMinutes: number): string {
  const known = POSIX[timeZone];
  if (known) return known;
  // POSIX counts west of UTC as positive.
  const m = -offsetMinutes;
  const h = Math.trunc(m / 60);
  const rest = Math.abs(m % 60);
  return `UTC${h}${rest ? `:${String(rest).padStart(2, '0')}` : ''}`;
}
