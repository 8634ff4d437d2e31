// The console platform's parts on a ManualClock: zod errors as API errors, the event bus (ring, resume, audiences),
// sessions (logout everywhere, expiry with the cookie and CSRF), API tokens, the audit log and its migration.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { ManualClock, RelaisError } from '../../../services/shared/index.js';
import { Store } from '../../../services/storage/index.js';
import { UserRepository } from '../../../services/directory/index.js';
import { ApiTokenRepository, Authenticator, SessionStore, mayReceive, parse, type ApiContext } from '../../../services/api/index.js';
import { EventBus } from '../../../services/events/index.js';
import { AuditLog, redact } from '../../../services/audit/index.js';

function err(fn: () => unknown): RelaisError {
  try {
    fn();
  } catch (e) {
    if (e instanceof RelaisError) return e;
    throw e;
  }
  throw new Error('expected a RelaisError');
}

test('zod failures become 400s naming the field with the documented codes', () => {
  const schema = z.strictObject({ name: z.string().max(5), age: z.number().int(), tags: z.array(z.enum(['a', 'b'])).optional(), nested: z.strictObject({ x: z.boolean() }).optional() });
  assert.deepEqual(parse(schema, { name: 'ab', age: 3 }), { name: 'ab', age: 3 });
  const cases: [unknown, string, string][] = [
    [{ age: 3 }, 'api.field_missing', 'name'],
    [{ name: 1, age: 3 }, 'api.field_type', 'name'],
    [{ name: 'toolong', age: 3 }, 'api.field_too_long', 'name'],
    [{ name: 'a', age: 3.5 }, 'api.field_type', 'age'],
    [{ name: 'a', age: 3, tags: ['c'] }, 'api.field_invalid', 'tags.0'],
    [{ name: 'a', age: 3, nested: { x: true, y: 1 } }, 'api.field_unknown', 'nested.y'],
    [{ name: 'a', age: 3, extra: 1 }, 'api.field_unknown', 'extra'],
  ];
  for (const [input, code, field] of cases) {
    const e = err(() => parse(schema, input));
    assert.equal(e.status, 400);
    assert.equal(e.code, code, `${JSON.stringify(input)}: ${e.message}`);
    assert.equal(e.field, field);
    assert.ok(e.message.length > 0);
  }
});

test('event bus: sequence numbers, replay since a seq while kept, a gap once dropped, snapshots filtered by audience', () => {
  const clock = new ManualClock();
  const bus = new EventBus({ clock, history: 3 });
  const seen: string[] = [];
  const off = bus.subscribe((e) => seen.push(`${e.seq}:${e.type}`));
  bus.publish('config.changed', { resource: 'users', id: '1', action: 'POST', by: 'admin' });
  bus.publish('system.alert', { level: 'warning', code: 'x', message: 'm' });
  assert.deepEqual(seen, ['1:config.changed', '2:system.alert']);
  assert.deepEqual(bus.since(1)?.map((e) => e.seq), [2]);
  assert.deepEqual(bus.since(2), []);
  for (let i = 0; i < 3; i++) bus.publish('system.alert', { level: 'info', code: `c${i}`, message: 'm' });
  assert.equal(bus.since(1), undefined, 'events 2.. are no longer all kept');
  assert.deepEqual(bus.since(2)?.map((e) => e.seq), [3, 4, 5]);
  off();
  bus.publish('system.alert', { level: 'info', code: 'late', message: 'm' });
  assert.equal(seen.length, 5);
  bus.addSnapshotSource({ key: 'calls', audience: null, read: () => [1] });
  bus.addSnapshotSource({ key: 'trunks', audience: 'trunks', read: () => [2] });
  bus.addSnapshotSource({ key: 'secret', audience: 'admin', read: () => [3] });
  const store = Store.open(':memory:');
  try {
    const users = new UserRepository(store.db);
    const plain = users.create({ username: 'plain' });
    const trunky = users.create({ username: 'trunky', rights: ['trunks'] });
    const admin = users.create({ username: 'boss', role: 'admin' });
    assert.deepEqual(Object.keys(bus.snapshot((a) => mayReceive(plain, a, users))), ['calls']);
    assert.deepEqual(Object.keys(bus.snapshot((a) => mayReceive(trunky, a, users))), ['calls', 'trunks']);
    assert.deepEqual(Object.keys(bus.snapshot((a) => mayReceive(admin, a, users))), ['calls', 'trunks', 'secret']);
  } finally {
    store.close();
  }
});

test('sessions: logout everywhere ends all of a user\'s sessions (but the one kept) and tells listeners; isLive does not extend', () => {
  const clock = new ManualClock();
  const store = new SessionStore(clock, { idleMs: 1000 });
  const a = store.create(1);
  const b = store.create(1);
  const c = store.create(2);
  const ended: string[] = [];
  store.onEnd((s) => ended.push(s.token));
  assert.equal(store.deleteForUser(1, b.token), 1);
  assert.deepEqual(ended, [a.token]);
  assert.ok(store.get(b.token) && store.get(c.token));
  assert.notEqual(b.csrf, c.csrf);
  clock.advance(600);
  assert.ok(store.isLive(c.token));
  clock.advance(600);
  assert.equal(store.isLive(c.token), false, 'isLive did not count as a use');
});

/** Enough of a koa context for a cookie request. */
function cookieCtx(method: string, token: string, csrf = ''): ApiContext {
  return {
    ip: '10.0.0.1',
    method,
    host: 'relais',
    state: {},
    get: (k: string) => (k.toLowerCase() === 'x-csrf-token' ? csrf : ''),
    set: () => undefined,
    response: { get: () => '' },
    cookies: { get: () => token },
  } as unknown as ApiContext;
}

test('cookie sessions: reads need no CSRF token, changes need the session\'s; an idle session ends (401)', async () => {
  const clock = new ManualClock();
  const db = Store.open(':memory:');
  try {
    const users = new UserRepository(db.db);
    const u = users.create({ username: 'gina', password: 'gina-password' });
    const auth = new Authenticator({ users, clock, sessions: { idleMs: 60_000 } });
    const s = auth.sessions.create(u.id);
    const mw = auth.required();
    const next = async (): Promise<void> => {};
    await mw(cookieCtx('GET', s.token) as never, next);
    const refused = await mw(cookieCtx('POST', s.token) as never, next).catch((e: unknown) => e);
    assert.ok(refused instanceof RelaisError && refused.code === 'auth.csrf' && refused.status === 403);
    await mw(cookieCtx('POST', s.token, s.csrf) as never, next);
    clock.advance(60_000);
    const expired = await mw(cookieCtx('GET', s.token) as never, next).catch((e: unknown) => e);
    assert.ok(expired instanceof RelaisError && expired.status === 401 && expired.code === 'auth.required');
  } finally {
    db.close();
  }
});

test('API tokens: hash stored, verify until expiry or deletion, deleted with their user', () => {
  const clock = new ManualClock();
  const store = Store.open(':memory:');
  try {
    const users = new UserRepository(store.db);
    const u = users.create({ username: 'hank' });
    const tokens = new ApiTokenRepository(store.db, clock);
    const { token, secret } = tokens.create(u.id, 'script', 10_000);
    const stored = store.db.prepare('SELECT token_hash FROM api_tokens').get() as { token_hash: string };
    assert.ok(!stored.token_hash.includes(secret.slice(4)));
    assert.equal(tokens.verify(secret)?.id, token.id);
    assert.equal(tokens.verify(`${secret}x`), undefined);
    clock.advance(10_000);
    assert.equal(tokens.verify(secret), undefined, 'expired');
    const forever = tokens.create(u.id, 'cron').secret;
    users.delete(u.id);
    assert.equal(tokens.verify(forever), undefined, 'gone with the user');
  } finally {
    store.close();
  }
});

test('audit log: records newest first with paging and filters, masks secrets, stays bounded', () => {
  const clock = new ManualClock();
  const store = Store.open(':memory:');
  try {
    const log = new AuditLog(store.db, clock, { maxRows: 5 });
    for (let i = 0; i < 7; i++) {
      clock.advance(1000);
      log.record({ userId: 1, username: 'admin', source: '10.0.0.1', action: `POST /api/users`, resource: i % 2 ? 'users' : 'settings', target: String(i), status: 201, detail: { password: 'x', secret: 's', name: `n${i}`, nested: { voicemailPin: '1234' } } });
    }
    const all = log.list({ limit: 3 });
    assert.deepEqual(all.map((e) => e.target), ['6', '5', '4']);
    assert.deepEqual(log.list({ limit: 3, before: all[2]!.id }).map((e) => e.target), ['3', '2', '1']);
    assert.deepEqual(log.list({ limit: 10, resource: 'users' }).map((e) => e.target), ['5', '3', '1']);
    assert.deepEqual(all[0]!.detail, { password: '***', secret: '***', name: 'n6', nested: { voicemailPin: '***' } });
    log.trim();
    assert.equal(log.list({ limit: 100 }).length, 5);
    assert.equal(redact('x'.repeat(300))?.toString().length, 201);
  } finally {
    store.close();
  }
});

test('migration 202612071200-console: audit_log and api_tokens tables with their indexes', () => {
  const store = Store.open(':memory:');
  try {
    const names = (store.db.prepare("SELECT name FROM sqlite_master WHERE name LIKE 'audit_log%' OR name LIKE 'api_tokens%' ORDER BY name").all() as { name: string }[]).map((r) => r.name);
    assert.deepEqual(names, ['api_tokens', 'api_tokens_user', 'audit_log', 'audit_log_at', 'audit_log_user']);
    assert.equal(store.schemaVersion() >= '202612071200', true);
  } finally {
    store.close();
  }
});
