// The site file's calendar parts: the `holidays` setting and section, `holiday` in conditions, errors naming the place.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Store } from '../../../services/storage/index.js';
import { importSiteText, exportSiteText, SiteFileError } from '../../../services/site/index.js';
import { CalendarRepository, SiteCalendar } from '../../../services/scenario/calendar/index.js';
import { ManualClock } from '../../../services/shared/index.js';

const SITE = `
settings:
  timezone: America/New_York
  holidays: US
holidays:
  - { date: "2026-12-24", name: Christmas Eve }
  - date: "2026-12-31"
scenarios:
  - name: main
    actions:
      - { type: play, prompt: closed, when: { holiday: true } }
      - { type: hangup }
`;

test('site file: holidays setting and section are imported, exported back, and used by the calendar', () => {
  const store = Store.open(':memory:');
  try {
    importSiteText(store, 'office.test', SITE);
    const repo = new CalendarRepository(store.db);
    assert.deepEqual(repo.customHolidays(), [{ date: '2026-12-24', name: 'Christmas Eve' }, { date: '2026-12-31', name: '' }]);
    const cal = new SiteCalendar(repo, new ManualClock());
    assert.equal(cal.country(), 'US');
    assert.equal(cal.timeZone(), 'America/New_York');
    assert.equal(cal.matches({ holiday: true }, new Date('2026-11-26T15:00:00Z')), true, 'Thanksgiving');
    assert.equal(cal.matches({ holiday: true }, new Date('2026-12-24T15:00:00Z')), true, 'own date');
    const out = exportSiteText(store, 'office.test');
    assert.match(out, /holidays:\n {2}- date: "?2026-12-24"?\n {4}name: Christmas Eve\n {2}- date: "?2026-12-31"?\n/);
    const again = Store.open(':memory:');
    importSiteText(again, 'office.test', out);
    assert.equal(exportSiteText(again, 'office.test'), out);
    again.close();
    // A re-import without the section removes the own dates; the override is state, not configuration: kept.
    repo.setOverride({ mode: 'night', since: 1, by: 'admin' });
    importSiteText(store, 'office.test', 'settings: { holidays: none }\n');
    assert.deepEqual(repo.customHolidays(), []);
    assert.equal(repo.override().mode, 'night');
    assert.equal(cal.country(), undefined);
  } finally {
    store.close();
  }
});

test('site file: wrong holidays are refused with their path and line', () => {
  const store = Store.open(':memory:');
  try {
    const err = (text: string): string => {
      try {
        importSiteText(store, 'office.test', text);
      } catch (e) {
        assert.ok(e instanceof SiteFileError);
        return e.message;
      }
      assert.fail('expected a SiteFileError');
    };
    assert.match(err('settings:\n  holidays: DE\n'), /settings\.holidays: unknown value "DE" \(line 2\); expected one of FR, ES, UK, US, none/);
    assert.match(err('holidays:\n  - date: "2026-02-30"\n'), /holidays\[0\]\.date: 2026-02-30 is not a day of the calendar \(line 2\)/);
    assert.match(err('holidays:\n  - date: "2026-05-01"\n  - date: "2026-05-01"\n'), /holidays\[1\]\.date: "2026-05-01" appears twice/);
    assert.match(err('holidays:\n  - { date: "2026-05-01", when: x }\n'), /holidays\[0\]\.when: unknown field/);
    assert.match(
      err('scenarios:\n  - name: a\n    actions:\n      - type: hangup\n        when: { weekdays: [], holiday: true }\n'),
      /scenarios\[0\]\.actions\[0\]\.when\.weekdays: this condition can never match: the list of weekdays is empty \(line 5\)/,
    );
  } finally {
    store.close();
  }
});
