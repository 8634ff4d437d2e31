// The scenario `callback` action with a real provider: SIPp on 127.0.0.2 calls a number through a trunk and keys RFC 4733
// digits (sip-tester's captures): 1 confirms the number read back; a withheld caller keys one in; hanging up before
// confirming leaves no CallBack callback but a lost call (a LostCall callback under the queue's after-abandon rule).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startRelais, tempDir, type RelaisProcess } from '../helpers/relais-process.js';
import { freePort } from '../helpers/ports.js';
import { ext, writeSite } from './call-site.js';
import { queryDb, until } from './call-support.js';
import { PROVIDER, ScenarioRig } from './scenario-support.js';

const DID = '+33100000009';
let relais: RelaisProcess;
let rig: ScenarioRig;

before(async () => {
  const providerPort = await freePort();
  const dir = tempDir('queue-callback-offer-');
  const yaml = `
trunks:
  - { name: provider, host: ${PROVIDER}, port: ${providerPort}, register: false, allowed_ips: ["${PROVIDER}"] }
queues:
  - name: support
    short_number: "900"
    members: [ann]
    lost_call_rules: { after_abandon: true, min_wait: 1, business_hours_only: false }
scenarios:
  - name: offer
    actions:
      - { type: callback, queue: support, delay_minutes: 30 }
      - { type: hangup }
numbers:
  - { did: "${DID}", trunk: provider, scenario: offer, users: [ann] }
`;
  const site = writeSite(dir, [ext('201', 'Ann', { user: 'ann' })], 'en', yaml);
  relais = await startRelais({ dataDir: path.join(dir, 'data'), args: ['--site', site, '--domain', '127.0.0.1'] });
  rig = new ScenarioRig(relais, dir, providerPort);
  // Ann online (registered), so the number runs its scenario rather than its offline option.
  await rig.online('201');
});

after(async () => {
  await relais?.stop();
});

interface CallbackRow {
  number: string;
  link_type: string | null;
  source: string;
  status: string;
  origin_call_id: string | null;
}
const callbacks = (): CallbackRow[] => queryDb<CallbackRow>(relais.dataDir, 'SELECT number, link_type, source, status, origin_call_id FROM callbacks ORDER BY id');

/** The `callback` step of the latest scenario path (calls.path), as the history shows it. */
function lastCallbackStep(): { result?: string; number?: string } | undefined {
  const row = queryDb<{ path: string | null }>(relais.dataDir, "SELECT path FROM calls WHERE direction = 'inbound' ORDER BY started_at DESC LIMIT 1")[0];
  const steps = row?.path ? (JSON.parse(row.path) as { type: string; result?: string; number?: string }[]) : [];
  return steps.find((s) => s.type === 'callback');
}

test('the caller ID is read back; 1 (RFC 4733) confirms: a Scheduled CallBack callback linked to the call, then Relais hangs up', async () => {
  // 1 keyed during the read-back (barge-in); Relais then says it will call back and the scenario hangs up.
  await rig.providerCalls(DID, rig.providerScenario('offer-confirm', { promptMs: 1500, digits: '1', end: 'wait-bye' }), '0611223344');
  await until(() => callbacks().some((c) => c.number === '0611223344'), 'the callback stored');
  const cb = callbacks().find((c) => c.number === '0611223344')!;
  assert.deepEqual([cb.link_type, cb.source, cb.status], ['CallBack', 'offer', 'scheduled']);
  assert.ok(cb.origin_call_id, 'linked to the call that made the offer');
});

test('a withheld caller keys a number in (0612#), hears it read back and confirms it with 1', async () => {
  // The 1 comes after the # (600 ms apart): while the number is read back.
  await rig.providerCalls(DID, rig.providerScenario('offer-withheld', { promptMs: 1000, digits: '0612#1', end: 'wait-bye' }), 'anonymous');
  await until(() => callbacks().some((c) => c.number === '0612'), 'the keyed-in callback stored', 15_000);
  const cb = callbacks().find((c) => c.number === '0612')!;
  assert.deepEqual([cb.link_type, cb.source, cb.status], ['CallBack', 'offer', 'scheduled']);
});

test('hanging up before confirming: no CallBack callback, a lost call (LostCall callback under after_abandon)', async () => {
  const before = callbacks().length;
  await rig.providerCalls(DID, rig.providerScenario('offer-hangup', { promptMs: 2500, talkMs: 0, end: 'bye' }), '0699887766');
  await until(() => callbacks().length > before, 'the lost call handled');
  const mine = callbacks().filter((c) => c.number === '0699887766');
  assert.deepEqual(mine.map((c) => [c.link_type, c.source, c.status]), [['LostCall', 'lost_call', 'scheduled']]);
  const lost = queryDb<{ data: string }>(relais.dataDir, "SELECT data FROM queue_events WHERE type = 'queue.lost'").map((r) => JSON.parse(r.data) as { caller: string; reason: string });
  assert.ok(lost.some((l) => l.caller === '0699887766' && l.reason === 'callback_unconfirmed'), JSON.stringify(lost));
  await until(() => lastCallbackStep()?.result === 'lost', 'the call path to say lost');
});
