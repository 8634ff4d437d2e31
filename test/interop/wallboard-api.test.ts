// The wallboard over real HTTP and WebSocket: an administrator makes a read-only token; with it a TV reads the queues'
// board and follows it live (an agent logs in), and nothing else: every other resource, any write and the console's
// event stream refuse it (401); a user who is not an administrator cannot make one (403); revoking closes the board.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { WebSocket } from 'ws';
import { startRelais, tempDir, type RelaisProcess } from '../helpers/relais-process.js';
import { ADMIN, assertError, basic, call, jsonInit } from './api-support.js';

const CAROL = { username: 'carol', password: 'carol-password' }; // queues right, not an administrator
let relais: RelaisProcess;
let api: string;

before(async () => {
  const dir = tempDir('wallboard-api-');
  const site = path.join(dir, 'site.yaml');
  fs.writeFileSync(
    site,
    [
      'version: 1',
      'settings:',
      '  name: wallboard',
      'users:',
      `  - { username: carol, password: ${CAROL.password}, rights: [queues, users, history, calls] }`,
      '  - { username: alice, name: Alice Agent }',
      'extensions:',
      '  - { number: "201", user: alice, secret: secret-201, digest_algorithm: MD5 }',
      'queues:',
      '  - { name: support, short_number: "300", members: [alice] }',
      '',
    ].join('\n'),
  );
  relais = await startRelais({ dataDir: path.join(dir, 'data'), args: ['--site', site, '--domain', '127.0.0.1'] });
  api = `${relais.url}/api`;
});

after(async () => {
  await relais?.stop();
});

interface Board {
  queues: { name: string; waiting: number; longestWaitSeconds: number; agents: { name: string; loggedIn: boolean; state: string }[]; answered: number; abandoned: number; serviceLevel: number | null }[];
}

/** The board's socket: every message, and a wait for one matching. */
function openBoard(query: string, headers: Record<string, string> = {}): Promise<{ ws: WebSocket; next: (pred: (b: Board) => boolean) => Promise<Board>; closed: Promise<number> }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${relais.httpPort}/api/wallboard/events${query}`, { headers });
    const boards: Board[] = [];
    const waiters: { pred: (b: Board) => boolean; resolve: (b: Board) => void }[] = [];
    const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
    ws.on('message', (data) => {
      const m = JSON.parse(data.toString()) as { type: string; state: Board };
      assert.equal(m.type, 'wallboard');
      boards.push(m.state);
      for (const w of [...waiters]) if (w.pred(m.state)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(m.state);
      }
    });
    ws.once('open', () =>
      resolve({
        ws,
        closed,
        next: (pred) =>
          new Promise((res, rej) => {
            const seen = boards.find(pred);
            if (seen) return res(seen);
            const timer = setTimeout(() => rej(new Error(`no such board; got ${JSON.stringify(boards.at(-1))}`)), 15_000);
            waiters.push({ pred, resolve: (b) => (clearTimeout(timer), res(b)) });
          }),
      }),
    );
    ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

test('wallboard tokens: administrators only; a name is required; the secret is shown once', async () => {
  assertError(await call(`${api}/wallboard/tokens`, jsonInit('POST', { name: 'TV' }, basic(CAROL))), 403, 'auth.forbidden');
  assertError(await call(`${api}/wallboard/tokens`, jsonInit('POST', { name: '' }, basic(ADMIN))), 400, 'api.field_invalid', 'name');
  assertError(await call(`${api}/wallboard/tokens`, jsonInit('POST', { name: 'TV', extra: 1 }, basic(ADMIN))), 400, 'api.field_unknown', 'extra');
  assertError(await call(`${api}/wallboard/tokens`, jsonInit('POST', '{"name":', basic(ADMIN))), 400, 'api.json_invalid');
  const made = await call(`${api}/wallboard/tokens`, jsonInit('POST', { name: 'Hall TV' }, basic(ADMIN)));
  assert.equal(made.status, 201, JSON.stringify(made.json));
  assert.match(String(made.json.secret), /^rwb_/);
  const list = await call(`${api}/wallboard/tokens`, { headers: { authorization: basic(ADMIN) } });
  assert.deepEqual((list.json.tokens as { name: string }[]).map((t) => t.name), ['Hall TV']);
  assert.ok(!JSON.stringify(list.json).includes(String(made.json.secret)), 'the secret is not listed');
});

test('with a wallboard token: the board and its live stream, nothing else', async () => {
  const made = await call(`${api}/wallboard/tokens`, jsonInit('POST', { name: 'Office TV' }, basic(ADMIN)));
  const secret = String(made.json.secret);
  const id = (made.json.token as { id: number }).id;

  assertError(await call(`${api}/wallboard`), 401, 'wallboard.token_missing');
  assertError(await call(`${api}/wallboard?token=rwb_nope`), 401, 'wallboard.token_invalid');
  const board = await call(`${api}/wallboard?token=${encodeURIComponent(secret)}`);
  assert.equal(board.status, 200, JSON.stringify(board.json));
  const q = (board.json as unknown as Board).queues.find((x) => x.name === 'support');
  assert.ok(q, JSON.stringify(board.json));
  assert.equal(q.waiting, 0);
  assert.deepEqual(q.agents.map((a) => a.name), ['Alice Agent']);
  // The same with the Bearer header.
  assert.equal((await call(`${api}/wallboard`, { headers: { authorization: `Bearer ${secret}` } })).status, 200);

  // Nothing else takes it: reads, writes, the console's event stream.
  const bearer = { authorization: `Bearer ${secret}` };
  for (const p of ['/queues', '/calls', '/users', '/session', '/voicemails', '/wallboard/tokens', '/settings', '/callbacks', '/inbox']) {
    const r = await call(`${api}${p}`, { headers: bearer });
    assert.equal(r.status, 401, `${p}: ${JSON.stringify(r.json)}`);
    const rq = await call(`${api}${p}?token=${encodeURIComponent(secret)}`);
    assert.equal(rq.status, 401, `${p}?token: ${JSON.stringify(rq.json)}`);
  }
  for (const [m, p, body] of [
    ['POST', '/queues/1/login', { user: 'alice' }],
    ['PATCH', '/queues/1', { closed: true }],
    ['POST', '/users', { username: 'tv' }],
    ['POST', '/wallboard/tokens', { name: 'more' }],
    ['DELETE', `/wallboard/tokens/${id}`, undefined],
  ] as const) {
    const r = await call(`${api}${p}`, { method: m, headers: { ...bearer, 'content-type': 'application/json' }, ...(body ? { body: JSON.stringify(body) } : {}) });
    assert.equal(r.status, 401, `${m} ${p}: ${JSON.stringify(r.json)}`);
  }
  assert.equal((await call(`${api}/wallboard?token=${encodeURIComponent(secret)}`, { method: 'POST' })).status, 405);
  await assert.rejects(openEvents(bearer), /401/);

  // Live: the agent logs out (through an administrator), the board follows.
  const tv = await openBoard(`?token=${encodeURIComponent(secret)}`);
  await tv.next((b) => b.queues.some((x) => x.name === 'support' && x.agents.some((a) => a.loggedIn)));
  const queueId = ((await call(`${api}/queues`, { headers: { authorization: basic(ADMIN) } })).json.queues as { id: number; name: string }[]).find((x) => x.name === 'support')!.id;
  assert.equal((await call(`${api}/queues/${queueId}/logout`, jsonInit('POST', { user: 'alice' }, basic(ADMIN)))).status, 200);
  await tv.next((b) => b.queues.some((x) => x.name === 'support' && x.agents.some((a) => a.name === 'Alice Agent' && !a.loggedIn)));

  // Another site's page may not open it; a wrong token is refused.
  await assert.rejects(openBoard(`?token=${encodeURIComponent(secret)}`, { origin: 'http://evil.example' }), /403/);
  await assert.rejects(openBoard('?token=rwb_nope'), /401/);

  // Revoked: the open board closes, the token no longer reads.
  const del = await fetch(`${api}/wallboard/tokens/${id}`, { method: 'DELETE', headers: { authorization: basic(ADMIN) } });
  assert.equal(del.status, 204);
  assert.equal(await tv.closed, 4001);
  assertError(await call(`${api}/wallboard?token=${encodeURIComponent(secret)}`), 401, 'wallboard.token_invalid');
});

function openEvents(headers: Record<string, string>): Promise<void> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${relais.httpPort}/api/events`, { headers });
    ws.once('open', () => {
      ws.close();
      resolve();
    });
    ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    ws.once('error', reject);
  });
}
