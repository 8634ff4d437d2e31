// Does a `when` condition (or one entry of a queue's opening hours) match at an instant? Wall clock of the site's
// zone, the site's holidays and the manual override (docs/scenarios.md "Conditions" and "Day, night and holiday").
import { wallClock, type WeekdayName } from './wall-clock.js';

/** The calendar part of the scenario model (services/directory's Condition has this shape). */
export interface CalendarCondition {
  dates?: readonly string[];
  period?: { from: string; to: string };
  weekdays?: readonly WeekdayName[];
  times?: readonly string[];
  /** true: only on a holiday; false: only on a day that is not one. */
  holiday?: boolean;
}

/** The manual override an administrator sets (API or feature code); `auto` follows the clock and calendar. */
export const OVERRIDE_MODES = ['auto', 'day', 'night', 'holiday'] as const;
export type OverrideMode = (typeof OVERRIDE_MODES)[number];

export interface ConditionContext {
  /** IANA zone of the site's wall clock; the process's own zone without one. */
  timeZone?: string | undefined;
  holidays?: { isHoliday(date: string): boolean } | undefined;
  override?: OverrideMode | undefined;
}

/** A time range HH:MM-HH:MM holds hm (end excluded; a range ending before it starts crosses midnight). */
export function inTimeRange(range: string, hm: string): boolean {
  const [a, b] = range.split('-') as [string, string];
  return a <= b ? hm >= a && hm < b : hm >= a || hm < b;
}

/**
 * Every field given must match (AND); an empty condition always matches.
 * - `dates`, `period`: the wall-clock day (and time) in the site's zone; never changed by the override.
 * - `weekdays`, `times` (the timetable): the wall clock; under the override `day` they count as matching,
 *   under `night` and `holiday` as not matching.
 * - `holiday`: today is in the site's holiday calendar; the override `holiday` makes every day one,
 *   `day` and `night` make it not one.
 */
export function matchCondition(cond: CalendarCondition | undefined, at: Date, ctx: ConditionContext = {}): boolean {
  if (!cond) return true;
  const override = ctx.override ?? 'auto';
  const needClock = cond.dates || cond.period || cond.weekdays || cond.times || cond.holiday !== undefined;
  if (!needClock) return true;
  const { date, hm, weekday } = wallClock(at, ctx.timeZone);
  if (cond.dates && !cond.dates.includes(date)) return false;
  if (cond.period) {
    const stamp = `${date}T${hm}`;
    const from = cond.period.from.length === 10 ? `${cond.period.from}T00:00` : cond.period.from;
    const to = cond.period.to.length === 10 ? `${cond.period.to}T23:59` : cond.period.to;
    if (stamp < from || stamp > to) return false;
  }
  if (cond.weekdays || cond.times) {
    if (override === 'night' || override === 'holiday') return false;
    if (override === 'auto') {
      if (cond.weekdays && !cond.weekdays.includes(weekday)) return false;
      if (cond.times && !cond.times.some((r) => inTimeRange(r, hm))) return false;
    }
  }
  if (cond.holiday !== undefined) {
    const isHoliday = override === 'holiday' ? true : override === 'auto' ? (ctx.holidays?.isHoliday(date) ?? false) : false;
    if (cond.holiday !== isHoliday) return false;
  }
  return true;
}

/** Why a condition can never match (a period ending before it starts, no weekday, an empty time range…), or undefined. */
export function neverMatches(cond: CalendarCondition): { field: string; reason: string } | undefined {
  if (cond.period) {
    const from = cond.period.from.length === 10 ? `${cond.period.from}T00:00` : cond.period.from;
    const to = cond.period.to.length === 10 ? `${cond.period.to}T23:59` : cond.period.to;
    if (from > to) return { field: 'period', reason: `the period starts (${cond.period.from}) after it ends (${cond.period.to})` };
    if (cond.dates && !cond.dates.some((d) => `${d}T23:59` >= from && `${d}T00:00` <= to)) {
      return { field: 'dates', reason: 'none of the dates is inside the period' };
    }
  }
  if (cond.dates && cond.dates.length === 0) return { field: 'dates', reason: 'the list of dates is empty' };
  if (cond.weekdays && cond.weekdays.length === 0) return { field: 'weekdays', reason: 'the list of weekdays is empty' };
  if (cond.times) {
    if (cond.times.length === 0) return { field: 'times', reason: 'the list of time ranges is empty' };
    const empty = cond.times.findIndex((r) => {
      const [a, b] = r.split('-');
      return a === b;
    });
    if (empty >= 0 && cond.times.every((r) => r.split('-')[0] === r.split('-')[1])) {
      return { field: `times[${empty}]`, reason: `the time range ${cond.times[empty]} is empty (it ends when it starts)` };
    }
  }
  return undefined;
}
