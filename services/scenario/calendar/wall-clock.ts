// The wall clock of an instant in an IANA time zone (date, time of day, weekday), DST included, via Intl.
export const WEEKDAY_NAMES = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type WeekdayName = (typeof WEEKDAY_NAMES)[number];

export interface WallClock {
  /** YYYY-MM-DD */
  date: string;
  /** HH:MM, 00:00-23:59 */
  hm: string;
  weekday: WeekdayName;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
const pad = (n: number): string => String(n).padStart(2, '0');

/** True when the IANA time zone name is known to this runtime (e.g. Europe/Paris). */
export function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/**
 * What a wall clock in `timeZone` shows at this instant (the process's own zone without one). On the spring-forward
 * night the skipped hour never shows; on the fall-back night the repeated hour shows twice: conditions written in
 * wall-clock time follow what people in the office see.
 */
export function wallClock(at: Date, timeZone?: string): WallClock {
  if (timeZone === undefined) {
    return {
      date: `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())}`,
      hm: `${pad(at.getHours())}:${pad(at.getMinutes())}`,
      weekday: WEEKDAY_NAMES[(at.getDay() + 6) % 7]!,
    };
  }
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      weekday: 'short',
    });
    formatters.set(timeZone, f);
  }
  const parts: Record<string, string> = {};
  for (const p of f.formatToParts(at)) parts[p.type] = p.value;
  return {
    date: `${parts.year}-${parts.month}-${parts.day}`,
    hm: `${parts.hour}:${parts.minute}`,
    weekday: parts.weekday!.toLowerCase().slice(0, 3) as WeekdayName,
  };
}

/** The instant a wall-clock time YYYY-MM-DDTHH:MM shows in a zone (the first one on a fall-back night; the moment after the gap on a spring-forward night). */
export function instantOf(local: string, timeZone?: string): Date {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})$/.exec(local);
  if (!m) throw new Error(`not a local time YYYY-MM-DDTHH:MM: ${local}`);
  const [y, mo, d, h, mi] = m.slice(1).map(Number) as [number, number, number, number, number];
  if (timeZone === undefined) return new Date(y, mo - 1, d, h, mi);
  const asUtc = Date.UTC(y, mo - 1, d, h, mi);
  // Offset of the zone near that time, tried at both sides of a possible change; the earliest matching instant wins.
  const offsetAt = (t: number): number => {
    const w = wallClock(new Date(t), timeZone);
    const [wy, wmo, wd] = w.date.split('-').map(Number) as [number, number, number];
    const [wh, wmi] = w.hm.split(':').map(Number) as [number, number];
    return Date.UTC(wy, wmo - 1, wd, wh, wmi) - Math.floor(t / 60_000) * 60_000;
  };
  const candidates = [offsetAt(asUtc - 86_400_000), offsetAt(asUtc + 86_400_000)].map((o) => asUtc - o).sort((a, b) => a - b);
  for (const t of candidates) {
    const w = wallClock(new Date(t), timeZone);
    if (`${w.date}T${w.hm}` === local) return new Date(t);
  }
  // In the spring-forward gap: the wall clock never shows it; take the later offset's reading (after the jump).
  return new Date(candidates[0]!);
}

/** Weekday of a calendar date (YYYY-MM-DD), independent of any zone. */
export function weekdayOf(date: string): WeekdayName {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return WEEKDAY_NAMES[(new Date(Date.UTC(y, m - 1, d)).getUTCDay() + 6) % 7]!;
}

/** True when YYYY-MM-DD names a day of the calendar (no 2026-02-30, 2025-02-29). */
export function isRealDate(date: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const t = new Date(Date.UTC(y, mo - 1, d));
  return t.getUTCFullYear() === y && t.getUTCMonth() === mo - 1 && t.getUTCDate() === d;
}

/** YYYY-MM-DD plus n days. */
export function addDays(date: string, n: number): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const t = new Date(Date.UTC(y, m - 1, d + n));
  return `${t.getUTCFullYear()}-${pad(t.getUTCMonth() + 1)}-${pad(t.getUTCDate())}`;
}

export function ymd(y: number, m: number, d: number): string {
  const t = new Date(Date.UTC(y, m - 1, d));
  return `${t.getUTCFullYear()}-${pad(t.getUTCMonth() + 1)}-${pad(t.getUTCDate())}`;
}
