// The calendar of a site: wall clock in its IANA zone, public holidays by rule, its own dates, the manual override,
// and the ConditionEvaluator the interpreter and queues judge `when` conditions and opening hours with.
export { wallClock, instantOf, isTimeZone, isRealDate, weekdayOf, addDays, WEEKDAY_NAMES, type WallClock, type WeekdayName } from './wall-clock.js';
export { easterSunday, nthWeekday, publicHolidays, HolidayCalendar, HOLIDAY_COUNTRIES, type Holiday, type HolidayCountry } from './holidays.js';
export { matchCondition, neverMatches, inTimeRange, OVERRIDE_MODES, type CalendarCondition, type ConditionContext, type OverrideMode } from './condition.js';
export { CalendarRepository, type OverrideState } from './calendar-repository.js';
export { SiteCalendar, holidayCountryOf, type ConditionEvaluator, type SiteCalendarEvents } from './site-calendar.js';
export { OVERRIDE_CODES, lampLit, attachOverrideLamps, overrideFeatureHandler, type OverrideLampHost, type OverrideFeatureCall, type OverrideFeatureDeps } from './override-codes.js';
