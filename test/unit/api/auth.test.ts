// Sessions (expiry, bound, LRU), the failed-login throttle, and the Authenticator's login path, on a ManualClock.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock, RelaisError } from '../../../services/shared/index.js';
import { Store } from '../../../services/storage/index.js';
import { UserRepository } from '../../../services/directory/index.js';
import { Authenticator, LoginThrottle, SessionStore, type ApiContext } from '../../../services/api/index.js';

test('sessions expire when idle and at their max age; a used session stays alive until then', () => {
  const clock = new ManualClock();
  const store = new SessionStore(clock, { idleMs: 1000, maxAgeMs: 5000, max: 10 });
  const s = store.create(1);
  assert.match(s.token, /^[A-Za-z0-9_-]{43}$/);
  for (let i = 0; i < 4; i++) {
    clock.advance(900);
    assert.ok(store.get(s.token), `alive after ${(i + 1) * 900} ms of use`);
  }
  clock.advance(900); // 4500 ms: still within max age
  assert.ok(store.get(s.token));
  clock.advance(600); // 5100 ms: past max age although used
  assert.equal(store.get(s.token), undefined);
  const idle = store.create(2);
  clock.advance(1000);
  assert.equal(store.get(idle.token), undefined, 'idle for idleMs ends it');
  assert.equal(store.get('not-a-token'), undefined);
});

test('sessions are bounded: the least recently used goes first', () => {
  const clock = new ManualClock();
  const store = new SessionStore(clock, { max: 3 });
  const a = store.create(1);
  const b = store.create(2);
  const c = store.create(3);
  assert.ok(store.get(a.token)); // a is now the most recently used
  const d = store.create(4);
  assert.equal(store.size(), 3);
  assert.equal(store.get(b.token), undefined, 'b was the least recently used');
  for (const s of [a, c, d]) assert.ok(store.get(s.token));
  assert.ok(store.delete(a.token));
  assert.equal(store.get(a.token), undefined);
});

test('the throttle allows 5 failures per minute and source, then says how long to wait; a success does not reset it', () => {
  const clock = new ManualClock();
  const t = new LoginThrottle(clock, 5, 60_000, 3);
  for (let i = 0; i < 5; i++) {
    assert.equal(t.retryAfterMs('10.0.0.1'), 0);
    t.fail('10.0.0.1');
    clock.advance(1000);
  }
  assert.equal(t.retryAfterMs('10.0.0.1'), 55_000, 'the oldest failure (5 s ago) leaves the window in 55 s');
  assert.equal(t.retryAfterMs('10.0.0.2'), 0, 'other sources are not affected');
  clock.advance(55_000);
  assert.equal(t.retryAfterMs('10.0.0.1'), 0, 'the window slid');
  // A success takes back only its own (tentative) failure: interleaving one's own logins does not reset the count.
  for (let i = 0; i < 3; i++) t.fail('10.0.0.1');
  t.fail('10.0.0.1');
  t.succeed('10.0.0.1');
  t.fail('10.0.0.1');
  assert.ok(t.retryAfterMs('10.0.0.1') > 0, '5 failures within the window, whatever succeeded in between');
  // Bounded memory: with maxSources 3, a spray of addresses forgets the oldest.
  for (let i = 0; i < 5; i++) t.fail('a');
  assert.ok(t.retryAfterMs('a') > 0);
  for (const ip of ['b', 'c', 'd']) t.fail(ip);
  assert.equal(t.retryAfterMs('a'), 0, 'the oldest source was forgotten');
  for (let i = 0; i < 4; i++) t.fail('d');
  assert.ok(t.retryAfterMs('d') > 0);
});

/** The parts of a koa context the login path reads and writes. */
function fakeCtx(ip: string): ApiContext & { headers: Record<string, string> } {
  const headers: Record<string, string> = {};
  return { ip, headers, set: (k: string, v: string) => void (headers[k] = v) } as unknown as ApiContext & { headers: Record<string, string> };
}

test('Authenticator.login: right password → user, wrong → 401 auth.invalid, 6th try → 429 with Retry-After', async () => {
  const store = Store.open(':memory:');
  try {
    const users = new UserRepository(store.db);
    users.create({ username: 'carol', password: 'carol-password', rights: ['sounds'] });
    const clock = new ManualClock();
    const auth = new Authenticator({ users, clock });
    assert.equal((await auth.login(fakeCtx('1.2.3.4'), 'carol', 'carol-password')).username, 'carol');
    for (let i = 0; i < 5; i++) {
      await assert.rejects(auth.login(fakeCtx('1.2.3.4'), i % 2 ? 'carol' : 'nobody', 'wrong'), (e: unknown) => e instanceof RelaisError && e.status === 401 && e.code === 'auth.invalid');
    }
    const ctx = fakeCtx('1.2.3.4');
    await assert.rejects(auth.login(ctx, 'carol', 'carol-password'), (e: unknown) => e instanceof RelaisError && e.status === 429);
    assert.equal(ctx.headers['Retry-After'], '60');
    assert.equal((await auth.login(fakeCtx('5.6.7.8'), 'carol', 'carol-password')).username, 'carol', 'another source still logs in');
    clock.advance(60_000);
    assert.equal((await auth.login(fakeCtx('1.2.3.4'), 'carol', 'carol-password')).username, 'carol', 'after a minute');
  } finally {
    store.close();
  }
});

test('parallel guesses from one source: only 5 reach the password check, the rest get 429 at once', async () => {
  const store = Store.open(':memory:');
  try {
    const users = new UserRepository(store.db);
    users.create({ username: 'dave', password: 'dave-password' });
    const auth = new Authenticator({ users, clock: new ManualClock() });
    const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => auth.login(fakeCtx('9.9.9.9'), 'dave', `guess-${i}`)));
    const statuses = results.map((r) => (r.status === 'rejected' && r.reason instanceof RelaisError ? r.reason.status : 0));
    assert.equal(statuses.filter((s) => s === 401).length, 5, statuses.join(','));
    assert.equal(statuses.filter((s) => s === 429).length, 15);
  } finally {
    store.close();
  }
});

/** Enough of a koa context for Authenticator.required(). */
function requestCtx(ip: string, authorization: string): ApiContext & { headers: Record<string, string> } {
  const headers: Record<string, string> = {};
  return {
    ip,
    headers,
    state: {},
    get: (k: string) => (k.toLowerCase() === 'authorization' ? authorization : ''),
    set: (k: string, v: string) => void (headers[k] = v),
    response: { get: (k: string) => headers[k] ?? '' },
    cookies: { get: () => undefined },
  } as unknown as ApiContext & { headers: Record<string, string> };
}

test('HTTP Basic: parallel requests with the same credentials share one password check; wrong ones get 401 with a Basic challenge', async () => {
  const store = Store.open(':memory:');
  try {
    const users = new UserRepository(store.db);
    users.create({ username: 'erin', password: 'erin-password' });
    let checks = 0;
    const counting = Object.create(users) as UserRepository;
    counting.verifyAsync = (u: string, p: string) => {
      checks++;
      return users.verifyAsync(u, p);
    };
    const auth = new Authenticator({ users: counting, clock: new ManualClock() });
    const mw = auth.required();
    const good = `Basic ${Buffer.from('erin:erin-password').toString('base64')}`;
    const ctxs = Array.from({ length: 12 }, () => requestCtx('7.7.7.7', good));
    await Promise.all(ctxs.map((c) => mw(c, async () => undefined)));
    assert.equal(checks, 1, 'one scrypt for twelve parallel requests');
    assert.ok(ctxs.every((c) => c.state.user?.username === 'erin'));
    await mw(requestCtx('7.7.7.7', good), async () => undefined);
    assert.equal(checks, 1, 'remembered for a minute');

    const bad = requestCtx('7.7.7.7', `Basic ${Buffer.from('erin:nope').toString('base64')}`);
    await assert.rejects(mw(bad, async () => undefined), (e: unknown) => e instanceof RelaisError && e.status === 401);
    assert.match(bad.headers['WWW-Authenticate'] ?? '', /^Basic realm="Relais"/);
    const none = requestCtx('7.7.7.7', '');
    await assert.rejects(mw(none, async () => undefined), (e: unknown) => e instanceof RelaisError && e.code === 'auth.required');
    assert.match(none.headers['WWW-Authenticate'] ?? '', /^Bearer/);
  } finally {
    store.close();
  }
});

test('a session and a cached Basic login never pass to a new user given a deleted user\'s id (the import scenario), and end with a password change', async () => {
  const store = Store.open(':memory:');
  try {
    const users = new UserRepository(store.db);
    users.create({ username: 'admin', role: 'admin', password: 'admin-password' });
    const leaving = users.create({ username: 'leaving', password: 'leaving-password' });
    const auth = new Authenticator({ users, clock: new ManualClock() });
    const session = auth.sessions.create(leaving.id);
    const bearer = (t: string): ApiContext => requestCtx('10.0.0.9', `Bearer ${t}`);
    const basic = (u: string, p: string): ApiContext => requestCtx('10.0.0.9', `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`);
    const who = async (ctx: ApiContext): Promise<string | number> => {
      try {
        await auth.required()(ctx as never, async () => {});
        return ctx.state.user!.username;
      } catch (err) {
        return err instanceof RelaisError ? err.status : -1;
      }
    };
    assert.equal(await who(bearer(session.token)), 'leaving');
    assert.equal(await who(basic('leaving', 'leaving-password')), 'leaving');
    // An import replaces the departing employee with a new administrator: user ids are never reused
    // (AUTOINCREMENT, migration 202612081401), and sessions are bound to the account's stamp besides.
    users.delete(leaving.id);
    const newcomer = users.create({ username: 'newadmin', role: 'admin', password: 'newadmin-password' });
    assert.notEqual(newcomer.id, leaving.id, 'a deleted user\'s id is not given to the next user');
    assert.equal(await who(bearer(session.token)), 401, 'the old session does not become the new administrator');
    assert.equal(await who(basic('leaving', 'leaving-password')), 401, 'nor does the cached Basic login');
    // A password change ends the sessions and cached Basic logins of that user at once.
    const s2 = auth.sessions.create(newcomer.id);
    assert.equal(await who(basic('newadmin', 'newadmin-password')), 'newadmin');
    users.setPassword(newcomer.id, 'changed-password');
    assert.equal(await who(bearer(s2.token)), 401);
    assert.equal(await who(basic('newadmin', 'newadmin-password')), 401);
    // Except the session that changed it (deleteForUser with except takes the new stamp).
    const s3 = auth.sessions.create(newcomer.id);
    const s4 = auth.sessions.create(newcomer.id);
    users.setPassword(newcomer.id, 'changed-again-password');
    auth.sessions.deleteForUser(newcomer.id, s3.token);
    assert.equal(await who(bearer(s3.token)), 'newadmin');
    assert.equal(await who(bearer(s4.token)), 401);
    // Rights changes too.
    users.update(newcomer.id, { role: 'user' });
    assert.equal(await who(bearer(s3.token)), 401);
  } finally {
    store.close();
  }
});

test('session eviction: one account logging in again and again evicts its own oldest sessions, never everyone else\'s', () => {
  const store = new SessionStore(new ManualClock(), { max: 10, perUser: 3 });
  const others = Array.from({ length: 6 }, (_, i) => store.create(100 + i));
  const mine = Array.from({ length: 50 }, () => store.create(7));
  for (const s of others) assert.ok(store.get(s.token), 'the other users keep their sessions');
  assert.equal(mine.filter((s) => store.get(s.token)).length, 3);
  // Full with many users: the one with the most sessions gives one up.
  const more = Array.from({ length: 3 }, (_, i) => store.create(200 + i));
  assert.equal(store.size(), 10);
  assert.ok(more.every((s) => store.get(s.token)));
  assert.equal(others.filter((s) => store.get(s.token)).length, 6);
});

test('login throttling per account too: guesses at one account spread over many addresses stop after 20 a minute', async () => {
  const store = Store.open(':memory:');
  try {
    const users = new UserRepository(store.db);
    users.create({ username: 'frank', password: 'frank-password' });
    const auth = new Authenticator({ users, clock: new ManualClock() });
    const statuses: number[] = [];
    for (let i = 0; i < 22; i++) {
      try {
        await auth.login(fakeCtx(`10.1.0.${i}`), 'frank', `guess-${i}`);
      } catch (err) {
        statuses.push(err instanceof RelaisError ? err.status : 0);
      }
    }
    assert.deepEqual([statuses.filter((s) => s === 401).length, statuses.filter((s) => s === 429).length], [20, 2]);
    // Another account from those addresses is not affected by frank's limit.
    await assert.rejects(auth.login(fakeCtx('10.1.0.99'), 'grace', 'x'), (e: RelaisError) => e.status === 401);
  } finally {
    store.close();
  }
});
