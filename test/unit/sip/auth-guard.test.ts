// AuthGuard: outside addresses banned (escalating), the box and the office never locked out, a failing extension
// locked at its address only, scanners and floods banned at once, lifted by time or by hand.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../../services/shared/index.js';
import { AuthGuard, type AuthGuardOptions, type Ban, type DigestVerdict } from '../../../services/sip/index.js';

function guardWith(opts: Partial<AuthGuardOptions> = {}): { guard: AuthGuard; clock: ManualClock; banned: Ban[]; lifted: Ban[] } {
  const clock = new ManualClock();
  const guard = new AuthGuard({ clock, maxFailures: 3, windowMs: 60_000, banMs: 600_000, ownAddresses: ['127.0.0.1', '::1', '192.168.1.10'], allowList: ['192.168.1.0/24', 'fd00::/64'], ...opts });
  const banned: Ban[] = [];
  const lifted: Ban[] = [];
  guard.on('banned', (b) => banned.push(b));
  guard.on('lifted', (b) => lifted.push(b));
  return { guard, clock, banned, lifted };
}

const wrong = (user: string): DigestVerdict => ({ ok: false, reason: 'wrong-password', detail: '', username: user, stale: false });
const unknown = (user: string): DigestVerdict => ({ ok: false, reason: 'unknown-user', detail: '', username: user, stale: false });
const right = (user: string): DigestVerdict => ({ ok: true, username: user, algorithm: 'MD5' });

test('auth guard: the 3rd failure within the window bans an outside address for banMs; others are unaffected', () => {
  const { guard, clock, banned } = guardWith();
  assert.equal(guard.failure('192.0.2.7', 'unknown-user', '100'), false);
  clock.advance(10_000);
  assert.equal(guard.failure('192.0.2.7', 'unknown-user', '101'), false);
  assert.equal(guard.failure('192.0.2.8', 'unknown-user'), false);
  assert.equal(guard.failure('192.0.2.7', 'unknown-user', '102'), true);
  assert.deepEqual(
    banned.map((b) => [b.kind, b.address, b.user, b.reason, b.offence]),
    [['address', '192.0.2.7', '102', 'unknown-users', 1]],
  );
  assert.ok(guard.isBanned('192.0.2.7'));
  assert.ok(guard.isBanned('::ffff:192.0.2.7'), 'the IPv4-mapped form of a banned address is banned too');
  assert.equal(guard.isBanned('192.0.2.8'), false);
  assert.deepEqual(guard.bans().map((b) => [b.address, b.secondsLeft]), [['192.0.2.7', 600]]);
  clock.advance(599_999);
  assert.ok(guard.isBanned('192.0.2.7'));
  clock.advance(1);
  assert.equal(guard.isBanned('192.0.2.7'), false, 'the ban ends by itself');
  assert.deepEqual(guard.stats(), { banned: 0, locked: 0, bansTotal: 1, tracked: 1 });
});

test('auth guard: a repeat offender is banned twice as long each time, up to maxBanMs', () => {
  const { guard, clock, banned } = guardWith({ maxFailures: 1, banMs: 60_000, maxBanMs: 200_000 });
  for (let i = 0; i < 4; i++) {
    assert.equal(guard.failure('203.0.113.9', 'unknown-user', 'x'), true);
    clock.advance(banned[banned.length - 1]!.until - clock.now());
  }
  assert.deepEqual(banned.map((b) => [b.offence, (b.until - clock.now()) <= 0]), [[1, true], [2, true], [3, true], [4, true]]);
  const lengths = [60_000, 120_000, 200_000, 200_000];
  let at = banned[0]!.until - lengths[0]!;
  banned.forEach((b, i) => {
    assert.equal(b.until - at, lengths[i], `ban ${i + 1}`);
    at = b.until;
  });
});

test('auth guard: the box itself is never banned; a wrong password there locks that extension only', () => {
  const { guard, banned } = guardWith();
  for (let i = 0; i < 50; i++) guard.failure('127.0.0.1', 'unknown-user', `guess${i}`);
  assert.equal(guard.isBanned('127.0.0.1'), false);
  for (let i = 0; i < 10; i++) guard.judge('127.0.0.1', wrong('201'));
  assert.equal(guard.isBanned('127.0.0.1'), false);
  assert.ok(guard.isLocked('201', '127.0.0.1'));
  assert.deepEqual(banned.map((b) => [b.kind, b.address, b.user]), [['extension', '127.0.0.1', '201']]);
  // The locked extension's right password is refused like a wrong one; the others are served.
  const v = guard.judge('127.0.0.1', right('201'));
  assert.equal(v.ok, false);
  assert.equal(!v.ok && v.reason, 'locked');
  assert.equal(guard.judge('127.0.0.1', right('202')).ok, true);
  assert.equal(guard.judge('::1', right('201')).ok, true, 'locked at one address only');
  // 127.0.0.2 and up are outside hosts.
  assert.equal(guard.classify('127.0.0.2'), 'outside');
  assert.equal(guard.classify('::ffff:127.0.0.1'), 'own');
});

test('auth guard: a known extension failing behind an address with working phones locks the extension, not the address', () => {
  const withPhones = new Set(['198.51.100.20']);
  const { guard } = guardWith({ hostsPhones: (a) => withPhones.has(a) });
  for (let i = 0; i < 5; i++) guard.judge('198.51.100.20', wrong('301'));
  assert.equal(guard.isBanned('198.51.100.20'), false);
  assert.ok(guard.isLocked('301', '198.51.100.20'));
  // Unknown users from the same address still count against the address.
  for (let i = 0; i < 3; i++) guard.judge('198.51.100.20', unknown(`u${i}`));
  assert.ok(guard.isBanned('198.51.100.20'));
  // Without phones there, a wrong password counts against the address.
  for (let i = 0; i < 3; i++) guard.judge('198.51.100.21', wrong('301'));
  assert.ok(guard.isBanned('198.51.100.21'));
});

test('auth guard: the allow-list has a higher threshold, not none; IPv6 networks match', () => {
  const { guard } = guardWith({ allowedMaxFailures: 6 });
  assert.equal(guard.classify('192.168.1.77'), 'allowed');
  assert.equal(guard.classify('fd00::5'), 'allowed');
  for (let i = 0; i < 5; i++) assert.equal(guard.failure('fd00::5', 'unknown-user', `u${i}`), false);
  assert.equal(guard.failure('fd00::5', 'unknown-user', 'u5'), true);
  for (let i = 0; i < 5; i++) guard.failure('192.168.1.77', 'unknown-user', `u${i}`);
  assert.equal(guard.isBanned('192.168.1.77'), false);
  // A scanner from the office counts as one failure; from outside it is banned at once.
  assert.equal(guard.screen('192.168.1.77', 'friendly-scanner'), true, 'sixth failure');
  assert.equal(guard.screen('192.0.2.50', 'Linphone/4.2'), false);
  assert.equal(guard.screen('192.0.2.50', 'sipvicious'), true);
  assert.equal(guard.screen('127.0.0.1', 'friendly-scanner'), false, 'never the box itself');
  assert.equal(guard.flood('192.0.2.51'), true);
  assert.deepEqual(
    guard.bans().filter((b) => b.address.startsWith('192.0.2.')).map((b) => [b.address, b.reason]).sort(),
    [['192.0.2.50', 'scanner'], ['192.0.2.51', 'flood']],
  );
});

test('auth guard: lift ends a ban and the locks at an address (or one extension), forgives offences, emits lifted', () => {
  const { guard, lifted } = guardWith({ maxFailures: 1 });
  guard.failure('198.51.100.1', 'unknown-user');
  guard.judge('127.0.0.1', wrong('201'));
  guard.judge('127.0.0.1', wrong('202'));
  assert.deepEqual(guard.lift('127.0.0.1', '202').map((b) => b.user), ['202']);
  assert.ok(guard.isLocked('201', '127.0.0.1'));
  assert.equal(guard.unban('198.51.100.1'), true);
  assert.equal(guard.isBanned('198.51.100.1'), false);
  assert.equal(guard.unban('198.51.100.1'), false);
  assert.equal(guard.lift('127.0.0.1').length, 1);
  assert.equal(lifted.length, 3);
  guard.failure('198.51.100.1', 'unknown-user');
  assert.equal(guard.bans().find((b) => b.address === '198.51.100.1')?.offence, 1, 'offences forgiven');
  const off = new AuthGuard({ clock: new ManualClock(), maxFailures: 0 });
  for (let i = 0; i < 100; i++) assert.equal(off.failure('198.51.100.2', 'unknown-user'), false);
  assert.equal(off.enabled, false);
  assert.equal(off.isBanned('198.51.100.2'), false);
});

test('auth guard: restore re-applies a remembered ban for the time left', () => {
  const { guard, clock } = guardWith();
  guard.restore({ kind: 'address', address: '192.0.2.99', reason: 'scanner', until: clock.now() + 5000, offence: 2 });
  guard.restore({ kind: 'extension', address: '127.0.0.1', user: '201', reason: 'password-guessing', until: clock.now() + 5000, offence: 1 });
  guard.restore({ kind: 'address', address: '192.0.2.98', reason: 'scanner', until: clock.now() - 1, offence: 1 });
  assert.ok(guard.isBanned('192.0.2.99'));
  assert.ok(guard.isLocked('201', '127.0.0.1'));
  assert.equal(guard.isBanned('192.0.2.98'), false);
  clock.advance(5000);
  assert.equal(guard.isBanned('192.0.2.99'), false);
});

test('auth guard: only wrong passwords and unknown users count; challenges, stale nonces and bad headers do not', () => {
  const { guard } = guardWith({ maxFailures: 2 });
  const fail = (reason: 'missing' | 'stale' | 'malformed' | 'replay' | 'wrong-password' | 'unknown-user') =>
    guard.check('192.0.2.9', { ok: false, reason, detail: '', username: '100', stale: false });
  assert.equal(guard.check('192.0.2.9', right('100')), false);
  for (const r of ['missing', 'stale', 'malformed', 'replay'] as const) assert.equal(fail(r), false);
  assert.equal(guard.stats().tracked, 0);
  assert.equal(fail('unknown-user'), false);
  assert.equal(fail('wrong-password'), true);
  assert.equal(guard.total, 1);
});
