// Trunks with a real provider: a second Relais plays the phone company. The office Relais registers to it with
// digest, calls out through an outbound route, and takes an inbound call on its DID.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { startRelais, tempDir, type RelaisProcess, ADMIN_AUTH } from '../helpers/relais-process.js';
import { runSipp, startSipp, describeSipp, type SippProcess } from '../helpers/sipp.js';
import { freePort } from '../helpers/ports.js';
import { queryDb, until } from './call-support.js';

let provider: RelaisProcess;
let office: RelaisProcess;

function providerSite(dir: string): string {
  const file = path.join(dir, 'provider.yaml');
  const ext = (n: string, secret: string) => [`  - number: "${n}"`, `    secret: ${secret}`, '    digest_algorithm: MD5', '    voicemail: false'];
  fs.writeFileSync(file, ['version: 1', 'settings:', '  name: provider', 'extensions:', ...ext('7000', 'trunk-secret-7000'), ...ext('7002', 'secret-7002'), ...ext('7003', 'secret-7003')].join('\n') + '\n');
  return file;
}

function officeSite(dir: string, providerPort: number): string {
  const file = path.join(dir, 'office.yaml');
  fs.writeFileSync(
    file,
    [
      'version: 1',
      'settings:',
      '  name: office',
      'users:',
      '  - username: alice',
      '    name: Alice',
      'extensions:',
      '  - number: "201"',
      '    user: alice',
      '    display_name: Alice',
      '    secret: secret-201',
      '    digest_algorithm: MD5',
      '    voicemail: false',
      'trunks:',
      '  - name: provider',
      '    host: 127.0.0.1',
      `    port: ${providerPort}`,
      '    username: "7000"',
      '    secret: trunk-secret-7000',
      '    realm: provider.test',
      '    from_domain: provider.test',
      '    expires: 120',
      '    routes:',
      '      - name: to-provider',
      '        pattern: 7XXX',
      'numbers:',
      '  - did: "7000"',
      '    trunk: provider',
      '    users: [alice]',
    ].join('\n') + '\n',
  );
  return file;
}

interface Health {
  modules: Record<string, { status: string; detail?: Record<string, unknown> }>;
}

async function health(r: RelaisProcess): Promise<Health> {
  return (await (await fetch(`${r.url}/healthz`, { headers: ADMIN_AUTH })).json()) as Health;
}

before(async () => {
  const dir = tempDir('trunk-');
  provider = await startRelais({ dataDir: path.join(dir, 'provider'), args: ['--site', providerSite(dir), '--domain', 'provider.test'] });
  office = await startRelais({
    dataDir: path.join(dir, 'office'),
    args: ['--site', officeSite(dir, provider.sipPort), '--domain', 'office.test'],
    env: { RELAIS_RING_TIMEOUT_MS: '5000' },
  });
});

after(async () => {
  await office?.stop();
  await provider?.stop();
});

function trunkState(h: Health): string | undefined {
  const trunks = (h.modules['trunks']?.detail?.['trunks'] ?? []) as Array<{ name: string; state: string }>;
  return trunks.find((t) => t.name === 'provider')?.state;
}

test('the office registers to the provider with digest auth (401 answered), the provider holds the binding', async () => {
  await until(async () => trunkState(await health(office)) === 'registered', 'trunk registered');
  const db = new Database(path.join(provider.dataDir, 'relais.db'), { readonly: true });
  try {
    await until(async () => {
      const row = db.prepare("SELECT r.contact FROM registrations r JOIN extensions e ON e.id = r.extension_id WHERE e.number = '7000'").get() as { contact: string } | undefined;
      return row !== undefined && row.contact === `sip:7000@127.0.0.1:${office.sipPort}`;
    }, 'binding written on the provider');
  } finally {
    db.close();
  }
});

async function uasOn(r: RelaisProcess, number: string, secret: string, domain: string): Promise<SippProcess> {
  const port = await freePort();
  const reg = await runSipp({
    scenario: 'call-register.xml',
    target: `127.0.0.1:${r.sipPort}`,
    localPort: port,
    keys: { user: number, domain, expires: '300' },
    auth: { username: number, password: secret },
    timeoutS: 10,
  });
  assert.equal(reg.code, 0, `REGISTER ${number}: ${describeSipp(reg)}`);
  return startSipp({ scenario: 'call-uas.xml', localPort: port, mediaPort: await freePort(), keys: { ring_ms: '200', hold_ms: '500' }, timeoutS: 20 });
}

function lastCall(r: RelaisProcess): { direction: string; caller: string; callee: string; status: string } | undefined {
  return queryDb<{ direction: string; caller: string; callee: string; status: string }>(
    r.dataDir,
    'SELECT direction, caller, callee, status FROM calls ORDER BY started_at DESC, rowid DESC LIMIT 1',
  )[0];
}

test('outbound: 201 dials 7002, the route sends it to the provider with the trunk credentials and caller ID 7000', async () => {
  await until(async () => trunkState(await health(office)) === 'registered', 'trunk registered');
  const callee = await uasOn(provider, '7002', 'secret-7002', 'provider.test');
  const r = await runSipp({
    scenario: 'call-uac.xml',
    target: `127.0.0.1:${office.sipPort}`,
    service: '7002',
    mediaPort: await freePort(),
    keys: { domain: 'office.test', caller: '201', caller_name: 'Alice' },
    auth: { username: '201', password: 'secret-201' },
    timeoutS: 20,
    extraArgs: ['-d', '500'],
  });
  const u = await callee.done;
  assert.equal(r.code, 0, `uac: ${describeSipp(r)}\noffice:\n${office.output().slice(-3000)}\nprovider:\n${provider.output().slice(-3000)}`);
  assert.equal(u.code, 0, `uas: ${describeSipp(u)}`);
  // Call history is written behind (a few tens of ms): wait for the rows.
  await until(async () => lastCall(office)?.direction === 'outbound', 'outbound call row on the office');
  await until(async () => lastCall(provider)?.callee === '7002', 'call row on the provider');
  const p = lastCall(provider);
  assert.equal(p?.caller, '7000', 'the provider saw the trunk account as caller');
  assert.match(u.messages, /From: [^\r\n]*<sip:7000@/, 'caller ID presented is the DID alice is assigned to');
});

test('inbound: the provider calls 7000, the office matches its trunk registration and DID 7000, and rings alice (201)', async () => {
  await until(async () => trunkState(await health(office)) === 'registered', 'trunk registered');
  const callee = await uasOn(office, '201', 'secret-201', 'office.test');
  const r = await runSipp({
    scenario: 'call-uac.xml',
    target: `127.0.0.1:${provider.sipPort}`,
    service: '7000',
    mediaPort: await freePort(),
    keys: { domain: 'provider.test', caller: '7003', caller_name: 'Outside' },
    auth: { username: '7003', password: 'secret-7003' },
    timeoutS: 20,
    extraArgs: ['-d', '500'],
  });
  const u = await callee.done;
  assert.equal(r.code, 0, `uac: ${describeSipp(r)}\noffice:\n${office.output().slice(-3000)}\nprovider:\n${provider.output().slice(-3000)}`);
  assert.equal(u.code, 0, `uas: ${describeSipp(u)}`);
  await until(async () => lastCall(office)?.direction === 'inbound', 'inbound call row on the office');
  assert.equal(lastCall(office)?.caller, '7003');
});
