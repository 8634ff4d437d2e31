// The calendar: wall clock across DST nights (Paris, New York), Easter and the four countries' holidays against
// published dates, the site's own dates, and the manual override's meaning for conditions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  matchCondition,
  instantOf,
  wallClock,
  easterSunday,
  publicHolidays,
  HolidayCalendar,
  CalendarRepository,
  SiteCalendar,
  holidayCountryOf,
  neverMatches,
  type CalendarCondition,
  type HolidayCountry,
} from '../../../services/scenario/calendar/index.js';
import { Store } from '../../../services/storage/index.js';
import { ManualClock } from '../../../services/shared/index.js';
import { validateActions } from '../../../services/directory/index.js';

/** Real minutes, stepping one minute of UTC from `from` to `to` (exclusive), at which the condition matched. */
function matchingMinutes(cond: CalendarCondition, fromUtc: string, toUtc: string, timeZone: string): number {
  let n = 0;
  for (let t = Date.parse(fromUtc); t < Date.parse(toUtc); t += 60_000) if (matchCondition(cond, new Date(t), { timeZone })) n++;
  return n;
}

test('Europe/Paris spring-forward night (2026-03-29): 02:00-03:00 never shows; 01:00-04:00 lasts two real hours', () => {
  const tz = 'Europe/Paris';
  assert.deepEqual(wallClock(new Date('2026-03-29T00:59:00Z'), tz).hm, '01:59');
  assert.deepEqual(wallClock(new Date('2026-03-29T01:00:00Z'), tz).hm, '03:00');
  assert.equal(matchingMinutes({ dates: ['2026-03-29'], times: ['02:00-03:00'] }, '2026-03-28T22:00Z', '2026-03-29T04:00Z', tz), 0);
  assert.equal(matchingMinutes({ dates: ['2026-03-29'], times: ['01:00-04:00'] }, '2026-03-28T22:00Z', '2026-03-29T04:00Z', tz), 120);
  // A period across the change: 01:30 CET to 03:30 CEST inclusive is 30 + 31 real minutes.
  assert.equal(matchingMinutes({ period: { from: '2026-03-29T01:30', to: '2026-03-29T03:30' } }, '2026-03-28T22:00Z', '2026-03-29T04:00Z', tz), 61);
  // The day before and after keep their ordinary hour.
  assert.equal(matchingMinutes({ times: ['02:00-03:00'] }, '2026-03-28T00:00Z', '2026-03-28T04:00Z', tz), 60);
  assert.equal(instantOf('2026-03-29T03:00', tz).toISOString(), '2026-03-29T01:00:00.000Z');
  assert.equal(instantOf('2026-03-29T01:59', tz).toISOString(), '2026-03-29T00:59:00.000Z');
});

test('Europe/Paris fall-back night (2026-10-25): 02:00-03:00 shows twice, a period across the change counts both', () => {
  const tz = 'Europe/Paris';
  assert.equal(wallClock(new Date('2026-10-25T00:30:00Z'), tz).hm, '02:30');
  assert.equal(wallClock(new Date('2026-10-25T01:30:00Z'), tz).hm, '02:30');
  assert.equal(matchingMinutes({ times: ['02:00-03:00'] }, '2026-10-24T20:00Z', '2026-10-25T06:00Z', tz), 120);
  assert.equal(matchingMinutes({ period: { from: '2026-10-25T02:00', to: '2026-10-25T02:59' } }, '2026-10-24T20:00Z', '2026-10-25T06:00Z', tz), 120);
  // 01:00-04:00 wall clock is four real hours that night.
  assert.equal(matchingMinutes({ dates: ['2026-10-25'], times: ['01:00-04:00'] }, '2026-10-24T20:00Z', '2026-10-25T06:00Z', tz), 240);
  assert.equal(instantOf('2026-10-25T02:30', tz).toISOString(), '2026-10-25T00:30:00.000Z', 'the first 02:30 (summer time)');
});

test('America/New_York spring-forward (2026-03-08) and fall-back (2026-11-01) nights', () => {
  const tz = 'America/New_York';
  assert.equal(wallClock(new Date('2026-03-08T06:59:00Z'), tz).hm, '01:59');
  assert.equal(wallClock(new Date('2026-03-08T07:00:00Z'), tz).hm, '03:00');
  assert.equal(matchingMinutes({ dates: ['2026-03-08'], times: ['02:00-03:00'] }, '2026-03-08T04:00Z', '2026-03-08T10:00Z', tz), 0);
  assert.equal(matchingMinutes({ dates: ['2026-03-08'], times: ['02:30-02:45'] }, '2026-03-08T04:00Z', '2026-03-08T10:00Z', tz), 0);
  // 01:30 happens twice on the fall night: at 05:30Z (EDT) and 06:30Z (EST).
  const around = { dates: ['2026-11-01'], times: ['01:15-01:45'] };
  assert.equal(matchCondition(around, new Date('2026-11-01T05:30:00Z'), { timeZone: tz }), true);
  assert.equal(matchCondition(around, new Date('2026-11-01T06:30:00Z'), { timeZone: tz }), true);
  assert.equal(matchCondition(around, new Date('2026-11-01T06:00:00Z'), { timeZone: tz }), false, '01:00 EST is outside 01:15-01:45');
  assert.equal(matchingMinutes(around, '2026-11-01T03:00Z', '2026-11-01T09:00Z', tz), 60);
  assert.equal(matchingMinutes({ period: { from: '2026-11-01T00:30', to: '2026-11-01T02:30' } }, '2026-11-01T03:00Z', '2026-11-01T09:00Z', tz), 181);
  assert.equal(instantOf('2026-11-01T01:30', tz).toISOString(), '2026-11-01T05:30:00.000Z');
});

test('weekdays × times: a range crossing midnight belongs to the day each minute is in; end excluded; 24:00', () => {
  const tz = 'Europe/Paris';
  const at = (local: string): Date => instantOf(local, tz);
  const fridayNight = { weekdays: ['fri' as const], times: ['22:00-06:00'] };
  assert.equal(matchCondition(fridayNight, at('2026-12-04T23:00'), { timeZone: tz }), true); // Friday
  assert.equal(matchCondition(fridayNight, at('2026-12-05T02:00'), { timeZone: tz }), false); // Saturday morning
  assert.equal(matchCondition(fridayNight, at('2026-12-04T02:00'), { timeZone: tz }), true); // Friday morning
  const office = { weekdays: ['mon' as const, 'tue' as const, 'wed' as const, 'thu' as const, 'fri' as const], times: ['08:30-12:30', '13:30-18:00'] };
  assert.equal(matchCondition(office, at('2026-12-07T08:30'), { timeZone: tz }), true);
  assert.equal(matchCondition(office, at('2026-12-07T12:30'), { timeZone: tz }), false);
  assert.equal(matchCondition(office, at('2026-12-07T17:59'), { timeZone: tz }), true);
  assert.equal(matchCondition(office, at('2026-12-06T10:00'), { timeZone: tz }), false); // Sunday
  assert.equal(matchCondition({ times: ['18:00-24:00'] }, at('2026-12-07T23:59'), { timeZone: tz }), true);
  assert.equal(matchCondition({}, at('2026-12-07T23:59'), { timeZone: tz }), true);
  // Same instant, another zone: 09:00 in Paris is 03:00 in New York.
  assert.equal(matchCondition({ times: ['08:00-10:00'] }, new Date('2026-12-07T08:00:00Z'), { timeZone: 'America/New_York' }), false);
});

test('Easter Sunday against published dates (1943, 2000, 2008, 2019, 2024-2027, 2038, 2285)', () => {
  const known: Record<number, string> = {
    1943: '1943-04-25',
    2000: '2000-04-23',
    2008: '2008-03-23',
    2019: '2019-04-21',
    2024: '2024-03-31',
    2025: '2025-04-20',
    2026: '2026-04-05',
    2027: '2027-03-28',
    2038: '2038-04-25',
    2285: '2285-03-22',
  };
  for (const [y, d] of Object.entries(known)) assert.equal(easterSunday(Number(y)), d, `Easter ${y}`);
});

function dates(country: HolidayCountry, year: number): string[] {
  return [...new Set(publicHolidays(country, year).map((h) => h.date))];
}

test('France: fixed days and Easter Monday, Ascension, Whit Monday (2024-2027)', () => {
  const fixed = (y: number): string[] => ['01-01', '05-01', '05-08', '07-14', '08-15', '11-01', '11-11', '12-25'].map((d) => `${y}-${d}`);
  const easterBased: Record<number, string[]> = {
    2024: ['2024-04-01', '2024-05-09', '2024-05-20'],
    2025: ['2025-04-21', '2025-05-29', '2025-06-09'],
    2026: ['2026-04-06', '2026-05-14', '2026-05-25'],
    2027: ['2027-03-29', '2027-05-06', '2027-05-17'],
  };
  for (const [y, e] of Object.entries(easterBased)) {
    assert.deepEqual(dates('FR', Number(y)), [...fixed(Number(y)), ...e].sort(), `France ${y}`);
  }
  assert.equal(publicHolidays('FR', 2026).find((h) => h.date === '2026-05-14')?.name, 'Ascension');
});

test('Spain: national days with Good Friday (2024-2027)', () => {
  const goodFriday: Record<number, string> = { 2024: '2024-03-29', 2025: '2025-04-18', 2026: '2026-04-03', 2027: '2027-03-26' };
  for (const [y, gf] of Object.entries(goodFriday)) {
    const fixed = ['01-01', '01-06', '05-01', '08-15', '10-12', '11-01', '12-06', '12-08', '12-25'].map((d) => `${y}-${d}`);
    assert.deepEqual(dates('ES', Number(y)), [...fixed, gf].sort(), `Spain ${y}`);
  }
});

test('United Kingdom: England and Wales bank holidays with substitute days (gov.uk, 2021-2027)', () => {
  const bank = (y: number): string[] => publicHolidays('UK', y).filter((h) => {
    // The bank holiday itself: a weekday (the weekend day's own entry is kept for the name, not as a day off).
    const wd = new Date(`${h.date}T12:00:00Z`).getUTCDay();
    return wd !== 0 && wd !== 6;
  }).map((h) => h.date).sort();
  assert.deepEqual(bank(2024), ['2024-01-01', '2024-03-29', '2024-04-01', '2024-05-06', '2024-05-27', '2024-08-26', '2024-12-25', '2024-12-26']);
  assert.deepEqual(bank(2025), ['2025-01-01', '2025-04-18', '2025-04-21', '2025-05-05', '2025-05-26', '2025-08-25', '2025-12-25', '2025-12-26']);
  assert.deepEqual(bank(2026), ['2026-01-01', '2026-04-03', '2026-04-06', '2026-05-04', '2026-05-25', '2026-08-31', '2026-12-25', '2026-12-28']);
  assert.deepEqual(bank(2027), ['2027-01-01', '2027-03-26', '2027-03-29', '2027-05-03', '2027-05-31', '2027-08-30', '2027-12-27', '2027-12-28']);
  // 2021: Christmas Saturday, Boxing Day Sunday → Monday 27 and Tuesday 28.
  assert.ok(bank(2021).includes('2021-12-27') && bank(2021).includes('2021-12-28'));
  // 2022: New Year on Saturday → Monday 3 January; Christmas on Sunday → Boxing Day keeps 26, Christmas moves to 27.
  const b22 = bank(2022);
  for (const d of ['2022-01-03', '2022-04-15', '2022-04-18', '2022-05-02', '2022-08-29', '2022-12-26', '2022-12-27']) assert.ok(b22.includes(d), `2022 has ${d}`);
  assert.equal(publicHolidays('UK', 2022).find((h) => h.date === '2022-12-27')?.name, 'Christmas Day (substitute day)');
});

test('United States: floating Mondays and Thursday, observed days (2026, 2027, New Year observed in December)', () => {
  assert.deepEqual(dates('US', 2026), [
    '2026-01-01', '2026-01-19', '2026-02-16', '2026-05-25', '2026-06-19', '2026-07-03', '2026-07-04',
    '2026-09-07', '2026-10-12', '2026-11-11', '2026-11-26', '2026-12-25',
  ]);
  assert.deepEqual(dates('US', 2027), [
    '2027-01-01', '2027-01-18', '2027-02-15', '2027-05-31', '2027-06-18', '2027-06-19', '2027-07-04', '2027-07-05',
    '2027-09-06', '2027-10-11', '2027-11-11', '2027-11-25', '2027-12-24', '2027-12-25', '2027-12-31',
  ]);
  assert.ok(dates('US', 2021).includes('2021-12-31'), 'New Year 2022 (Saturday) observed on Friday 2021-12-31');
  assert.ok(!dates('US', 2020).includes('2020-06-19'), 'Juneteenth from 2021 on');
  assert.equal(publicHolidays('US', 2027).find((h) => h.date === '2027-07-05')?.name, 'Independence Day (observed)');
});

test('HolidayCalendar: country set plus the site own dates; holiday conditions', () => {
  const cal = new HolidayCalendar('FR', [{ date: '2026-12-24', name: 'Réveillon' }]);
  assert.equal(cal.holiday('2026-12-25'), 'Noël');
  assert.equal(cal.holiday('2026-12-24'), 'Réveillon');
  assert.equal(cal.isHoliday('2026-12-23'), false);
  assert.deepEqual(cal.list(2026).filter((h) => h.source === 'site').map((h) => h.date), ['2026-12-24']);
  const tz = 'Europe/Paris';
  const xmas = instantOf('2026-12-25T10:00', tz);
  assert.equal(matchCondition({ holiday: true }, xmas, { timeZone: tz, holidays: cal }), true);
  assert.equal(matchCondition({ holiday: false }, xmas, { timeZone: tz, holidays: cal }), false);
  // Christmas in Paris starts at 23:00 UTC on the 24th.
  assert.equal(matchCondition({ holiday: true }, new Date('2026-12-24T23:30:00Z'), { timeZone: tz, holidays: new HolidayCalendar('FR') }), true);
  assert.equal(new HolidayCalendar(undefined).isHoliday('2026-12-25'), false);
  assert.equal(holidayCountryOf(undefined, 'FR'), 'FR');
  assert.equal(holidayCountryOf('none', 'FR'), undefined);
  assert.equal(holidayCountryOf('us', undefined), 'US');
});

test('override: day makes the timetable match and no day a holiday; night and holiday make it not match', () => {
  const tz = 'Europe/Paris';
  const cal = new HolidayCalendar('FR');
  const office = { weekdays: ['mon' as const, 'tue' as const, 'wed' as const, 'thu' as const, 'fri' as const], times: ['09:00-18:00'], holiday: false };
  const sundayNight = instantOf('2026-12-06T23:00', tz);
  const mondayMorning = instantOf('2026-12-07T10:00', tz);
  const christmas = instantOf('2026-12-25T10:00', tz);
  const m = (c: CalendarCondition, at: Date, override: 'auto' | 'day' | 'night' | 'holiday'): boolean => matchCondition(c, at, { timeZone: tz, holidays: cal, override });
  assert.equal(m(office, sundayNight, 'auto'), false);
  assert.equal(m(office, sundayNight, 'day'), true);
  assert.equal(m(office, christmas, 'auto'), false);
  assert.equal(m(office, christmas, 'day'), true, 'day: open even on a holiday');
  assert.equal(m(office, mondayMorning, 'auto'), true);
  assert.equal(m(office, mondayMorning, 'night'), false);
  assert.equal(m(office, mondayMorning, 'holiday'), false);
  assert.equal(m({ holiday: true }, mondayMorning, 'holiday'), true);
  assert.equal(m({ holiday: true }, christmas, 'night'), false, 'night: not a holiday');
  assert.equal(m({ holiday: true }, christmas, 'day'), false);
  // Dates and periods are never overridden.
  assert.equal(m({ dates: ['2026-12-25'] }, christmas, 'night'), true);
  assert.equal(m({ dates: ['2026-12-24'] }, christmas, 'day'), false);
  assert.equal(m({ period: { from: '2026-12-20', to: '2026-12-31' }, times: ['09:00-12:00'] }, christmas, 'day'), true);
  assert.equal(m({ period: { from: '2026-12-26', to: '2026-12-31' }, times: ['09:00-12:00'] }, christmas, 'day'), false);
});

test('conditions that can never match, and dates that do not exist, are refused naming the field', () => {
  assert.deepEqual(neverMatches({ period: { from: '2026-05-02', to: '2026-05-01' } })?.field, 'period');
  assert.equal(neverMatches({ weekdays: [] })?.field, 'weekdays');
  assert.equal(neverMatches({ times: ['09:00-09:00'] })?.field, 'times[0]');
  assert.equal(neverMatches({ times: ['09:00-09:00', '10:00-11:00'] }), undefined);
  assert.equal(neverMatches({ period: { from: '2026-05-01', to: '2026-05-31' }, dates: ['2026-06-01'] })?.field, 'dates');
  const issue = (when: unknown): string => {
    const { issues } = validateActions([{ type: 'hangup' }, { type: 'play', prompt: 'closed', when }]);
    assert.equal(issues.length, 1, JSON.stringify(issues));
    return `${issues[0]!.path.join('.')}: ${issues[0]!.message}`;
  };
  assert.match(issue({ period: { from: '2026-05-02', to: '2026-05-01' } }), /^1\.when\.period: this condition can never match/);
  assert.match(issue({ weekdays: [] }), /^1\.when\.weekdays: .*never match/);
  assert.match(issue({ dates: ['2026-02-30'] }), /^1\.when\.dates\.0: 2026-02-30 is not a day of the calendar/);
  assert.match(issue({ dates: ['2025-02-29'] }), /not a day of the calendar/);
  assert.match(issue({ period: { from: '2026-04-31', to: '2026-05-02' } }), /^1\.when\.period\.from: /);
  assert.match(issue({ dates: ['2026-12-07'], weekdays: ['sat', 'sun'] }), /^1\.when\.weekdays: .*none of its dates/);
  assert.match(issue({ holiday: 'yes' }), /^1\.when\.holiday: expected true or false/);
  assert.equal(validateActions([{ type: 'hangup', when: { dates: ['2028-02-29'], holiday: true } }]).issues.length, 0);
});

test('SiteCalendar: zone, country and own dates read live from storage; the override persists and is announced', () => {
  const store = Store.open(':memory:');
  try {
    const clock = new ManualClock(Date.parse('2026-12-07T09:00:00Z'));
    const repo = new CalendarRepository(store.db);
    const cal = new SiteCalendar(repo, clock);
    const set = (k: string, v: string): void => void store.db.prepare('INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)').run(`site.${k}`, JSON.stringify(v));
    set('timezone', 'Europe/Paris');
    set('country', 'FR');
    const christmas = new Date('2026-12-25T09:00:00Z');
    assert.equal(cal.matches({ holiday: true }, christmas), true);
    set('holidays', 'UK');
    assert.equal(cal.matches({ holiday: true }, new Date('2026-12-28T09:00:00Z')), true, 'UK substitute Boxing Day');
    assert.equal(cal.matches({ holiday: true }, new Date('2026-07-14T09:00:00Z')), false);
    repo.putHoliday({ date: '2026-07-14', name: 'Office party' });
    assert.equal(cal.matches({ holiday: true }, new Date('2026-07-14T09:00:00Z')), true);
    assert.equal(cal.holidayToday(new Date('2026-07-14T09:00:00Z')), 'Office party');
    const seen: string[] = [];
    cal.on('override', (s) => seen.push(s.mode));
    assert.deepEqual(cal.override(), { mode: 'auto', since: null, by: null });
    const office = { times: ['09:00-18:00'] };
    const night = new Date('2026-12-07T22:00:00Z');
    assert.equal(cal.matches(office, night), false);
    cal.setOverride('day', 'admin');
    assert.equal(cal.matches(office, night), true);
    assert.deepEqual(new CalendarRepository(store.db).override(), { mode: 'day', since: clock.now(), by: 'admin' });
    // Another writer (a second process, an import) changes it: refresh() notices.
    repo.setOverride({ mode: 'night', since: 1, by: 'phone:101' });
    cal.refresh();
    assert.deepEqual(seen, ['day', 'night']);
    assert.equal(cal.isOpen([office], new Date('2026-12-07T10:00:00Z')), false);
    assert.equal(cal.isOpen(null, night), true);
  } finally {
    store.close();
  }
});

test('override codes: *60-*63 switch the mode for a user with the right (403 otherwise); lamps follow', async () => {
  const { overrideFeatureHandler, lampLit, attachOverrideLamps, OVERRIDE_CODES } = await import('../../../services/scenario/calendar/index.js');
  const store = Store.open(':memory:');
  try {
    const cal = new SiteCalendar(new CalendarRepository(store.db), new ManualClock());
    const lamps: string[] = [];
    attachOverrideLamps(
      { addStateProvider: () => undefined, setDialogState: (entity, state) => void lamps.push(`${entity}=${state}`) },
      cal,
    );
    const refused: number[] = [];
    const played: string[] = [];
    const handler = overrideFeatureHandler({
      calendar: cal,
      mayOverride: (userId) => userId === 1,
      answer: async () => true,
      refuse: (_f, status) => void refused.push(status),
      confirmation: (mode) => `override-${mode}.wav`,
    });
    const dial = (code: string, userId: number | null) =>
      handler({ caller: { number: '101', userId }, code, callerEndpoint: { localSdp: '', play: async (items) => void played.push(JSON.stringify(items)) } });
    await dial('*61', 2);
    assert.deepEqual(refused, [403]);
    assert.equal(cal.override().mode, 'auto');
    await dial('*61', 1);
    assert.deepEqual([cal.override().mode, cal.override().by], ['night', 'phone:101']);
    assert.deepEqual(played, ['[{"file":"override-night.wav"}]']);
    assert.deepEqual(lamps, ['*60=idle', '*61=confirmed', '*62=idle', '*63=confirmed']);
    await dial('*63', 1);
    assert.equal(cal.override().mode, 'auto');
    assert.deepEqual(Object.keys(OVERRIDE_CODES), ['*60', '*61', '*62', '*63']);
    assert.equal(lampLit('*62', 'holiday'), true);
    assert.equal(lampLit('*63', 'auto'), false);
  } finally {
    store.close();
  }
});
