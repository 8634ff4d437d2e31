// The site's calendar as the interpreter and queues see it: conditions judged in the site's zone, with its holidays
// and the manual override (ConditionEvaluator), and the override itself (set from the API or a phone's feature code).
import { TypedEmitter, type Clock } from '../../shared/index.js';
import { matchCondition, type CalendarCondition, type OverrideMode } from './condition.js';
import { HOLIDAY_COUNTRIES, HolidayCalendar, type Holiday, type HolidayCountry } from './holidays.js';
import type { CalendarRepository, OverrideState } from './calendar-repository.js';
import { wallClock } from './wall-clock.js';

/** What the interpreter needs to judge `when` conditions; injected so tests give their own. */
export interface ConditionEvaluator {
  matches(cond: CalendarCondition | undefined, at: Date): boolean;
}

export type SiteCalendarEvents = {
  /** The override changed (API, feature code, or another process writing the database). */
  override: [state: OverrideState];
};

/**
 * Which country's public holidays a site uses: the `holidays` setting (FR, ES, UK, US or none), else its `country`
 * setting (the tones' country), else none.
 */
export function holidayCountryOf(holidaysSetting: string | undefined, countrySetting: string | undefined): HolidayCountry | undefined {
  const pick = holidaysSetting ?? countrySetting;
  if (pick === undefined) return undefined;
  const up = pick.toUpperCase();
  return (HOLIDAY_COUNTRIES as readonly string[]).includes(up) ? (up as HolidayCountry) : undefined;
}

export class SiteCalendar extends TypedEmitter<SiteCalendarEvents> implements ConditionEvaluator {
  private calendar: HolidayCalendar | undefined;
  private calendarKey = '';
  private lastOverride: OverrideMode;

  constructor(
    private readonly repo: CalendarRepository,
    private readonly clock: Clock,
  ) {
    super();
    this.lastOverride = repo.override().mode;
  }

  /** The site's IANA zone (`timezone` setting), undefined for the box's own zone. */
  timeZone(): string | undefined {
    return this.repo.siteSetting('timezone');
  }

  country(): HolidayCountry | undefined {
    return holidayCountryOf(this.repo.siteSetting('holidays'), this.repo.siteSetting('country'));
  }

  /** The holiday calendar as stored now (settings and the site's own dates are read each time: they change live). */
  holidays(): HolidayCalendar {
    const country = this.country();
    const custom = this.repo.customHolidays();
    const key = `${country ?? ''}|${custom.map((h) => `${h.date}=${h.name}`).join(',')}`;
    if (!this.calendar || key !== this.calendarKey) {
      this.calendar = new HolidayCalendar(country, custom);
      this.calendarKey = key;
    }
    return this.calendar;
  }

  matches(cond: CalendarCondition | undefined, at: Date): boolean {
    if (!cond) return true;
    return matchCondition(cond, at, { timeZone: this.timeZone(), holidays: this.holidays(), override: this.repo.override().mode });
  }

  /** Opening hours (a list of conditions; open when one matches; none = always open). */
  isOpen(hours: readonly CalendarCondition[] | null | undefined, at: Date): boolean {
    if (!hours) return true;
    return hours.some((c) => this.matches(c, at));
  }

  /** The year it is now in the site's zone: the holidays shown roll over at the site's New Year, not at UTC's. */
  currentYear(): number {
    return Number(wallClock(new Date(this.clock.now()), this.timeZone()).date.slice(0, 4));
  }

  /** Today's holiday name in the site's zone (override aside), for the console. */
  holidayToday(at: Date = new Date(this.clock.now())): string | undefined {
    return this.holidays().holiday(wallClock(at, this.timeZone()).date);
  }

  listHolidays(year: number): (Holiday & { source: 'country' | 'site' })[] {
    return this.holidays().list(year);
  }

  override(): OverrideState {
    return this.repo.override();
  }

  setOverride(mode: OverrideMode, by: string | null): OverrideState {
    const state: OverrideState = { mode, since: this.clock.now(), by };
    this.repo.setOverride(state);
    this.refresh();
    return state;
  }

  /** Re-reads the stored override and tells listeners when it changed (after an import or another process's write). */
  refresh(): void {
    const state = this.repo.override();
    if (state.mode !== this.lastOverride) {
      this.lastOverride = state.mode;
      this.emit('override', state);
    }
  }
}
