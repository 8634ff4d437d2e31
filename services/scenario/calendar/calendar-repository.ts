// Storage of the calendar: the site's own holiday dates (table holidays) and the manual override (a setting that
// a site import never touches: it is the office's current state, not its configuration).
import type { Database } from 'better-sqlite3';
import { prepared } from '../../directory/prepared.js';
import type { Holiday } from './holidays.js';
import type { OverrideMode } from './condition.js';

export interface OverrideState {
  mode: OverrideMode;
  /** When it was set (ms since the epoch); null when never set. */
  since: number | null;
  /** Who set it: a username, `phone:<extension>` or null. */
  by: string | null;
}

const OVERRIDE_KEY = 'calendar.override';

export class CalendarRepository {
  constructor(private readonly db: Database) {}

  customHolidays(): Holiday[] {
    return prepared(this.db, 'SELECT date, name FROM holidays ORDER BY date').all() as Holiday[];
  }

  /** Adds or renames one date. */
  putHoliday(h: Holiday): void {
    prepared(this.db, 'INSERT INTO holidays (date, name) VALUES (?, ?) ON CONFLICT (date) DO UPDATE SET name = excluded.name').run(h.date, h.name);
  }

  /** True when the date was there. */
  deleteHoliday(date: string): boolean {
    return prepared(this.db, 'DELETE FROM holidays WHERE date = ?').run(date).changes > 0;
  }

  /** Replaces every date (site import). */
  replaceHolidays(list: readonly Holiday[]): void {
    prepared(this.db, 'DELETE FROM holidays').run();
    for (const h of list) this.putHoliday(h);
  }

  override(): OverrideState {
    const row = prepared(this.db, 'SELECT value FROM settings WHERE key = ?').get(OVERRIDE_KEY) as { value: string } | undefined;
    if (!row) return { mode: 'auto', since: null, by: null };
    try {
      const v = JSON.parse(row.value) as Partial<OverrideState>;
      const mode = v.mode === 'day' || v.mode === 'night' || v.mode === 'holiday' ? v.mode : 'auto';
      return { mode, since: typeof v.since === 'number' ? v.since : null, by: typeof v.by === 'string' ? v.by : null };
    } catch {
      return { mode: 'auto', since: null, by: null };
    }
  }

  setOverride(state: OverrideState): void {
    prepared(this.db, 'INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(OVERRIDE_KEY, JSON.stringify(state));
  }

  /** A site setting from the site file's settings section (stored as JSON under `site.`). */
  siteSetting(key: string): string | undefined {
    const row = prepared(this.db, 'SELECT value FROM settings WHERE key = ?').get(`site.${key}`) as { value: string } | undefined;
    if (!row) return undefined;
    try {
      const v: unknown = JSON.parse(row.value);
      return typeof v === 'string' ? v : undefined;
    } catch {
      return undefined;
    }
  }
}
