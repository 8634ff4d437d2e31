// The console's API against a real Relais: strict bodies (400 naming the field), rights on every route, CSRF, API
// tokens, logout everywhere, first-run setup, audit log, static console, and the event stream with resume.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import WebSocket from 'ws';
import { startRelais, tempDir, type RelaisProcess } from '../helpers/relais-process.js';
import { BaresipPhone } from '../helpers/baresip.js';
import { makeToneWav } from '../helpers/audio.js';
import { ADMIN, ALICE, BOB, assertError, basic, call, jsonInit, writeApiSite } from './api-support.js';

let relais: RelaisProcess;
let url: string;
let dir: string;
const phones: BaresipPhone[] = [];

before(async () => {
  dir = tempDir('console-api-');
  relais = await startRelais({ dataDir: path.join(dir, 'data'), args: ['--site', writeApiSite(dir), '--domain', '127.0.0.1'] });
  url = `${relais.url}/api`;
});

after(async () => {
  await Promise.all(phones.map((p) => p.stop()));
  await relais?.stop();
});

interface Login {
  cookie: string;
  csrf: string;
  token: string;
}

async function login(user: { username: string; password: string }): Promise<Login> {
  const r = await call(`${url}/session`, jsonInit('POST', user));
  assert.equal(r.status, 201, JSON.stringify(r.json));
  return { cookie: (r.headers.get('set-cookie') ?? '').split(';')[0]!, csrf: r.json.csrfToken as string, token: r.json.token as string };
}

/** A JSON request as the console makes it: cookie + CSRF header. */
function asConsole(s: Login, method: string, body?: unknown): RequestInit {
  return {
    method,
    headers: { cookie: s.cookie, 'x-csrf-token': s.csrf, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  };
}

test('every write route refuses a malformed body with 400 naming the field', async () => {
  const admin = basic(ADMIN);
  const u = await call(`${url}/users`, jsonInit('POST', { username: 'carol', name: 'Carol', rights: ['history'] }, admin));
  assert.equal(u.status, 201, JSON.stringify(u.json));
  const userId = (u.json.user as { id: number }).id;
  const e = await call(`${url}/extensions`, jsonInit('POST', { number: '250' }, admin));
  assert.equal(e.status, 201, JSON.stringify(e.json));
  const extId = (e.json.extension as { id: number }).id;
  const t = await call(`${url}/trunks`, jsonInit('POST', { name: 'Carrier', host: '127.0.0.9', register: false }, admin));
  assert.equal(t.status, 201, JSON.stringify(t.json));
  const trunkId = (t.json.trunk as { id: number }).id;

  const cases: [string, string, unknown, string, string][] = [
    ['POST', '/users', { name: 'x' }, 'api.field_missing', 'username'],
    ['POST', '/users', { username: 'Bad Name' }, 'api.field_invalid', 'username'],
    ['POST', '/users', { username: 'dave', rights: ['root'] }, 'api.field_invalid', 'rights.0'],
    ['POST', '/users', { username: 'dave', password: 'short' }, 'api.field_invalid', 'password'],
    ['POST', '/users', { username: 'dave', admin: true }, 'api.field_unknown', 'admin'],
    ['PATCH', `/users/${userId}`, { language: 'de' }, 'api.field_invalid', 'language'],
    ['PATCH', `/users/${userId}`, { dnd: 'yes' }, 'api.field_type', 'dnd'],
    ['PATCH', `/users/${userId}`, { email: 'not-an-email' }, 'api.field_invalid', 'email'],
    ['POST', '/extensions', { displayName: 'x' }, 'api.field_missing', 'number'],
    ['POST', '/extensions', { number: '1' }, 'api.field_invalid', 'number'],
    ['POST', '/extensions', { number: '251', userId: 99999 }, 'extension.user_invalid', 'userId'],
    ['PATCH', `/extensions/${extId}`, { voicemailPin: '12' }, 'api.field_invalid', 'voicemailPin'],
    ['PATCH', `/extensions/${extId}`, { secret: 'chosen-secret' }, 'api.field_unknown', 'secret'],
    ['PATCH', '/settings', { timezone: 'Mars/Olympus' }, 'api.field_invalid', 'timezone'],
    ['PATCH', '/settings', { language: 'it' }, 'api.field_invalid', 'language'],
    ['PATCH', '/settings', { country: 'DE' }, 'api.field_invalid', 'country'],
    ['PATCH', '/settings', { name: 42 }, 'api.field_type', 'name'],
    ['POST', '/trunks', { name: 'x' }, 'api.field_missing', 'host'],
    ['POST', '/trunks', { name: 'x', host: 'a b' }, 'api.field_invalid', 'host'],
    ['PATCH', `/trunks/${trunkId}`, { port: 70000 }, 'api.field_invalid', 'port'],
    ['PATCH', `/trunks/${trunkId}`, { transport: 'sctp' }, 'api.field_invalid', 'transport'],
    ['POST', '/routes', { name: 'r', pattern: '0abc', trunkId }, 'api.field_invalid', 'pattern'],
    ['POST', '/routes', { name: 'r', pattern: '0.' }, 'api.field_missing', 'trunkId'],
    ['POST', '/tokens', { name: '' }, 'api.field_invalid', 'name'],
    ['POST', '/tokens', { name: 'x', expiresInDays: 0 }, 'api.field_invalid', 'expiresInDays'],
    ['PUT', '/session/password', { current: 'x' }, 'api.field_missing', 'password'],
    ['PATCH', '/session', { language: 'xx' }, 'api.field_invalid', 'language'],
    ['POST', '/setup', { token: 'x' }, 'api.field_missing', 'password'],
    ['POST', '/session', { username: 'admin' }, 'api.field_missing', 'password'],
  ];
  for (const [method, p, body, code, field] of cases) {
    const r = await call(`${url}${p}`, jsonInit(method, body, admin));
    assert.equal(r.status, 400, `${method} ${p} ${JSON.stringify(body)} → ${JSON.stringify(r.json)}`);
    assertError(r, 400, code, field);
  }
  // Not JSON at all, or not an object: 400/415 before any field.
  assertError(await call(`${url}/users`, jsonInit('POST', '{"username":', admin)), 400, 'api.json_invalid');
  assertError(await call(`${url}/users`, jsonInit('POST', '[1]', admin)), 400, 'api.json_invalid');
  assertError(await call(`${url}/users`, { method: 'POST', body: 'username=x', headers: { authorization: admin, 'content-type': 'text/plain' } }), 415, 'api.content_type');
  assertError(await call(`${url}/users?limit=0`, { headers: { authorization: admin } }), 400, 'api.param_invalid', 'limit');
  assertError(await call(`${url}/users?colour=red`, { headers: { authorization: admin } }), 400, 'api.param_unknown', 'colour');
  // Nothing was created by the refused requests.
  const list = await call(`${url}/users`, { headers: { authorization: admin } });
  assert.deepEqual((list.json.users as { username: string }[]).map((x) => x.username).sort(), ['admin', 'alice', 'bob', 'carol']);
});

test('rights on every route: 401 without login, 403 without the right, allowed with it', async () => {
  const routes: [string, string, string | null][] = [
    ['GET', '/users', 'users'],
    ['GET', '/extensions', 'users'],
    ['POST', '/extensions', 'users'],
    ['PATCH', '/settings', 'settings'],
    ['GET', '/trunks', 'trunks'],
    ['POST', '/trunks', 'trunks'],
    ['GET', '/routes', 'trunks'],
    ['GET', '/system', 'admin'],
    ['GET', '/system/logs', 'admin'],
    ['GET', '/system/backup', 'admin'],
    ['POST', '/system/restore', 'admin'],
    ['GET', '/audit', 'admin'],
    ['GET', '/calls', 'history'],
    ['GET', '/sounds', 'sounds'],
    ['GET', '/settings', null],
    ['GET', '/system/health', null],
    ['GET', '/tokens', null],
  ];
  for (const [method, p, right] of routes) {
    assertError(await call(`${url}${p}`, { method }), 401, 'auth.required');
    const bob = await call(`${url}${p}`, { method, headers: { authorization: basic(BOB) } }); // bob has no right
    if (right === null) assert.equal(bob.status, 200, `${method} ${p} is open to every user: ${JSON.stringify(bob.json)}`);
    else assertError(bob, 403, 'auth.forbidden');
  }
  // Alice has "sounds" only: sounds yes, users no.
  assert.equal((await call(`${url}/sounds`, { headers: { authorization: basic(ALICE) } })).status, 200);
  assertError(await call(`${url}/users`, { headers: { authorization: basic(ALICE) } }), 403, 'auth.forbidden');
  // A user with the "users" right cannot make an administrator.
  const admin = basic(ADMIN);
  const m = await call(`${url}/users`, jsonInit('POST', { username: 'manager', password: 'manager-pw-1', rights: ['users'] }, admin));
  assert.equal(m.status, 201);
  const manager = basic({ username: 'manager', password: 'manager-pw-1' });
  assertError(await call(`${url}/users`, jsonInit('POST', { username: 'evil', role: 'admin' }, manager)), 403, 'auth.forbidden', 'role');
  const plain = await call(`${url}/users`, jsonInit('POST', { username: 'plain', rights: ['history'] }, manager));
  assert.equal(plain.status, 201, JSON.stringify(plain.json));
});

test('CSRF: a cookie change without the session token, or from another site, is refused; with it, accepted', async () => {
  const s = await login(ADMIN);
  const body = JSON.stringify({ name: 'Office CSRF' });
  const noToken = await call(`${url}/settings`, { method: 'PATCH', body, headers: { cookie: s.cookie, 'content-type': 'application/json' } });
  assertError(noToken, 403, 'auth.csrf');
  const wrong = await call(`${url}/settings`, { method: 'PATCH', body, headers: { cookie: s.cookie, 'content-type': 'application/json', 'x-csrf-token': 'x'.repeat(32) } });
  assertError(wrong, 403, 'auth.csrf');
  // A form post from another site's page (what a forged request looks like): Origin names the other site.
  const crossSite = await call(`${url}/users`, {
    method: 'POST',
    body: JSON.stringify({ username: 'forged' }),
    headers: { cookie: s.cookie, 'content-type': 'application/json', origin: 'http://evil.example', 'x-csrf-token': s.csrf },
  });
  assertError(crossSite, 403, 'auth.cross_origin');
  const ok = await call(`${url}/settings`, asConsole(s, 'PATCH', { name: 'Office CSRF' }));
  assert.equal(ok.status, 200, JSON.stringify(ok.json));
  assert.equal((ok.json.settings as { name: string }).name, 'Office CSRF');
  // Reads need no token; the bearer token (scripts) needs none either.
  assert.equal((await call(`${url}/settings`, { headers: { cookie: s.cookie } })).status, 200);
  assert.equal((await call(`${url}/settings`, jsonInit('PATCH', { name: 'Office' }, `Bearer ${s.token}`))).status, 200);
  const users = await call(`${url}/users`, { headers: { authorization: basic(ADMIN) } });
  assert.ok(!(users.json.users as { username: string }[]).some((x) => x.username === 'forged'));
});

test('API tokens: shown once, work as Bearer, revoked at once; logout everywhere ends every session', async () => {
  const s = await login(ALICE);
  const created = await call(`${url}/tokens`, asConsole(s, 'POST', { name: 'backup script' }));
  assert.equal(created.status, 201, JSON.stringify(created.json));
  const secret = created.json.secret as string;
  assert.match(secret, /^rls_[A-Za-z0-9_-]{40,}$/);
  const id = (created.json.token as { id: number }).id;
  const listed = await call(`${url}/tokens`, { headers: { cookie: s.cookie } });
  assert.ok(!JSON.stringify(listed.json).includes(secret), 'the secret is never listed');
  assert.equal((await call(`${url}/sounds`, { headers: { authorization: `Bearer ${secret}` } })).status, 200);
  assertError(await call(`${url}/users`, { headers: { authorization: `Bearer ${secret}` } }), 403, 'auth.forbidden');
  assert.equal((await fetch(`${url}/tokens/${id}`, asConsole(s, 'DELETE'))).status, 204);
  assertError(await call(`${url}/sounds`, { headers: { authorization: `Bearer ${secret}` } }), 401, 'auth.required');

  const other = await login(ALICE);
  assert.equal((await fetch(`${url}/sessions`, asConsole(s, 'DELETE'))).status, 204);
  assertError(await call(`${url}/session`, { headers: { cookie: other.cookie } }), 401, 'auth.required');
  assertError(await call(`${url}/session`, { headers: { cookie: s.cookie } }), 401, 'auth.required');
});

test('password change: needs the current password, ends the other sessions', async () => {
  await call(`${url}/users`, jsonInit('POST', { username: 'erin', password: 'erin-password-1' }, basic(ADMIN)));
  const a = await login({ username: 'erin', password: 'erin-password-1' });
  const b = await login({ username: 'erin', password: 'erin-password-1' });
  assertError(await call(`${url}/session/password`, asConsole(a, 'PUT', { current: 'wrong-one-x', password: 'erin-password-2' })), 400, 'auth.password_wrong', 'current');
  assert.equal((await fetch(`${url}/session/password`, asConsole(a, 'PUT', { current: 'erin-password-1', password: 'erin-password-2' }))).status, 204);
  assert.equal((await call(`${url}/session`, { headers: { cookie: a.cookie } })).status, 200, 'this session goes on');
  assertError(await call(`${url}/session`, { headers: { cookie: b.cookie } }), 401, 'auth.required');
  assertError(await call(`${url}/session`, jsonInit('POST', { username: 'erin', password: 'erin-password-1' })), 401, 'auth.invalid');
  await login({ username: 'erin', password: 'erin-password-2' });
});

test('extensions: the secret is shown at creation and when regenerated, never in lists; the phone registers with it', async () => {
  const admin = basic(ADMIN);
  const e = await call(`${url}/extensions`, jsonInit('POST', { number: '260', displayName: 'Front desk' }, admin));
  assert.equal(e.status, 201);
  const secret = e.json.secret as string;
  assert.match(secret, /^[A-Za-z0-9]{16}$/);
  const id = (e.json.extension as { id: number }).id;
  const list = await call(`${url}/extensions`, { headers: { authorization: admin } });
  assert.ok(!JSON.stringify(list.json).includes(secret));
  assert.ok(!JSON.stringify(list.json).includes('ha1'));
  const again = await call(`${url}/extensions/${id}/secret`, { method: 'POST', headers: { authorization: admin } });
  assert.equal(again.status, 200);
  const fresh = again.json.secret as string;
  assert.notEqual(fresh, secret);
  // Applies at once: a phone registers with the new secret right away.
  const phone = await BaresipPhone.start({ name: 'desk260', account: { user: '260', password: fresh, registrar: `127.0.0.1:${relais.sipPort}`, regint: 600 }, audioFile: makeToneWav(path.join(dir, 't.wav'), 440, 5) });
  phones.push(phone);
  await phone.registered();
  const one = await call(`${url}/extensions/${id}`, { headers: { authorization: admin } });
  assert.equal((one.json.extension as { registered: boolean }).registered, true);
  await phone.stop();
});

test('audit log: changes with who, what, when; secrets masked; administrators only', async () => {
  const admin = basic(ADMIN);
  await call(`${url}/users`, jsonInit('POST', { username: 'frank', password: 'frank-password' }, admin));
  const r = await call(`${url}/audit?resource=users&limit=5`, { headers: { authorization: admin } });
  assert.equal(r.status, 200);
  const entries = r.json.entries as { username: string; action: string; target: string; at: number; detail: Record<string, unknown> }[];
  const e = entries.find((x) => x.target === 'frank');
  assert.ok(e, JSON.stringify(entries));
  assert.equal(e.username, 'admin');
  assert.equal(e.action, 'POST /api/users');
  assert.equal(e.detail.password, '***');
  assert.ok(Math.abs(e.at - Date.now()) < 60_000);
  assertError(await call(`${url}/audit`, { headers: { authorization: basic(ALICE) } }), 403, 'auth.forbidden');
});

test('settings apply at once; system info, health samples, logs, backup download', async () => {
  const admin = basic(ADMIN);
  const p = await call(`${url}/settings`, jsonInit('PATCH', { timezone: 'Europe/Paris', language: 'fr', country: 'FR', name: 'Cabinet Martin' }, admin));
  assert.equal(p.status, 200, JSON.stringify(p.json));
  const g = await call(`${url}/settings`, { headers: { authorization: basic(BOB) } });
  assert.deepEqual(g.json.settings, { name: 'Cabinet Martin', language: 'fr', country: 'FR', timezone: 'Europe/Paris', httpsRedirect: false, effectiveTimezone: 'Europe/Paris' });
  const sys = await call(`${url}/system`, { headers: { authorization: admin } });
  assert.match(sys.json.version as string, /^\d+\.\d+\.\d+/);
  assert.ok(Array.isArray(sys.json.network));
  const logs = await call(`${url}/system/logs?lines=20`, { headers: { authorization: admin } });
  assert.ok((logs.json.lines as string[]).some((l) => l.includes('relais started')), 'the log tail holds the start line');
  const b = await fetch(`${url}/system/backup`, { headers: { authorization: admin } });
  assert.equal(b.status, 200);
  assert.match(b.headers.get('content-disposition') ?? '', /relais-backup-.*\.tar\.gz/);
  const bytes = Buffer.from(await b.arrayBuffer());
  assert.equal(bytes[0], 0x1f);
  assert.equal(bytes[1], 0x8b);
  // The backup goes back up: verified now, restored at the next start.
  const up = await call(`${url}/system/restore`, { method: 'POST', body: bytes, headers: { authorization: admin, 'content-type': 'application/gzip' } });
  assert.equal(up.status, 202, JSON.stringify(up.json));
  assert.equal(up.json.restartRequired, true);
  assert.equal((await fetch(`${url}/system/restore`, { method: 'DELETE', headers: { authorization: admin } })).status, 204);
  const junk = await call(`${url}/system/restore`, { method: 'POST', body: Buffer.from('not a tarball at all'), headers: { authorization: admin, 'content-type': 'application/gzip' } });
  assertError(junk, 400, 'backup.invalid', 'file');
});

test('the console is served at / (index.html for console routes), the API keeps its JSON 404', async () => {
  const root = await fetch(`${relais.url}/`);
  assert.equal(root.status, 200);
  assert.match(root.headers.get('content-type') ?? '', /text\/html/);
  assert.match(root.headers.get('content-security-policy') ?? '', /default-src 'self'/);
  assert.match(await root.text(), /Relais/);
  const deep = await fetch(`${relais.url}/users/12`);
  assert.equal(deep.status, 200);
  assertError(await call(`${url}/nothing-here`), 404, 'http.not_found');
  assert.equal((await fetch(`${relais.url}/../../etc/passwd`)).status !== 200 || !(await fetch(`${relais.url}/%2e%2e/%2e%2e/etc/passwd`).then((r) => r.text())).includes('root:'), true);
});

/** A WebSocket on /api/events collecting messages. */
function subscribe(headers: Record<string, string>, query = ''): Promise<{ ws: WebSocket; messages: Record<string, unknown>[]; next: (pred: (m: Record<string, unknown>) => boolean, what: string) => Promise<Record<string, unknown>> }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${relais.httpPort}/api/events${query}`, { headers });
    const messages: Record<string, unknown>[] = [];
    const waiters: { pred: (m: Record<string, unknown>) => boolean; resolve: (m: Record<string, unknown>) => void }[] = [];
    ws.on('message', (data) => {
      const m = JSON.parse(data.toString()) as Record<string, unknown>;
      messages.push(m);
      for (const w of [...waiters]) if (w.pred(m)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(m);
      }
    });
    ws.once('open', () =>
      resolve({
        ws,
        messages,
        next: (pred, what) =>
          new Promise((res, rej) => {
            const seen = messages.find(pred);
            if (seen) return res(seen);
            const timer = setTimeout(() => rej(new Error(`timed out waiting for ${what}; got ${JSON.stringify(messages.map((x) => x.type))}`)), 15_000);
            waiters.push({ pred, resolve: (m) => (clearTimeout(timer), res(m)) });
          }),
      }),
    );
    ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

test('event stream: authenticated, snapshot then live calls and registrations, resume after a drop without missing changes', async () => {
  // Refused without credentials and from another site's page.
  await assert.rejects(subscribe({}), /401/);
  const s = await login(ADMIN);
  await assert.rejects(subscribe({ cookie: s.cookie, origin: 'http://evil.example' }), /403/);

  const sub = await subscribe({ cookie: s.cookie });
  const hello = await sub.next((m) => m.type === 'hello', 'hello');
  const snapshot = hello.snapshot as { calls: unknown[]; registrations: unknown[]; system: unknown[] };
  assert.ok(Array.isArray(snapshot.calls) && Array.isArray(snapshot.registrations), JSON.stringify(hello).slice(0, 300));
  assert.equal(typeof hello.seq, 'number');
  // Bob (no rights) gets no trunk state.
  const bobSub = await subscribe({ authorization: basic(BOB) });
  const bobHello = await bobSub.next((m) => m.type === 'hello', 'hello for bob');
  assert.ok(!('trunks' in (bobHello.snapshot as object)));
  assert.ok('trunks' in snapshot);
  bobSub.ws.close();

  // Two phones register and call: the dashboard's events arrive in order.
  const tone = makeToneWav(path.join(dir, 'ev.wav'), 440, 30);
  const a = await BaresipPhone.start({ name: 'ev201', account: { user: '201', password: 'secret-201', registrar: `127.0.0.1:${relais.sipPort}`, regint: 600 }, audioFile: tone });
  const b = await BaresipPhone.start({ name: 'ev202', account: { user: '202', password: 'secret-202', registrar: `127.0.0.1:${relais.sipPort}`, regint: 600 }, audioFile: tone });
  phones.push(a, b);
  await Promise.all([a.registered(), b.registered()]);
  await sub.next((m) => m.type === 'registration.added' && (m.data as { extension: string }).extension === '202', 'registration of 202');
  await a.dial('202');
  await b.acceptIncoming();
  await Promise.all([a.established(), b.established()]);
  const started = await sub.next((m) => m.type === 'call.started', 'call.started');
  const callId = (started.data as { id: string }).id;
  await sub.next((m) => m.type === 'call.answered' && (m.data as { id: string }).id === callId, 'call.answered');

  // The socket drops mid-call; on reconnect the snapshot has the call in progress.
  const lastSeq = Math.max(...sub.messages.map((m) => (typeof m.seq === 'number' ? m.seq : 0)));
  sub.ws.close();
  await call(`${url}/settings`, jsonInit('PATCH', { name: 'Changed while away' }, basic(ADMIN)));
  const again = await subscribe({ cookie: s.cookie }, `?since=${lastSeq}&epoch=${hello.epoch as string}`);
  const hello2 = await again.next((m) => m.type === 'hello', 'hello after reconnect');
  assert.equal(hello2.gap, false);
  assert.ok((hello2.snapshot as { calls: { id: string }[] }).calls.some((c) => c.id === callId), 'the call in progress is in the snapshot');
  const missed = hello2.missed as { type: string; data: { resource: string } }[];
  assert.ok(missed.some((e) => e.type === 'config.changed' && e.data.resource === 'settings'), `missed: ${JSON.stringify(missed.map((e) => e.type))}`);
  await a.hangup();
  await Promise.all([a.closed(), b.closed()]);
  const ended = await again.next((m) => m.type === 'call.ended' && (m.data as { id: string }).id === callId, 'call.ended');
  assert.ok((ended.seq as number) > (hello2.seq as number));

  // Logging out closes the socket at once.
  const closed = new Promise<number>((resolve) => again.ws.once('close', (code) => resolve(code)));
  await fetch(`${url}/session`, asConsole(s, 'DELETE'));
  assert.equal(await closed, 4001);
});

test('first-run setup: without a given admin password, the browser chooses it with the token printed at start', async () => {
  const d = tempDir('console-setup-');
  const r = await startRelais({ dataDir: path.join(d, 'data'), env: { RELAIS_ADMIN_PASSWORD: '' } });
  try {
    const m = /setup\?token=([A-Za-z0-9_-]+)/.exec(r.output());
    assert.ok(m, r.output());
    const api = `${r.url}/api`;
    assert.deepEqual((await call(`${api}/setup`)).json, { pending: true });
    assertError(await call(`${api}/setup`, jsonInit('POST', { token: 'A'.repeat(m[1]!.length), password: 'chosen-password' })), 403, 'setup.token_invalid', 'token');
    const ok = await call(`${api}/setup`, jsonInit('POST', { token: m[1], password: 'chosen-password' }));
    assert.equal(ok.status, 201, JSON.stringify(ok.json));
    assert.equal((ok.json.user as { username: string }).username, 'admin');
    assert.deepEqual((await call(`${api}/setup`)).json, { pending: false });
    assertError(await call(`${api}/setup`, jsonInit('POST', { token: m[1], password: 'another-password' })), 409, 'setup.done');
    assert.equal((await call(`${api}/session`, jsonInit('POST', { username: 'admin', password: 'chosen-password' }))).status, 201);
  } finally {
    await r.stop();
  }
});
