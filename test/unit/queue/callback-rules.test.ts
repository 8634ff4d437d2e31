// Callback rules: which lost calls qualify, business hours, retries, the same caller, withheld numbers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_LOST_CALL_RULES, lostCallQualifies, nextBusinessTime, nextAttemptAt, sameNumber, isWithheld, neglectable, checkCallbackNumber, normalizeNumber } from '../../../services/queue/index.js';

const rules = { ...DEFAULT_LOST_CALL_RULES, afterAbandon: true, minWaitSeconds: 15 };

test('lost call rules: abandon after the minimum wait, timeout and no agent as switched', () => {
  assert.equal(lostCallQualifies(rules, 'abandoned', 14_999), false, 'hung up before the minimum wait');
  assert.equal(lostCallQualifies(rules, 'abandoned', 15_000), true);
  assert.equal(lostCallQualifies(rules, 'restart', 20_000), true, 'waiting at a restart counts as abandoned');
  assert.equal(lostCallQualifies(rules, 'max_wait', 300_000), false);
  assert.equal(lostCallQualifies({ ...rules, afterTimeout: true }, 'max_wait', 300_000), true);
  assert.equal(lostCallQualifies(rules, 'no_agent', 0), false);
  assert.equal(lostCallQualifies({ ...rules, afterNoAgent: true }, 'no_agent', 0), true);
  assert.equal(lostCallQualifies(DEFAULT_LOST_CALL_RULES, 'abandoned', 60_000), false, 'no rule by default');
});

const office = [{ weekdays: ['mon', 'tue', 'wed', 'thu', 'fri'] as const, times: ['09:00-12:00', '14:00-17:30'] }].map((c) => ({ ...c, weekdays: [...c.weekdays] }));

test('business hours: inside stays, outside moves to the next opening minute (UTC and Europe/Paris)', () => {
  const wed10 = Date.UTC(2026, 10, 25, 10, 0);
  assert.equal(nextBusinessTime(wed10, office, 'UTC'), wed10);
  assert.equal(nextBusinessTime(Date.UTC(2026, 10, 25, 12, 0), office, 'UTC'), Date.UTC(2026, 10, 25, 14, 0), 'lunch');
  assert.equal(nextBusinessTime(Date.UTC(2026, 10, 25, 17, 31), office, 'UTC'), Date.UTC(2026, 10, 26, 9, 0), 'evening');
  assert.equal(nextBusinessTime(Date.UTC(2026, 10, 27, 18, 0), office, 'UTC'), Date.UTC(2026, 10, 30, 9, 0), 'friday evening → monday');
  assert.equal(nextBusinessTime(Date.UTC(2026, 10, 25, 7, 30, 20), office, 'Europe/Paris'), Date.UTC(2026, 10, 25, 8, 0), '09:00 in Paris is 08:00 UTC');
  assert.equal(nextBusinessTime(wed10, null), wed10, 'no opening hours: always');
});

test('retries: a delay between attempts, inside business hours, up to the limit', () => {
  const r = { maxAttempts: 3, retryDelayMinutes: 10, businessHoursOnly: true };
  const t = Date.UTC(2026, 10, 25, 10, 0);
  assert.equal(nextAttemptAt(1, r, t, office, 'UTC'), t + 10 * 60_000);
  assert.equal(nextAttemptAt(2, r, Date.UTC(2026, 10, 25, 17, 25), office, 'UTC'), Date.UTC(2026, 10, 26, 9, 0), 'after 17:30 → tomorrow morning');
  assert.equal(nextAttemptAt(3, r, t, office, 'UTC'), null, 'attempts used up');
  assert.equal(nextAttemptAt(1, { ...r, businessHoursOnly: false }, Date.UTC(2026, 10, 25, 17, 25), office, 'UTC'), Date.UTC(2026, 10, 25, 17, 35));
});

test('the same caller: national and international forms of one number match, different numbers do not', () => {
  assert.equal(sameNumber('+33612345678', '0612345678'), true);
  assert.equal(sameNumber('0033 6 12 34 56 78', 'sip:+33612345678@trunk.example'), true);
  assert.equal(sameNumber('0612345678', '0612345679'), false);
  assert.equal(sameNumber('101', '101'), true);
  assert.equal(sameNumber('101', '201'), false);
  assert.equal(sameNumber('', ''), false);
  assert.equal(normalizeNumber(' +33 (0)6.12 '), '+330612');
});

test('withheld numbers must be keyed in; keyed numbers are checked', () => {
  for (const n of ['', 'anonymous', 'Anonymous', 'unknown', 'sip:anonymous@anonymous.invalid', null]) assert.equal(isWithheld(n), true, String(n));
  assert.equal(isWithheld('0612345678'), false);
  assert.equal(checkCallbackNumber('06 12 34 56 78'), '0612345678');
  assert.equal(checkCallbackNumber('1'), null);
  assert.equal(checkCallbackNumber('abc'), null);
});

test('Neglected applies only to Scheduled callbacks linked to a LostCall', () => {
  assert.equal(neglectable({ status: 'scheduled', linkType: 'LostCall' }), true);
  assert.equal(neglectable({ status: 'dialling', linkType: 'LostCall' }), false);
  assert.equal(neglectable({ status: 'scheduled', linkType: 'CallBack' }), false);
  assert.equal(neglectable({ status: 'scheduled', linkType: null }), false);
});
