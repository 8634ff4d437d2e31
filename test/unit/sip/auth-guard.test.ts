// AuthGuard: wrong passwords counted per address in a window, a ban for a while, lifted by time or by hand.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../../services/shared/index.js';
import { AuthGuard } from '../../../services/sip/index.js';

test('auth guard: the 3rd failure within the window bans the address for banMs; others are unaffected', () => {
  const clock = new ManualClock();
  const guard = new AuthGuard({ clock, maxFailures: 3, windowMs: 60_000, banMs: 600_000 });
  const banned: string[] = [];
  guard.on('banned', (a, _until, user) => banned.push(`${a} ${user}`));
  assert.equal(guard.failure('192.0.2.7', '100'), false);
  clock.advance(10_000);
  assert.equal(guard.failure('192.0.2.7', '101'), false);
  assert.equal(guard.failure('192.0.2.8'), false);
  assert.equal(guard.failure('192.0.2.7', '102'), true);
  assert.deepEqual(banned, ['192.0.2.7 102']);
  assert.ok(guard.isBanned('192.0.2.7'));
  assert.equal(guard.isBanned('192.0.2.8'), false);
  assert.deepEqual(guard.bans(), [{ address: '192.0.2.7', secondsLeft: 600 }]);
  clock.advance(599_999);
  assert.ok(guard.isBanned('192.0.2.7'));
  clock.advance(1);
  assert.equal(guard.isBanned('192.0.2.7'), false, 'the ban ends by itself');
  assert.deepEqual(guard.stats(), { banned: 0, bansTotal: 1, tracked: 1 });
});

test('auth guard: failures spread wider than the window never ban (a phone with a wrong password retrying each minute)', () => {
  const clock = new ManualClock();
  const guard = new AuthGuard({ clock, maxFailures: 3, windowMs: 60_000 });
  for (let i = 0; i < 20; i++) {
    assert.equal(guard.failure('10.0.0.20'), false);
    clock.advance(31_000);
  }
  assert.equal(guard.isBanned('10.0.0.20'), false);
});

test('auth guard: an administrator lifts a ban; maxFailures 0 turns the guard off', () => {
  const clock = new ManualClock();
  const guard = new AuthGuard({ clock, maxFailures: 1 });
  assert.equal(guard.failure('198.51.100.1'), true);
  assert.equal(guard.unban('198.51.100.1'), true);
  assert.equal(guard.isBanned('198.51.100.1'), false);
  assert.equal(guard.unban('198.51.100.1'), false);
  const off = new AuthGuard({ clock, maxFailures: 0 });
  for (let i = 0; i < 100; i++) assert.equal(off.failure('198.51.100.2'), false);
  assert.equal(off.enabled, false);
  assert.equal(off.isBanned('198.51.100.2'), false);
});

test('auth guard: only wrong passwords and unknown users count; challenges, stale nonces and bad headers do not', () => {
  const guard = new AuthGuard({ clock: new ManualClock(), maxFailures: 2 });
  const fail = (reason: 'missing' | 'stale' | 'malformed' | 'replay' | 'wrong-password' | 'unknown-user') =>
    guard.check('192.0.2.9', { ok: false, reason, detail: '', username: '100', stale: false });
  assert.equal(guard.check('192.0.2.9', { ok: true, username: '100', algorithm: 'MD5' }), false);
  for (const r of ['missing', 'stale', 'malformed', 'replay'] as const) assert.equal(fail(r), false);
  assert.equal(guard.stats().tracked, 0);
  assert.equal(fail('unknown-user'), false);
  assert.equal(fail('wrong-password'), true);
  assert.equal(guard.total, 1);
});
