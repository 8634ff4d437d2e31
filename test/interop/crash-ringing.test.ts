// The crash limits of docs/security.md "After a crash", with SIPp as phones and provider: a call still ringing at a
// kill -9 gets its final response after the restart (500 + Retry-After to the caller, CANCEL to the callee, history
// cause 'restart'), and a provider that challenges Relais' BYE with 401 gets it again with the trunk's credentials,
// after a crash (the BYE of a journalled dialog) and in normal calls (inbound and outbound, the extension hangs up).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startRelais, tempDir, type RelaisProcess } from '../helpers/relais-process.js';
import { runSipp, startSipp, describeSipp, type SippProcess } from '../helpers/sipp.js';
import { freePort } from '../helpers/ports.js';
import { ext, writeSite } from './call-site.js';
import { until } from './call-support.js';
import { injectionFile, killAndRestart, query, registerAll } from './crash-support.js';
import { PROVIDER, providerTrunkYaml } from './scenario-support.js';

const DOMAIN = '127.0.0.1';
const DID = '+33100000000';
const OUTBOUND = '0123456789';
const TRUNK_USER = 'relais-trunk';
const TRUNK_SECRET = 'provider-secret-1';
let relais: RelaisProcess;
let args: string[];
let dir: string;
let providerPort: number;
const peers: SippProcess[] = [];

before(async () => {
  providerPort = await freePort();
  dir = tempDir('crash-ringing-');
  const trunk = [
    providerTrunkYaml(providerPort),
    `    username: ${TRUNK_USER}`,
    `    secret: ${TRUNK_SECRET}`,
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
  const site = writeSite(dir, [ext('201', 'Alice', { user: 'alice' }), ext('202', 'Bob', { user: 'bob' }), ext('211', 'Callee')], 'en', trunk);
  args = ['--site', site, '--domain', DOMAIN];
  relais = await startRelais({ dataDir: path.join(dir, 'data'), args });
});

after(async () => {
  for (const p of peers) p.kill();
  await relais?.stop();
});

/** The provider (SIPp on PROVIDER) that answers Relais' INVITE and challenges its BYE (trunk-uas-bye-challenge.xml). */
async function challengingProvider(): Promise<SippProcess> {
  const provider = await startSipp({
    scenario: 'trunk-uas-bye-challenge.xml',
    localAddress: PROVIDER,
    localPort: providerPort,
    keys: { trunk_user: TRUNK_USER, trunk_secret: TRUNK_SECRET },
    timeoutS: 60,
  });
  peers.push(provider);
  return provider;
}

const count = (sql: string): number => query<{ n: number }>(relais.dataDir, sql)[0]!.n;

test('kill -9 while a call rings: the caller gets 500 with Retry-After, the callee a CANCEL, the history cause restart', async () => {
  const calleePort = await freePort();
  await registerAll(relais, ['211'], calleePort);
  // The callee rings (180) and never answers; after the restart it must get the CANCEL, answer 487 and get its ACK.
  const callee = await startSipp({ scenario: 'call-uas-ring.xml', localPort: calleePort, timeoutS: 60 });
  peers.push(callee);
  const caller = await startSipp({
    scenario: 'crash-uac-ringing.xml',
    target: `127.0.0.1:${relais.sipPort}`,
    service: '211',
    keys: { domain: DOMAIN, caller: '201', caller_name: 'Alice' },
    auth: { username: '201', password: 'secret-201' },
    timeoutS: 60,
  });
  peers.push(caller);
  // Both INVITEs of the ringing call are on disk: the caller's to Relais and Relais' to the callee.
  await until(() => count('SELECT count(*) AS n FROM ringing_invites') === 2, 'the ringing call journalled (two INVITEs)', 20_000).catch(async (err: unknown) => {
    const rows = query<{ role: string }>(relais.dataDir, 'SELECT role FROM ringing_invites');
    caller.kill();
    callee.kill();
    const [cr, er] = [await caller.done, await callee.done];
    throw new Error(`caller ${describeSipp(cr)} ${cr.messages.slice(-4000)}\ncallee ${describeSipp(er)}\n` + `${String(err)}; rows ${JSON.stringify(rows)}\n${relais.output().slice(-3000)}`);
  });
  relais = await killAndRestart(relais, args);
  const [c, e] = await Promise.all([caller.done, callee.done]);
  assert.equal(c.code, 0, `caller: ${describeSipp(c)}\n${relais.output().slice(-3000)}`);
  assert.equal(e.code, 0, `callee: ${describeSipp(e)}\n${relais.output().slice(-3000)}`);
  assert.match(c.messages, /SIP\/2\.0 500 Server Internal Error[\s\S]*Retry-After: 5/);
  assert.equal(count('SELECT count(*) AS n FROM ringing_invites'), 0, 'the journal is cleared');
  const calls = query<{ cause: string; status: string; answered_at: number | null; ended_at: number | null }>(
    relais.dataDir,
    "SELECT cause, status, answered_at, ended_at FROM calls WHERE callee = '211'",
  );
  assert.equal(calls.length, 1, JSON.stringify(calls));
  assert.equal(calls[0]!.cause, 'restart');
  assert.equal(calls[0]!.answered_at, null);
  assert.ok(calls[0]!.ended_at, 'the call has an end');
});

test('kill -9 during an outbound trunk call: the provider challenges the BYE sent at restart, it comes again with the trunk credentials', async () => {
  const provider = await challengingProvider();
  const caller = await startSipp({
    scenario: 'crash-uac.xml',
    target: `127.0.0.1:${relais.sipPort}`,
    keys: { domain: DOMAIN, caller: '202', caller_name: 'Bob' },
    auth: { username: '202', password: 'secret-202' },
    timeoutS: 60,
    calls: 1,
    extraArgs: ['-inf', injectionFile(dir, [OUTBOUND]), '-l', '1'],
  });
  peers.push(caller);
  await until(() => count('SELECT count(*) AS n FROM live_dialogs') === 2, 'the trunk call answered (two dialogs journalled)', 20_000);
  relais = await killAndRestart(relais, args);
  const [p, c] = await Promise.all([provider.done, caller.done]);
  assert.equal(p.code, 0, `provider: ${describeSipp(p)}\n${relais.output().slice(-3000)}`);
  assert.equal(c.code, 0, `caller: ${describeSipp(c)}`);
  assert.match(p.messages, /Authorization: Digest username="relais-trunk"/);
});

test('an inbound trunk call the extension hangs up: the provider challenges the BYE, it comes again with the trunk credentials', async () => {
  const bobPort = await freePort();
  await registerAll(relais, ['202'], bobPort);
  const bob = await startSipp({ scenario: 'call-uas-bye.xml', localPort: bobPort, timeoutS: 30, extraArgs: ['-d', '300'] });
  peers.push(bob);
  const r = await runSipp({
    scenario: 'trunk-uac-bye-challenge.xml',
    target: `127.0.0.1:${relais.sipPort}`,
    localAddress: PROVIDER,
    localPort: providerPort,
    service: DID,
    keys: { domain: DOMAIN, caller: '0611223344', caller_name: 'Customer', trunk_user: TRUNK_USER, trunk_secret: TRUNK_SECRET },
    timeoutS: 30,
  });
  const b = await bob.done;
  assert.equal(r.code, 0, `provider: ${describeSipp(r)}\n${relais.output().slice(-3000)}`);
  assert.equal(b.code, 0, `bob: ${describeSipp(b)}`);
  assert.match(r.messages, /Authorization: Digest username="relais-trunk"/);
});

test('an outbound trunk call the extension hangs up: the provider challenges the BYE, it comes again with the trunk credentials', async () => {
  const provider = await challengingProvider();
  const r = await runSipp({
    scenario: 'call-uac.xml',
    target: `127.0.0.1:${relais.sipPort}`,
    service: OUTBOUND,
    authUri: `${OUTBOUND}@127.0.0.1:${relais.sipPort}`,
    keys: { domain: DOMAIN, caller: '202', caller_name: 'Bob' },
    auth: { username: '202', password: 'secret-202' },
    timeoutS: 30,
    extraArgs: ['-d', '300'],
  });
  const p = await provider.done;
  assert.equal(r.code, 0, `caller: ${describeSipp(r)}\n${relais.output().slice(-3000)}`);
  assert.equal(p.code, 0, `provider: ${describeSipp(p)}\n${relais.output().slice(-3000)}`);
  assert.match(p.messages, /Authorization: Digest username="relais-trunk"/);
});
