// Calls through a SIP trunk: SIPp on 127.0.0.2 plays an IP-authenticated provider; outbound via the routes, inbound DID to its user.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startRelais, tempDir, type RelaisProcess } from '../helpers/relais-process.js';
import { runSipp, startSipp, describeSipp, type SippResult } from '../helpers/sipp.js';
import { freePort } from '../helpers/ports.js';
import { ext, writeSite } from './call-site.js';
import { lastEndedCall } from './call-support.js';
import { PROVIDER, providerTrunkYaml } from './scenario-support.js';

const DID = '+33100000000';
// The provider (PROVIDER) is another loopback host, so phones on 127.0.0.1 are never taken for it.
let relais: RelaisProcess;
let providerPort: number;

before(async () => {
  providerPort = await freePort();
  const dir = tempDir('call-trunk-');
  const trunkYaml = [
    providerTrunkYaml(providerPort),
    `    caller_id: "${DID}"`,
    '    routes:',
    '      - name: national',
    '        pattern: 0XXXXXXXXX',
    'numbers:',
    `  - did: "${DID}"`,
    '    name: Main line',
    '    trunk: provider',
    '    users: [bob]',
  ].join('\n');
  const site = writeSite(dir, [ext('201', 'Alice', { user: 'alice' }), ext('202', 'Bob', { user: 'bob' })], 'en', trunkYaml);
  relais = await startRelais({ dataDir: path.join(dir, 'data'), args: ['--site', site, '--domain', '127.0.0.1'] });
});

after(async () => {
  await relais?.stop();
});

type CallRow = { direction: string; caller: string; callee: string; cause: string | null; number_id: number | null; status: string; answered_by: number | null };

const lastCall = (since: number): Promise<CallRow> =>
  lastEndedCall<CallRow>(relais.dataDir, since, 'direction, caller, callee, cause, number_id, status, answered_by');

/** Extension 202 (Bob) dials `number`; the provider (SIPp `providerScenario` on PROVIDER) answers. Both must succeed. */
async function bobCallsOut(number: string, providerScenario: string): Promise<{ r: SippResult; p: SippResult }> {
  const provider = await startSipp({ scenario: providerScenario, localAddress: PROVIDER, localPort: providerPort, timeoutS: 20 });
  const r = await runSipp({
    scenario: 'call-uac.xml',
    target: `127.0.0.1:${relais.sipPort}`,
    service: number,
    authUri: `${number}@127.0.0.1:${relais.sipPort}`,
    keys: { domain: '127.0.0.1', caller: '202', caller_name: 'Bob' },
    auth: { username: '202', password: 'secret-202' },
    timeoutS: 20,
    extraArgs: ['-d', '500'],
  });
  const p = await provider.done;
  assert.equal(r.code, 0, `caller: ${describeSipp(r)}\n${relais.output().slice(-3000)}`);
  assert.equal(p.code, 0, `provider: ${describeSipp(p)}`);
  return { r, p };
}

test('outbound: an extension dials a national number, the route sends it to the trunk with the number as caller ID', async () => {
  const since = Date.now();
  const { p } = await bobCallsOut('0612345678', 'call-uas.xml');
  assert.match(p.messages, /INVITE sip:0612345678@127\.0\.0\.2/);
  assert.match(p.messages, /From: "Bob" <sip:\+33100000000@127\.0\.0\.2>/);
  const c = await lastCall(since);
  assert.equal(c.direction, 'outbound');
  assert.equal(c.callee, '0612345678');
});

test('inbound: the provider calls the DID, the extension of its assigned user rings and answers', async () => {
  const since = Date.now();
  const bobPort = await freePort();
  const reg = await runSipp({
    scenario: 'call-register.xml',
    target: `127.0.0.1:${relais.sipPort}`,
    localPort: bobPort,
    keys: { user: '202', domain: '127.0.0.1', expires: '300' },
    auth: { username: '202', password: 'secret-202' },
    timeoutS: 10,
  });
  assert.equal(reg.code, 0, describeSipp(reg));
  const bob = await startSipp({ scenario: 'call-uas.xml', localPort: bobPort, timeoutS: 20 });
  const r = await runSipp({
    scenario: 'call-uac-trunk.xml',
    target: `127.0.0.1:${relais.sipPort}`,
    localAddress: PROVIDER,
    localPort: providerPort,
    service: DID,
    keys: { domain: '127.0.0.1', caller: '0611223344', caller_name: 'Customer' },
    timeoutS: 20,
    extraArgs: ['-d', '500'],
  });
  const b = await bob.done;
  assert.equal(r.code, 0, `provider: ${describeSipp(r)}\n${relais.output().slice(-3000)}`);
  assert.equal(b.code, 0, `bob: ${describeSipp(b)}`);
  assert.match(b.messages, /From: "Customer" <sip:0611223344@/);
  const c = await lastCall(since);
  assert.equal(c.direction, 'inbound');
  assert.equal(c.caller, '0611223344');
  assert.equal(c.callee, '202');
  assert.ok(c.number_id, 'call linked to the inbound number');
  assert.ok(c.answered_by, "answered_by is Bob's user");
  assert.equal(c.cause, 'caller-hangup');
});

test('outbound with early media: the provider\'s 183 with SDP reaches the caller as our 183 before the 200', async () => {
  const since = Date.now();
  const { r } = await bobCallsOut('0612345679', 'call-uas-early.xml');
  assert.match(r.messages, /SIP\/2\.0 183 Session Progress[\s\S]*?m=audio [1-9]\d* RTP\/AVP/, 'the caller got a 183 with SDP');
  assert.equal((await lastCall(since)).cause, 'caller-hangup');
});
