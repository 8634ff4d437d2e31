// Bans that never lock out the office, with real peers: a phone on 127.0.0.1 retrying a wrong password fast locks
// only its own extension there (three other phones on 127.0.0.1 register and call), an unknown-user guesser and a
// scanner on other loopback addresses (outside hosts) are banned, and the CLI and the API list and lift.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { CLI, startRelais, tempDir, type RelaisProcess } from '../helpers/relais-process.js';
import { runSipp, startSipp, describeSipp, type SippProcess } from '../helpers/sipp.js';
import { freePort } from '../helpers/ports.js';
import { ext, writeSite } from './call-site.js';

const DOMAIN = '127.0.0.1';
const ADMIN = { authorization: `Basic ${Buffer.from('admin:test-admin-pw').toString('base64')}` };
let relais: RelaisProcess;

before(async () => {
  const dir = tempDir('security-');
  const site = writeSite(dir, [ext('401', 'Ann'), ext('402', 'Ben'), ext('403', 'Cid'), ext('404', 'Dee')]);
  relais = await startRelais({ dataDir: path.join(dir, 'data'), args: ['--site', site, '--domain', DOMAIN, '--sip-ban-after', '3'] });
});

after(async () => {
  await relais?.stop();
});

const target = (): string => `127.0.0.1:${relais.sipPort}`;

function register(number: string, password: string, opts: { localAddress?: string; localPort?: number; calls?: number; rate?: number; username?: string; timeoutS?: number; scenario?: string } = {}) {
  return runSipp({
    scenario: opts.scenario ?? 'register-digest.xml',
    target: target(),
    ...(opts.localAddress ? { localAddress: opts.localAddress } : {}),
    ...(opts.localPort ? { localPort: opts.localPort } : {}),
    calls: opts.calls ?? 1,
    ...(opts.rate ? { rate: opts.rate } : {}),
    keys: { user: number, domain: DOMAIN, expires: '300' },
    auth: { username: opts.username ?? number, password },
    timeoutS: opts.timeoutS ?? 8,
  });
}

interface BanJson {
  kind: string;
  address: string;
  user?: string;
  reason: string;
  offence: number;
}

async function bans(): Promise<BanJson[]> {
  const res = await fetch(`${relais.url}/api/sip/bans`, { headers: ADMIN });
  assert.equal(res.status, 200);
  return ((await res.json()) as { bans: BanJson[] }).bans;
}

function cli(args: string[]): { status: number | null; out: string } {
  const r = spawnSync(process.execPath, [CLI, ...args, '--data-dir', relais.dataDir], { encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

test('a phone on 127.0.0.1 retrying a wrong password fast locks only its extension: three other phones there register and call', async () => {
  const mistyped = await register('401', 'mistyped', { calls: 10, rate: 100 });
  assert.equal(mistyped.successful, 0, describeSipp(mistyped));
  // The box's own address is never banned: 401 is locked at 127.0.0.1 (even with the right password, answered 401).
  const locked = await register('401', 'secret-401');
  assert.equal(locked.successful, 0, describeSipp(locked));
  assert.match(locked.messages, /SIP\/2.0 401/);
  assert.deepEqual(
    (await bans()).map((b) => [b.kind, b.address, b.user, b.reason]),
    [['extension', '127.0.0.1', '401', 'password-guessing']],
  );
  // Three other extensions on 127.0.0.1 register, and 402 calls 403 through Relais.
  const ports: Record<string, number> = {};
  for (const n of ['402', '403', '404']) {
    ports[n] = await freePort();
    const r = await runSipp({
      scenario: 'call-register.xml',
      target: target(),
      localPort: ports[n],
      keys: { user: n, domain: DOMAIN, expires: '300' },
      auth: { username: n, password: `secret-${n}` },
      timeoutS: 8,
    });
    assert.equal(r.code, 0, `REGISTER ${n}: ${describeSipp(r)}`);
  }
  let callee: SippProcess | undefined;
  try {
    callee = await startSipp({ scenario: 'call-uas.xml', localPort: ports['403']!, timeoutS: 20, extraArgs: ['-d', '300'] });
    const call = await runSipp({
      scenario: 'call-uac.xml',
      target: target(),
      service: '403',
      authUri: `403@127.0.0.1:${relais.sipPort}`,
      keys: { domain: DOMAIN, caller: '402', caller_name: 'Ben' },
      auth: { username: '402', password: 'secret-402' },
      timeoutS: 20,
      extraArgs: ['-d', '300'],
    });
    assert.equal(call.code, 0, `call 402 → 403: ${describeSipp(call)}\n${relais.output().slice(-3000)}`);
    assert.equal((await callee.done).code, 0);
  } finally {
    callee?.kill();
  }
  // The lock is logged as a security event, listed by the CLI, and lifted by it (the service applies it within 2 s).
  assert.match(relais.output(), /security: extension locked at address.*"address":"127\.0\.0\.1".*"user":"401"/);
  const listed = cli(['bans', 'list']);
  assert.equal(listed.status, 0, listed.out);
  assert.match(listed.out, /127\.0\.0\.1\s+extension 401\s+password-guessing/);
  const lift = cli(['bans', 'lift', '127.0.0.1', '--user', '401']);
  assert.equal(lift.status, 0, lift.out);
  assert.match(lift.out, /lifted 1 ban of 127\.0\.0\.1/);
  const deadline = Date.now() + 6000;
  while ((await bans()).length > 0) {
    assert.ok(Date.now() < deadline, 'the running Relais did not apply the lift of the CLI');
    await new Promise((r) => setTimeout(r, 100));
  }
  const back = await register('401', 'secret-401');
  assert.equal(back.code, 0, describeSipp(back));
  assert.equal(cli(['bans', 'lift', '127.0.0.1']).status, 1, 'nothing left to lift');
  const events = (await (await fetch(`${relais.url}/api/sip/security-events`, { headers: ADMIN })).json()) as { events: Array<{ type: string; address: string }> };
  assert.deepEqual(events.events.map((e) => [e.type, e.address]).slice(0, 2), [['sip.lifted', '127.0.0.1'], ['sip.locked', '127.0.0.1']]);
});

test('an unknown-user guesser on 127.0.0.2 and a scanner on 127.0.0.3 are banned while 127.0.0.1 is served', async () => {
  const guessing = await register('401', 'whatever', { localAddress: '127.0.0.2', username: 'nobody', calls: 4, rate: 50 });
  assert.equal(guessing.successful, 0, describeSipp(guessing));
  const scan = await runSipp({ scenario: 'scanner-options.xml', target: target(), localAddress: '127.0.0.3', service: '100', timeoutS: 5 });
  assert.equal(scan.code, 0, describeSipp(scan));
  assert.doesNotMatch(scan.messages, /SIP\/2.0 200/, 'the scanner gets no answer');
  const byAddress = Object.fromEntries((await bans()).map((b) => [b.address, [b.kind, b.reason]]));
  assert.deepEqual(byAddress['127.0.0.2'], ['address', 'unknown-users']);
  assert.deepEqual(byAddress['127.0.0.3'], ['address', 'scanner']);
  // The guesser gets no answer at all now, even with a right password; the office phone registers.
  const banned = await register('402', 'secret-402', { localAddress: '127.0.0.2', timeoutS: 3 });
  assert.equal(banned.successful, 0, describeSipp(banned));
  assert.doesNotMatch(banned.messages, /SIP\/2.0 (401|200)/);
  const phone = await register('402', 'secret-402');
  assert.equal(phone.code, 0, describeSipp(phone));
  // An administrator lifts the ban through the API.
  assert.equal((await fetch(`${relais.url}/api/sip/bans/127.0.0.2`, { method: 'DELETE', headers: ADMIN })).status, 204);
  const lifted = await register('402', 'secret-402', { localAddress: '127.0.0.2' });
  assert.equal(lifted.code, 0, describeSipp(lifted));
});

test('flood control: an OPTIONS flood from 127.0.0.4 is dropped before parsing and banned, a phone on 127.0.0.1 registers meanwhile', async () => {
  const flooder = await startSipp({ scenario: 'flood-options.xml', target: target(), localAddress: '127.0.0.4', service: '402', calls: 8000, rate: 4000, timeoutS: 15 });
  try {
    let flooded = 0;
    const deadline = Date.now() + 15_000;
    while (!(await bans()).some((b) => b.address === '127.0.0.4')) {
      assert.ok(Date.now() < deadline, 'the flooder was not banned');
      // Answers may come late beside the flood: SIPp's retransmitted first REGISTER then gets a challenge of its own.
      const phone = await register('402', 'secret-402', { scenario: 'register-digest-late.xml' });
      assert.equal(phone.code, 0, `the phone during the flood: ${describeSipp(phone)}`);
    }
    const ban = (await bans()).find((b) => b.address === '127.0.0.4')!;
    assert.deepEqual([ban.kind, ban.reason], ['address', 'flood']);
    const health = (await (await fetch(`${relais.url}/healthz`, { headers: ADMIN })).json()) as { modules: { sip: { detail: { transport: { flooded: number; flood: { floods: number } } } } } };
    flooded = health.modules.sip.detail.transport.flooded;
    assert.ok(flooded > 0 && health.modules.sip.detail.transport.flood.floods >= 1, JSON.stringify(health.modules.sip.detail.transport));
    const phone = await register('402', 'secret-402');
    assert.equal(phone.code, 0, describeSipp(phone));
  } finally {
    flooder.kill();
  }
});

test('DNS rebinding: a Host name that is not the box is refused (421), addresses, localhost and the box name are served', () => {
  const status = (host: string): string => {
    const r = spawnSync('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '-H', `Host: ${host}`, `${relais.url}/healthz`], { encoding: 'utf8', timeout: 10_000 });
    return r.stdout;
  };
  assert.equal(status('rebind.attacker.example'), '421');
  assert.equal(status(`rebind.attacker.example:${relais.httpPort}`), '421');
  for (const ok of [`127.0.0.1:${relais.httpPort}`, `localhost:${relais.httpPort}`, '[::1]', `${os.hostname()}:${relais.httpPort}`, '192.0.2.7']) assert.equal(status(ok), '200', ok);
  const body = spawnSync('curl', ['-s', '-H', 'Host: rebind.attacker.example', `${relais.url}/api/session`], { encoding: 'utf8' }).stdout;
  assert.equal((JSON.parse(body) as { error: { code: string } }).error.code, 'http.host_unknown');
});
