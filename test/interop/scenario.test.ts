// Scenarios with real peers: a provider (SIPp on 127.0.0.2) calls numbers through a trunk, hears the IVR, keys RFC 4733 DTMF,
// reaches users (SIPp phones registered to Relais), voicemail, a transfer; offline options; the simulator gives the same path.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { CLI, startRelais, tempDir, type RelaisProcess } from '../helpers/relais-process.js';
import { runSipp, startSipp, describeSipp, type SippProcess } from '../helpers/sipp.js';
import { freePort } from '../helpers/ports.js';
import { makeToneWav } from '../helpers/audio.js';
import { ext, writeSite } from './call-site.js';
import { lastEndedCall, queryDb, until } from './call-support.js';

const PROVIDER = '127.0.0.2';
const IVR = '+33100000001';
const OFFLINE_BUSY = '+33100000002';
const FORWARD = '+33100000003';
const OFFLINE_VM = '+33100000004';
const OFFLINE_MESSAGE = '+33100000005';
const OFFLINE_FORWARD = '+33100000006';
const PCAPS = '/usr/share/sip-tester';
let relais: RelaisProcess;
let providerPort: number;
let dir: string;

before(async () => {
  providerPort = await freePort();
  dir = tempDir('scenario-');
  const yaml = `
trunks:
  - name: provider
    host: ${PROVIDER}
    port: ${providerPort}
    register: false
    allowed_ips: ["${PROVIDER}"]
sounds:
  - { name: closed-message, file: closed-message.wav }
scenarios:
  - name: main
    actions:
      - { type: goto_scenario, scenario: never, when: { dates: ["2000-01-01"] } }
      - type: detect_dtmf
        prompt: choose-service
        timeout: 3
        attempts: 1
        options:
          - { key: "1", name: Sales, actions: [ { type: call_user, user: ann, ring_time: 5 }, { type: call_user, user: ben, ring_time: 5 }, { type: call_user, user: cat, ring_time: 5 } ] }
          - { key: "2", name: Mail, actions: [ { type: voicemail, mailbox: "203" } ] }
          - { key: "3", name: Desk, actions: [ { type: transfer, to: "203" } ] }
        no_match: [ { type: play, prompt: thank-you-goodbye }, { type: hangup } ]
  - name: never
    actions: [ { type: hangup } ]
numbers:
  - { did: "${IVR}", trunk: provider, scenario: main, users: [ann, ben, cat] }
  - { did: "${OFFLINE_BUSY}", trunk: provider, users: [ann], offline_action: { type: busy } }
  - { did: "${FORWARD}", trunk: provider, mode: forward, forward_to: "203" }
  - { did: "${OFFLINE_VM}", trunk: provider, users: [ann], offline_action: { type: voicemail } }
  - { did: "${OFFLINE_MESSAGE}", trunk: provider, users: [ann], offline_action: { type: message, sound: closed-message } }
  - { did: "${OFFLINE_FORWARD}", trunk: provider, users: [ann], offline_action: { type: forward, to: "203" } }
`;
  const site = writeSite(dir, [ext('201', 'Ann', { user: 'ann' }), ext('202', 'Ben', { user: 'ben' }), ext('203', 'Cat', { user: 'cat', voicemail: true })], 'en', yaml);
  relais = await startRelais({ dataDir: path.join(dir, 'data'), args: ['--site', site, '--domain', '127.0.0.1'] });
  // The offline message: one second of tone in the sound library (read when played).
  fs.mkdirSync(path.join(relais.dataDir, 'sounds'), { recursive: true });
  makeToneWav(path.join(relais.dataDir, 'sounds', 'closed-message.wav'), 440, 1);
});

after(async () => {
  await relais?.stop();
});

/**
 * A provider call scenario: INVITE (PCMU + telephone-event 101), answered, waits `promptMs` (the prompt plays), keys
 * each digit as RFC 4733 events (sip-tester's dtmf_2833_N captures), then either sends BYE after `talkMs` or waits for
 * Relais's BYE. `expect` other than 200 = a final failure expected instead (no ACK of a 2xx, no media).
 */
function providerScenario(name: string, o: { digits?: string; promptMs?: number; talkMs?: number; end: 'bye' | 'wait-bye' | 'reject'; expect?: number }): string {
  const head = (cseq: string, method: string, extra = ''): string => `
      ${method} [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      [routes]
      Max-Forwards: 70
      From: "Customer" <sip:[caller]@[domain]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[domain]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: ${cseq} ${method}
      Contact: <sip:[caller]@[local_ip]:[local_port]>${extra}
      Content-Length: 0
`;
  const keys = [...(o.digits ?? '')]
    .map((d) => `  <nop><action><exec play_pcap_audio="${PCAPS}/dtmf_2833_${d}.pcap"/></action></nop>\n  <pause milliseconds="600"/>`)
    .join('\n');
  const final =
    o.end === 'reject'
      ? `  <recv response="${o.expect ?? 486}" response_txn="inv1">
    <action><ereg regexp="branch=[^;,\\r\\n ]+" search_in="hdr" header="Via:" assign_to="b"/></action>
  </recv>
  <send ack_txn="inv1"><![CDATA[
      ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];[$b]
      Max-Forwards: 70
      From: "Customer" <sip:[caller]@[domain]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[domain]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Content-Length: 0
]]></send>`
      : `  <recv response="200" rrs="true" response_txn="inv1"/>
  <send ack_txn="inv1"><![CDATA[${head('1', 'ACK')}]]></send>
${o.promptMs === 0 ? '' : `  <pause milliseconds="${o.promptMs ?? 300}"/>`}
${keys}
${
  o.end === 'bye'
    ? `  <pause milliseconds="${o.talkMs ?? 500}"/>
  <send retrans="500" start_txn="bye"><![CDATA[${head('2', 'BYE')}]]></send>
  <recv response="200" response_txn="bye"/>`
    : `  <recv request="BYE"/>
  <send><![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0
]]></send>`
}`;
  const xml = `<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="${name}">
  <send retrans="500" start_txn="inv1"><![CDATA[
      INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      Max-Forwards: 70
      From: "Customer" <sip:[caller]@[domain]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[domain]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: <sip:[caller]@[local_ip]:[local_port]>
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
${final}
</scenario>
`;
  const file = path.join(dir, `${name}.xml`);
  fs.writeFileSync(file, xml);
  return file;
}

async function providerCalls(did: string, scenario: string): Promise<void> {
  const r = await runSipp({
    scenario,
    target: `127.0.0.1:${relais.sipPort}`,
    localAddress: PROVIDER,
    localPort: providerPort,
    service: did,
    keys: { domain: '127.0.0.1', caller: '0611223344' },
    timeoutS: 40,
    extraArgs: ['-d', '500'],
  });
  assert.equal(r.code, 0, `provider: ${describeSipp(r)}\n${r.messages.slice(-3000)}\n${relais.output().slice(-3000)}`);
}

/** Registers `ext` from `port` for `expires` seconds (0 removes that binding: the user is offline again). */
async function register(ext: string, port: number, expires: number): Promise<void> {
  const reg = await runSipp({
    scenario: 'call-register.xml',
    target: `127.0.0.1:${relais.sipPort}`,
    localPort: port,
    keys: { user: ext, domain: '127.0.0.1', expires: String(expires) },
    auth: { username: ext, password: `secret-${ext}` },
    timeoutS: 10,
  });
  assert.equal(reg.code, 0, describeSipp(reg));
}

const registered = new Map<string, number>();

/** A phone of `ext`: registers from a port, then a SIPp UAS there answers (or answers busy) one call. */
async function phone(ext: string, scenario: 'call-uas.xml' | 'call-uas-busy.xml'): Promise<SippProcess> {
  const port = await online(ext);
  return startSipp({ scenario, localPort: port, timeoutS: 40 });
}

/** `ext`'s user counts as online (a registered phone) until unregister. */
async function online(ext: string): Promise<number> {
  const port = await freePort();
  await register(ext, port, 60);
  registered.set(ext, port);
  return port;
}

async function unregister(ext: string): Promise<void> {
  const port = registered.get(ext);
  if (port === undefined) return;
  registered.delete(ext);
  await register(ext, port, 0);
}

type Row = { id: string; status: string; cause: string | null; path: string | null; answered_by: number | null };

async function lastPath(since: number): Promise<{ row: Row; path: Record<string, unknown>[] }> {
  const row = await lastEndedCall<Row>(relais.dataDir, since, 'id, status, cause, path, answered_by');
  await until(() => queryDb<{ path: string | null }>(relais.dataDir, 'SELECT path FROM calls WHERE id = ?', row.id)[0]?.path != null, 'the call path row', 3000);
  const p = queryDb<{ path: string }>(relais.dataDir, 'SELECT path FROM calls WHERE id = ?', row.id)[0]!.path;
  return { row, path: JSON.parse(p) as Record<string, unknown>[] };
}

/** The simulator on the running box's data (relais simulate --json). */
function simulated(args: string[]): Record<string, unknown>[] {
  const r = spawnSync(process.execPath, [CLI, 'simulate', '--data-dir', relais.dataDir, '--json', ...args], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 0, `relais simulate: ${r.stderr}`);
  return (JSON.parse(r.stdout) as { path: Record<string, unknown>[] }).path;
}

/** What must agree between a live call and its simulation: the steps and their own fields (not ring outcomes' wording). */
function shape(path: Record<string, unknown>[]): unknown[] {
  return path.map(({ result: _r, invalid: _i, reason, ...rest }) => (rest.skipped ? { ...rest, reason } : rest));
}

const summary = (path: Record<string, unknown>[]): string[] => path.map((s) => `${String(s.type)}${s.skipped ? ':skipped' : ''}${s.result !== undefined ? `=${String(s.result)}` : ''}`);

test('IVR: the provider hears the menu, keys 1 (RFC 4733); escalation ann (offline) → ben (busy) → cat answers; the simulator gives the same path', async () => {
  const since = Date.now();
  const ben = await phone('202', 'call-uas-busy.xml');
  const cat = await phone('203', 'call-uas.xml');
  await providerCalls(IVR, providerScenario('ivr-sales', { digits: '1', promptMs: 500, talkMs: 4000, end: 'bye' }));
  const [b, c] = await Promise.all([ben.done, cat.done]);
  assert.equal(b.code, 0, `ben: ${describeSipp(b)}`);
  assert.equal(c.code, 0, `cat: ${describeSipp(c)}`);
  const { row, path: live } = await lastPath(since);
  assert.deepEqual(summary(live), ['scenario', 'goto_scenario:skipped', 'detect_dtmf=key', 'call_user=unavailable', 'call_user=busy', 'call_user=answered']);
  assert.equal(live[2]!.key, '1');
  assert.equal(live[2]!.option, 'Sales');
  assert.deepEqual(live.slice(3).map((s) => s.user), ['ann', 'ben', 'cat']);
  assert.ok(row.answered_by, 'answered by cat');
  await unregister('202');
  await unregister('203');
  assert.deepEqual(shape(simulated(['--number', IVR, '--digits', '1', '--online', 'cat'])), shape(live));
});

test('IVR: no key → no_match plays goodbye and Relais hangs up; the simulator agrees', async () => {
  const since = Date.now();
  await online('201');
  await providerCalls(IVR, providerScenario('ivr-nomatch', { promptMs: 0, end: 'wait-bye' }));
  await unregister('201');
  const { row, path: live } = await lastPath(since);
  assert.deepEqual(summary(live), ['scenario', 'goto_scenario:skipped', 'detect_dtmf=no_match', 'play=done', 'hangup']);
  assert.equal(row.cause, 'scenario-hangup');
  assert.deepEqual(shape(simulated(['--number', IVR, '--online', 'ann'])), shape(live));
});

test('IVR: key 2 → voicemail of extension 203 (the caller is already answered); key 3 → transfer to 203 answered', async () => {
  let since = Date.now();
  await online('201');
  await providerCalls(IVR, providerScenario('ivr-mail', { digits: '2', promptMs: 300, talkMs: 1500, end: 'bye' }));
  let { path: live } = await lastPath(since);
  assert.deepEqual(summary(live).slice(2), ['detect_dtmf=key', 'voicemail=ended']);
  assert.ok(queryDb(relais.dataDir, "SELECT 1 FROM call_events WHERE type = 'voicemail.answered' AND at >= ?", since).length > 0, 'voicemail took the call');
  assert.deepEqual(shape(simulated(['--number', IVR, '--digits', '2', '--online', 'ann'])), shape(live));

  since = Date.now();
  const cat = await phone('203', 'call-uas.xml');
  await providerCalls(IVR, providerScenario('ivr-desk', { digits: '3', promptMs: 300, talkMs: 4000, end: 'bye' }));
  const c = await cat.done;
  assert.equal(c.code, 0, `cat: ${describeSipp(c)}`);
  ({ path: live } = await lastPath(since));
  assert.deepEqual(summary(live).slice(2), ['detect_dtmf=key', 'transfer=answered']);
  assert.equal(live[3]!.to, '203');
  await unregister('203');
  await unregister('201');
  assert.deepEqual(shape(simulated(['--number', IVR, '--digits', '3', '--online', 'cat'])), shape(live));
});

test('offline busy: 486 without ever answering (no 200, no media)', async () => {
  const since = Date.now();
  await providerCalls(OFFLINE_BUSY, providerScenario('offline-busy', { end: 'reject', expect: 486 }));
  const { row, path: live } = await lastPath(since);
  assert.deepEqual(summary(live), ['offline']);
  assert.equal(row.cause, 'rejected-486');
  assert.equal(queryDb(relais.dataDir, "SELECT 1 FROM call_events WHERE call_id = ? AND type = 'call.answered_by_relais'", row.id).length, 0);
  assert.deepEqual(shape(simulated(['--number', OFFLINE_BUSY, '--online', ''])), shape(live));
});

test('offline voicemail and message: answered by Relais, then voicemail / the message and BYE', async () => {
  let since = Date.now();
  await providerCalls(OFFLINE_VM, providerScenario('offline-vm', { promptMs: 300, talkMs: 1500, end: 'bye' }));
  let { path: live } = await lastPath(since);
  assert.deepEqual(summary(live), ['offline']);
  assert.deepEqual(live[0]!.action, { type: 'voicemail' });
  assert.ok(queryDb(relais.dataDir, "SELECT 1 FROM call_events WHERE type = 'voicemail.answered' AND at >= ?", since).length > 0);

  since = Date.now();
  await providerCalls(OFFLINE_MESSAGE, providerScenario('offline-message', { promptMs: 0, end: 'wait-bye' }));
  ({ path: live } = await lastPath(since));
  assert.deepEqual(summary(live), ['offline']);
  const row = await lastEndedCall<{ cause: string; status: string }>(relais.dataDir, since, 'cause, status');
  assert.equal(row.cause, 'message-played');
});

test('forward all, and offline forward: the call goes to extension 203, which answers', async () => {
  for (const did of [FORWARD, OFFLINE_FORWARD]) {
    const since = Date.now();
    const cat = await phone('203', 'call-uas.xml');
    // Offline = no assigned user online: ann stays unregistered.
    await providerCalls(did, providerScenario(`forward-${did.slice(-1)}`, { promptMs: 200, talkMs: 3000, end: 'bye' }));
    const c = await cat.done;
    assert.equal(c.code, 0, `cat: ${describeSipp(c)}`);
    const { row, path: live } = await lastPath(since);
    assert.deepEqual(summary(live), [did === FORWARD ? 'forward=answered' : 'offline=answered']);
    assert.ok(row.answered_by, 'answered by cat');
    await unregister('203');
  }
});
