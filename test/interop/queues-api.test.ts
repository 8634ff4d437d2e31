// Queues and callbacks through the REST API of a real Relais: live state, log in/out/pause (self and by right),
// closed switch, callbacks (create, dedupe, reschedule, link, cancel), stats, history, rights, bad input, restart.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startRelais, tempDir, type RelaisProcess } from '../helpers/relais-process.js';
import { ADMIN, assertError, basic, call, jsonInit } from './api-support.js';

const AGENT = { username: 'agent', password: 'agent-password' };
const SUPER = { username: 'super', password: 'super-password' };
const CLERK = { username: 'clerk', password: 'clerk-password' };

let relais: RelaisProcess;
let dir: string;
let url: string;

function writeSite(d: string): string {
  const file = path.join(d, 'site.yaml');
  fs.writeFileSync(
    file,
    `version: 1
users:
  - username: ${AGENT.username}
    password: ${AGENT.password}
  - username: ${SUPER.username}
    password: ${SUPER.password}
    rights: [queues]
  - username: ${CLERK.username}
    password: ${CLERK.password}
    rights: [callbacks]
extensions:
  - number: "301"
    user: agent
    secret: secret-301
queues:
  - name: support
    short_number: "900"
    strategy: round_robin
    lost_call_rules: {after_abandon: true, business_hours_only: false}
    members: [agent, super]
  - name: sales
    short_number: "901"
    members: [super]
`,
  );
  return file;
}

before(async () => {
  dir = tempDir('queues-api-');
  relais = await startRelais({ dataDir: path.join(dir, 'data'), args: ['--site', writeSite(dir), '--domain', '127.0.0.1'] });
  url = `${relais.url}/api`;
});

after(async () => {
  await relais?.stop();
});

type Queue = { id: number; name: string; availability: string; participants: { user: string; loggedIn: boolean; paused: boolean; pauseReason: string | null; state: string }[]; waiting: { caller: string; kind: string; position: number }[] };

async function queues(auth = basic(SUPER)): Promise<Queue[]> {
  const r = await call(`${url}/queues`, { headers: { authorization: auth } });
  assert.equal(r.status, 200, JSON.stringify(r.json));
  return r.json.queues as Queue[];
}

test('GET /api/queues: live state of each queue with its participants (new ones logged in) and no one waiting', async () => {
  const list = await queues();
  assert.deepEqual(list.map((q) => [q.name, q.availability]), [['support', 'open'], ['sales', 'open']]);
  const support = list[0]!;
  assert.deepEqual(support.participants.map((p) => [p.user, p.loggedIn, p.paused, p.state]), [['agent', true, false, 'unregistered'], ['super', true, false, 'unregistered']]);
  assert.deepEqual(support.waiting, []);
  assertError(await call(`${url}/queues`, { headers: { authorization: basic(AGENT) } }), 403, 'auth.forbidden');
  assertError(await call(`${url}/queues`), 401, 'auth.required');
});

test('log in / out / pause: an agent for themself, a supervisor for others; errors name the field', async () => {
  const support = (await queues())[0]!;
  const post = (action: string, who: { username: string; password: string }, body?: object) =>
    call(`${url}/queues/${support.id}/${action}`, body ? jsonInit('POST', body, basic(who)) : { method: 'POST', headers: { authorization: basic(who) } });
  let r = await post('logout', AGENT);
  assert.equal(r.status, 200, JSON.stringify(r.json));
  assert.equal((r.json as unknown as Queue).participants[0]!.state, 'logged_out');
  r = await post('pause', SUPER, { user: 'agent', reason: 'training' });
  assert.equal(r.status, 200);
  assert.deepEqual((r.json as unknown as Queue).participants.map((p) => [p.user, p.loggedIn, p.paused, p.pauseReason]), [['agent', false, true, 'training'], ['super', true, false, null]]);
  assertError(await post('login', AGENT, { user: 'super' }), 403, 'auth.forbidden');
  assertError(await post('login', SUPER, { user: 'nobody' }), 404, 'user.not_found', 'user');
  assertError(await post('login', SUPER, { user: 'agent', when: 'now' }), 400, 'api.field_unknown', 'when');
  assertError(await post('login', SUPER, { user: 5 }), 400, 'api.field_type', 'user');
  assertError(await call(`${url}/queues/${(await queues())[1]!.id}/login`, { method: 'POST', headers: { authorization: basic(AGENT) } }), 404, 'queue.not_member');
  assertError(await call(`${url}/queues/999/login`, { method: 'POST', headers: { authorization: basic(AGENT) } }), 404, 'queue.not_found');
  r = await post('login', AGENT);
  r = await post('unpause', AGENT);
  assert.deepEqual((r.json as unknown as Queue).participants[0], { user: 'agent', userId: (r.json as unknown as Queue & { participants: { userId: number }[] }).participants[0]!.userId, loggedIn: true, paused: false, pauseReason: null, state: 'unregistered' });
});

test('closed switch: PATCH closed / exceptionalClosure changes availability live', async () => {
  const sales = (await queues())[1]!;
  let r = await call(`${url}/queues/${sales.id}`, jsonInit('PATCH', { closed: true }, basic(SUPER)));
  assert.equal((r.json as unknown as Queue).availability, 'closed');
  r = await call(`${url}/queues/${sales.id}`, jsonInit('PATCH', { closed: false, exceptionalClosure: true }, basic(SUPER)));
  assert.equal((r.json as unknown as Queue).availability, 'exceptional_closure');
  r = await call(`${url}/queues/${sales.id}`, jsonInit('PATCH', { exceptionalClosure: false }, basic(SUPER)));
  assert.equal((r.json as unknown as Queue).availability, 'open');
  assertError(await call(`${url}/queues/${sales.id}`, jsonInit('PATCH', { closed: 'yes' }, basic(SUPER))), 400, 'api.field_type', 'closed');
  assertError(await call(`${url}/queues/${sales.id}`, jsonInit('PATCH', { strategy: 'random' }, basic(SUPER))), 400, 'api.field_unknown', 'strategy');
});

test('callbacks: create (201), the same number again returns it (200), reschedule, link an origin, cancel; it waits in its queue', async () => {
  const auth = basic(CLERK);
  let r = await call(`${url}/callbacks`, jsonInit('POST', { number: '06 12 34 56 78', queue: 'support', delayMinutes: 60, notes: 'asked for a quote' }, auth));
  assert.equal(r.status, 201, JSON.stringify(r.json));
  const cb = r.json as { id: number; number: string; status: string; queue: string; linkType: string | null; dueAt: string };
  assert.equal(cb.number, '0612345678');
  assert.equal(cb.status, 'scheduled');
  assert.equal(cb.queue, 'support');
  r = await call(`${url}/callbacks`, jsonInit('POST', { number: '+33612345678', queue: 'support' }, auth));
  assert.equal(r.status, 200);
  assert.equal((r.json as { id: number }).id, cb.id, 'never two pending callbacks for one number in one queue');
  const support = (await queues())[0]!;
  assert.deepEqual(support.waiting.map((w) => [w.caller, w.kind, w.position]), [['0612345678', 'callback', 1]]);
  const due = '2031-01-06T09:30:00Z';
  r = await call(`${url}/callbacks/${cb.id}`, jsonInit('PATCH', { dueAt: due, linkType: 'LostCall' }, auth));
  assert.equal(r.status, 200, JSON.stringify(r.json));
  assert.equal((r.json as { dueAt: string }).dueAt, '2031-01-06T09:30:00.000Z');
  assert.equal((r.json as { linkType: string }).linkType, 'LostCall');
  r = await call(`${url}/callbacks?status=scheduled&queue=support`, { headers: { authorization: auth } });
  assert.deepEqual((r.json.callbacks as { id: number }[]).map((c) => c.id), [cb.id]);
  r = await call(`${url}/callbacks/${cb.id}`, { method: 'DELETE', headers: { authorization: auth } });
  assert.equal((r.json as { status: string }).status, 'cancelled');
  assert.deepEqual((await queues())[0]!.waiting, []);
  assertError(await call(`${url}/callbacks/${cb.id}`, { method: 'DELETE', headers: { authorization: auth } }), 409, 'callback.finished');
  // Bad input names the field; rights are checked.
  assertError(await call(`${url}/callbacks`, jsonInit('POST', { number: 'call me' }, auth)), 400, 'callback.number_invalid', 'number');
  assertError(await call(`${url}/callbacks`, jsonInit('POST', { number: '0611', queue: 'nope' }, auth)), 404, 'callback.queue_unknown', 'queue');
  assertError(await call(`${url}/callbacks`, jsonInit('POST', { number: '0611', dueAt: 'tomorrow' }, auth)), 400, 'api.field_type', 'dueAt');
  assertError(await call(`${url}/callbacks`, jsonInit('POST', { number: '0611', linkType: 'Lost' }, auth)), 400, 'api.field_invalid', 'linkType');
  assertError(await call(`${url}/callbacks`, jsonInit('POST', {}, auth)), 400, 'api.field_missing', 'number');
  assertError(await call(`${url}/callbacks?status=gone`, { headers: { authorization: auth } }), 400, 'api.param_invalid', 'status');
  assertError(await call(`${url}/callbacks/abc`, { headers: { authorization: auth } }), 400, 'api.id_invalid', 'id');
  assertError(await call(`${url}/callbacks`, { headers: { authorization: basic(SUPER) } }), 403, 'auth.forbidden');
});

test('stats, agents and history', async () => {
  const support = (await queues())[0]!;
  let r = await call(`${url}/queues/${support.id}/stats`, { headers: { authorization: basic(SUPER) } });
  assert.equal(r.status, 200);
  assert.equal(r.json.answered, 0);
  assert.equal(r.json.waiting, 0);
  assert.equal(r.json.serviceLevelSeconds, 20);
  r = await call(`${url}/queues/agents`, { headers: { authorization: basic(SUPER) } });
  const agents = r.json.agents as { user: string; calls: number; pauseSeconds: number; queues: { queue: string }[] }[];
  assert.deepEqual(agents.map((a) => [a.user, a.queues.map((q) => q.queue)]), [['agent', ['support']], ['super', ['support', 'sales']]]);
  r = await call(`${url}/queues/history?limit=1000`, { headers: { authorization: basic(SUPER) } });
  const types = new Set((r.json.events as { type: string }[]).map((e) => e.type));
  for (const t of ['agent.login', 'agent.pause', 'callback.scheduled', 'callback.cancelled', 'queue.joined']) assert.ok(types.has(t), `history has ${t}`);
});

test('restart: participant state and pending callbacks survive', async () => {
  const support = (await queues())[0]!;
  await call(`${url}/queues/${support.id}/pause`, jsonInit('POST', { reason: 'lunch' }, basic(SUPER)));
  const r = await call(`${url}/callbacks`, jsonInit('POST', { number: '0699887766', queue: 'support', delayMinutes: 30 }, basic(CLERK)));
  assert.equal(r.status, 201);
  await relais.stop();
  relais = await startRelais({ dataDir: path.join(dir, 'data'), args: ['--domain', '127.0.0.1'] });
  url = `${relais.url}/api`;
  const after = (await queues())[0]!;
  assert.deepEqual(after.participants.map((p) => [p.user, p.loggedIn, p.paused, p.pauseReason]), [['agent', true, false, null], ['super', true, true, 'lunch']]);
  assert.deepEqual(after.waiting.map((w) => [w.caller, w.kind]), [['0699887766', 'callback']]);
  void ADMIN;
});
