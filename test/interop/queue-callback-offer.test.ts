// The scenario `callback` action with a real provider: SIPp on 127.0.0.2 calls a number through a trunk and keys RFC 4733
// digits (sip-tester's captures): 1 confirms the number read back; a withheld caller keys one in; hanging up before
// confirming leaves no CallBack callback but a lost call (a LostCall callback under the queue's after-abandon rule).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startRelais, tempDir, type RelaisProcess } from '../helpers/relais-process.js';
import { runSipp, describeSipp } from '../helpers/sipp.js';
import { freePort } from '../helpers/ports.js';
import { ext, writeSite } from './call-site.js';
import { queryDb, until } from './call-support.js';

const PROVIDER = '127.0.0.2';
const DID = '+33100000009';
const PCAPS = '/usr/share/sip-tester';
let relais: RelaisProcess;
let providerPort: number;
let dir: string;

before(async () => {
  providerPort = await freePort();
  dir = tempDir('queue-callback-offer-');
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
  // Ann online (registered), so the number runs its scenario rather than its offline option.
  const reg = await runSipp({
    scenario: 'call-register.xml',
    target: `127.0.0.1:${relais.sipPort}`,
    localPort: await freePort(),
    keys: { user: '201', domain: '127.0.0.1', expires: '600' },
    auth: { username: '201', password: 'secret-201' },
    timeoutS: 10,
  });
  assert.equal(reg.code, 0, describeSipp(reg));
});

after(async () => {
  await relais?.stop();
});

const DIGIT_FILE: Record<string, string> = { '#': 'pound', '*': 'star' };

/**
 * The provider's call: INVITE from `from` (PCMU + telephone-event), answered; then each step waits `ms` and keys
 * `digits` (RFC 4733 captures, 600 ms apart). `end`: wait for Relais's BYE, or hang up (BYE) after the steps.
 */
function providerScenario(name: string, from: string, steps: { ms: number; digits: string }[], end: 'wait-bye' | 'bye'): string {
  const inDialog = (cseq: string, method: string): string => `
      ${method} [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      [routes]
      Max-Forwards: 70
      From: <sip:${from}>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[domain]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: ${cseq} ${method}
      Content-Length: 0
`;
  const keyed = steps
    .map((s) => [`  <pause milliseconds="${s.ms}"/>`, ...[...s.digits].map((d) => `  <nop><action><exec play_pcap_audio="${PCAPS}/dtmf_2833_${DIGIT_FILE[d] ?? d}.pcap"/></action></nop>\n  <pause milliseconds="600"/>`)].join('\n'))
    .join('\n');
  const finish =
    end === 'bye'
      ? `  <send retrans="500" start_txn="bye"><![CDATA[${inDialog('2', 'BYE')}]]></send>\n  <recv response="200" response_txn="bye"/>`
      : `  <recv request="BYE"/>
  <send><![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0
]]></send>`;
  const xml = `<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="${name}">
  <send retrans="500" start_txn="inv1"><![CDATA[
      INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      Max-Forwards: 70
      From: <sip:${from}>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[domain]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: <sip:caller@[local_ip]:[local_port]>
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=- 1 1 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 0 101
      a=rtpmap:0 PCMU/8000
      a=rtpmap:101 telephone-event/8000
      a=fmtp:101 0-15
      a=sendrecv
]]></send>
  <recv response="100" optional="true" response_txn="inv1"/>
  <recv response="180" optional="true" response_txn="inv1"/>
  <recv response="183" optional="true" response_txn="inv1"/>
  <recv response="200" rrs="true" response_txn="inv1"/>
  <send ack_txn="inv1"><![CDATA[${inDialog('1', 'ACK')}]]></send>
${keyed}
${finish}
</scenario>
`;
  const file = path.join(dir, `${name}.xml`);
  fs.writeFileSync(file, xml);
  return file;
}

async function providerCall(scenario: string): Promise<void> {
  const r = await runSipp({
    scenario,
    target: `127.0.0.1:${relais.sipPort}`,
    localAddress: PROVIDER,
    localPort: providerPort,
    service: DID,
    keys: { domain: '127.0.0.1' },
    timeoutS: 40,
  });
  assert.equal(r.code, 0, `provider: ${describeSipp(r)}\n${r.messages.slice(-3000)}\n${relais.output().slice(-3000)}`);
}

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
  await providerCall(providerScenario('offer-confirm', '0611223344@127.0.0.1', [{ ms: 1500, digits: '1' }], 'wait-bye'));
  await until(() => callbacks().some((c) => c.number === '0611223344'), 'the callback stored');
  const cb = callbacks().find((c) => c.number === '0611223344')!;
  assert.deepEqual([cb.link_type, cb.source, cb.status], ['CallBack', 'offer', 'scheduled']);
  assert.ok(cb.origin_call_id, 'linked to the call that made the offer');
});

test('a withheld caller keys a number in (0612#), hears it read back and confirms it with 1', async () => {
  await providerCall(providerScenario('offer-withheld', 'anonymous@anonymous.invalid', [{ ms: 1000, digits: '0612#' }, { ms: 1500, digits: '1' }], 'wait-bye'));
  await until(() => callbacks().some((c) => c.number === '0612'), 'the keyed-in callback stored', 15_000);
  const cb = callbacks().find((c) => c.number === '0612')!;
  assert.deepEqual([cb.link_type, cb.source, cb.status], ['CallBack', 'offer', 'scheduled']);
});

test('hanging up before confirming: no CallBack callback, a lost call (LostCall callback under after_abandon)', async () => {
  const before = callbacks().length;
  await providerCall(providerScenario('offer-hangup', '0699887766@127.0.0.1', [{ ms: 2500, digits: '' }], 'bye'));
  await until(() => callbacks().length > before, 'the lost call handled');
  const mine = callbacks().filter((c) => c.number === '0699887766');
  assert.deepEqual(mine.map((c) => [c.link_type, c.source, c.status]), [['LostCall', 'lost_call', 'scheduled']]);
  const lost = queryDb<{ data: string }>(relais.dataDir, "SELECT data FROM queue_events WHERE type = 'queue.lost'").map((r) => JSON.parse(r.data) as { caller: string; reason: string });
  assert.ok(lost.some((l) => l.caller === '0699887766' && l.reason === 'callback_unconfirmed'), JSON.stringify(lost));
  await until(() => lastCallbackStep()?.result === 'lost', 'the call path to say lost');
});
