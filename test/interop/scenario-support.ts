// Shared by the scenario interop tests: a provider (SIPp on 127.0.0.2, a trunk of the site) calling numbers with RFC 4733
// keys, phones registered to Relais (SIPp), the call's live path (database or GET /api/calls/:id) and the simulator's.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { ADMIN_AUTH, CLI, type RelaisProcess } from '../helpers/relais-process.js';
import { runSipp, startSipp, describeSipp, type SippProcess } from '../helpers/sipp.js';
import { freePort } from '../helpers/ports.js';
import { lastEndedCall, queryDb, until } from './call-support.js';

export const PROVIDER = '127.0.0.2';
const PCAPS = '/usr/share/sip-tester';

export type PathStep = Record<string, unknown>;

/** The site file's trunk for the provider: an IP-authenticated peer on PROVIDER:port. */
export function providerTrunkYaml(port: number): string {
  return `
trunks:
  - name: provider
    host: ${PROVIDER}
    port: ${port}
    register: false
    allowed_ips: ["${PROVIDER}"]`;
}
export type CallRow = { id: string; status: string; cause: string | null; path: string | null; answered_by: number | null };

/**
 * A provider call: INVITE (PCMU + telephone-event 101), answered, waits `promptMs` (the prompt plays), keys each digit
 * as RFC 4733 events (sip-tester's dtmf_2833_N captures), then sends BYE after `talkMs` or waits for Relais's BYE.
 * `end: 'reject'` expects the final failure `expect` instead (no 2xx, no media); `end: 'cancel'` expects 180 (no 200)
 * and CANCELs after `promptMs`.
 */
export interface ProviderCall {
  digits?: string;
  promptMs?: number;
  talkMs?: number;
  end: 'bye' | 'wait-bye' | 'reject' | 'cancel';
  expect?: number;
}

export class ScenarioRig {
  readonly registered = new Map<string, number>();

  constructor(
    readonly relais: RelaisProcess,
    readonly dir: string,
    readonly providerPort: number,
  ) {}

  /** Writes the SIPp scenario of a provider call (see ProviderCall) and returns its file. */
  providerScenario(name: string, o: ProviderCall): string {
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
      .map((d) => `  <nop><action><exec play_pcap_audio="${PCAPS}/dtmf_2833_${d === '#' ? 'pound' : d === '*' ? 'star' : d}.pcap"/></action></nop>\n  <pause milliseconds="600"/>`)
      .join('\n');
    const ackFailure = (status: number): string => `  <recv response="${status}" response_txn="inv1">
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
]]></send>`;
    let final: string;
    if (o.end === 'reject') final = ackFailure(o.expect ?? 486);
    else if (o.end === 'cancel')
      final = `  <recv response="180" response_txn="inv1">
    <action><ereg regexp="branch=[^;,\\r\\n ]+" search_in="hdr" header="Via:" assign_to="ib"/></action>
  </recv>
  <pause milliseconds="${o.promptMs ?? 1000}"/>
  <send><![CDATA[
      CANCEL sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];[$ib]
      Max-Forwards: 70
      From: "Customer" <sip:[caller]@[domain]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[domain]>
      Call-ID: [call_id]
      CSeq: 1 CANCEL
      Content-Length: 0
]]></send>
  <recv response="200"/>
${ackFailure(487)}`;
    else
      final = `  <recv response="200" rrs="true" response_txn="inv1"/>
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
    const ringing = o.end === 'cancel' ? '' : '  <recv response="180" optional="true" response_txn="inv1"/>\n';
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
${ringing}  <recv response="183" optional="true" response_txn="inv1"/>
${final}
</scenario>
`;
    const file = path.join(this.dir, `${name}.xml`);
    fs.writeFileSync(file, xml);
    return file;
  }

  /** The provider calls `did` from `caller` with a scenario of providerScenario; SIPp must pass. */
  async providerCalls(did: string, scenario: string, caller = '0611223344'): Promise<void> {
    const r = await runSipp({
      scenario,
      target: `127.0.0.1:${this.relais.sipPort}`,
      localAddress: PROVIDER,
      localPort: this.providerPort,
      service: did,
      keys: { domain: '127.0.0.1', caller },
      timeoutS: 40,
      extraArgs: ['-d', '500'],
    });
    assert.equal(r.code, 0, `provider: ${describeSipp(r)}\n${r.messages.slice(-3000)}\n${this.relais.output().slice(-3000)}`);
  }

  /** Registers `ext` from `port` for `expires` seconds (0 removes that binding: the user is offline again). */
  async register(ext: string, port: number, expires: number): Promise<void> {
    const reg = await runSipp({
      scenario: 'call-register.xml',
      target: `127.0.0.1:${this.relais.sipPort}`,
      localPort: port,
      keys: { user: ext, domain: '127.0.0.1', expires: String(expires) },
      auth: { username: ext, password: `secret-${ext}` },
      timeoutS: 10,
    });
    assert.equal(reg.code, 0, describeSipp(reg));
  }

  /** A phone of `ext`: registers from a port, then a SIPp UAS there answers (busy, or rings until CANCEL) one call. */
  async phone(ext: string, scenario: 'call-uas.xml' | 'call-uas-busy.xml' | 'call-uas-ring.xml'): Promise<SippProcess> {
    const port = await this.online(ext);
    return startSipp({ scenario, localPort: port, timeoutS: 40 });
  }

  /** `ext`'s user counts as online (a registered phone) until unregister. */
  async online(ext: string): Promise<number> {
    const port = await freePort();
    await this.register(ext, port, 60);
    this.registered.set(ext, port);
    return port;
  }

  async unregister(ext: string): Promise<void> {
    const port = this.registered.get(ext);
    if (port === undefined) return;
    this.registered.delete(ext);
    await this.register(ext, port, 0);
  }

  /** The last call started since `since`, once ended, with its path (from the database). */
  async lastPath(since: number): Promise<{ row: CallRow; path: PathStep[] }> {
    const dataDir = this.relais.dataDir;
    const row = await lastEndedCall<CallRow>(dataDir, since, 'id, status, cause, path, answered_by');
    await until(() => queryDb<{ path: string | null }>(dataDir, 'SELECT path FROM calls WHERE id = ?', row.id)[0]?.path != null, 'the call path row', 3000);
    const p = queryDb<{ path: string }>(dataDir, 'SELECT path FROM calls WHERE id = ?', row.id)[0]!.path;
    return { row, path: JSON.parse(p) as PathStep[] };
  }

  /** The live call's path as the console reads it: GET /api/calls/:id. */
  async apiPath(callId: string): Promise<PathStep[]> {
    const res = await fetch(`${this.relais.url}/api/calls/${callId}`, { headers: ADMIN_AUTH });
    assert.equal(res.status, 200, `GET /api/calls/${callId}`);
    const body = (await res.json()) as { path?: PathStep[] };
    assert.ok(body.path, `call ${callId} has a path`);
    return body.path;
  }

  /** The simulator on the running box's data (relais simulate --json). */
  simulated(args: string[]): PathStep[] {
    const r = spawnSync(process.execPath, [CLI, 'simulate', '--data-dir', this.relais.dataDir, '--json', ...args], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 0, `relais simulate: ${r.stderr}`);
    return (JSON.parse(r.stdout) as { path: PathStep[] }).path;
  }

  /** The simulator through the API: POST /api/simulate. */
  async apiSimulated(body: Record<string, unknown>): Promise<PathStep[]> {
    const res = await fetch(`${this.relais.url}/api/simulate`, { method: 'POST', headers: { ...ADMIN_AUTH, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const text = await res.text();
    assert.equal(res.status, 200, `POST /api/simulate: ${text}`);
    return (JSON.parse(text) as { path: PathStep[] }).path;
  }

  /** An admin API request with a JSON body; asserts the status. */
  async api(method: string, url: string, body: unknown, status = 200): Promise<Record<string, unknown>> {
    const res = await fetch(`${this.relais.url}${url}`, { method, headers: { ...ADMIN_AUTH, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const text = await res.text();
    assert.equal(res.status, status, `${method} ${url}: ${text}`);
    return text ? (JSON.parse(text) as Record<string, unknown>) : {};
  }
}

/** What must agree between a live call and its simulation: the steps and their own fields (not ring outcomes' wording). */
export function shape(path: PathStep[]): unknown[] {
  return path.map(({ result: _r, invalid: _i, reason, ...rest }) => (rest.skipped ? { ...rest, reason } : rest));
}

export const summary = (path: PathStep[]): string[] => path.map((s) => `${String(s.type)}${s.skipped ? ':skipped' : ''}${s.result !== undefined ? `=${String(s.result)}` : ''}`);
