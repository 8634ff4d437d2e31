// Registrar with real peers: SIPp REGISTER with digest challenge, sipsak with right and wrong password, 423 for a
// too-brief Expires, and a binding that survives a restart of Relais.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { startRelais, tempDir, type RelaisProcess, ADMIN_AUTH } from '../helpers/relais-process.js';
import { runSipp, describeSipp } from '../helpers/sipp.js';
import { freePort } from '../helpers/ports.js';
import { ext, writeSite } from './call-site.js';

const DOMAIN = 'relais.test';
let relais: RelaisProcess;
let dataDir: string;
let site: string;

before(async () => {
  const dir = tempDir('register-');
  site = writeSite(dir, [ext('301', 'Anne'), ext('302', 'Bert'), ext('303', 'Cleo')]);
  dataDir = path.join(dir, 'data');
  relais = await startRelais({ dataDir, args: ['--site', site, '--domain', DOMAIN] });
});

after(async () => {
  await relais?.stop();
});

interface Health {
  registrar?: { status: string; detail?: { bindings?: number } };
}

async function bindings(r: RelaisProcess): Promise<number> {
  const res = await fetch(`${r.url}/healthz`, { headers: ADMIN_AUTH });
  const body = (await res.json()) as Health & { modules?: Health };
  const reg = body.registrar ?? body.modules?.registrar;
  assert.ok(reg, `healthz lists the registrar: ${JSON.stringify(body)}`);
  return reg.detail?.bindings ?? -1;
}

/** The binding count once it reaches `n` (/healthz reuses a report for up to 2 s: wait for a fresh one). */
async function bindingsAtLeast(r: RelaisProcess, n: number): Promise<number> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const b = await bindings(r);
    if (b >= n || Date.now() > deadline) return b;
    await new Promise((res) => setTimeout(res, 100));
  }
}

function sipsak(args: string[]): { code: number | null; out: string } {
  const r = spawnSync('sipsak', args, { encoding: 'utf8', timeout: 15_000 });
  if (r.error) throw new Error(`sipsak could not run (apt-get install sipsak): ${r.error.message}`);
  return { code: r.status, out: `${r.stdout}\n${r.stderr}` };
}

test('SIPp REGISTER: 401 MD5 challenge with qop=auth, then 200 with the contact and its expiry', async () => {
  const r = await runSipp({
    scenario: 'register-digest.xml',
    target: `127.0.0.1:${relais.sipPort}`,
    keys: { user: '301', domain: DOMAIN, expires: '600' },
    auth: { username: '301', password: 'secret-301' },
    timeoutS: 10,
  });
  assert.equal(r.code, 0, describeSipp(r));
  assert.match(r.messages, /expires=600/);
  assert.ok((await bindingsAtLeast(relais, 1)) >= 1);
});

test('sipsak (its default Expires: 15): right password registers (exit 0), wrong password gets 401 again (exit 2)', () => {
  const ok = sipsak(['-U', '-s', 'sip:302@127.0.0.1', `--remote-port=${relais.sipPort}`, '-u', '302', '-a', 'secret-302', '-vv']);
  assert.equal(ok.code, 0, ok.out);
  const bad = sipsak(['-U', '-s', 'sip:302@127.0.0.1', `--remote-port=${relais.sipPort}`, '-u', '302', '-a', 'wrong-password', '-vv']);
  assert.equal(bad.code, 2, bad.out);
  assert.match(bad.out, /401/);
});

test('SIPp REGISTER with Expires: 5 → 423 Interval Too Brief with Min-Expires: 15', async () => {
  const r = await runSipp({
    scenario: 'register-too-brief.xml',
    target: `127.0.0.1:${relais.sipPort}`,
    keys: { user: '303', domain: DOMAIN, expires: '5' },
    auth: { username: '303', password: 'secret-303' },
    timeoutS: 10,
  });
  assert.equal(r.code, 0, describeSipp(r));
  assert.match(r.messages, /Min-Expires: 15/);
});

test('a binding survives a restart of Relais (SQLite)', async () => {
  const port = await freePort();
  const reg = await runSipp({
    scenario: 'register-digest.xml',
    target: `127.0.0.1:${relais.sipPort}`,
    localPort: port,
    keys: { user: '303', domain: DOMAIN, expires: '3600' },
    auth: { username: '303', password: 'secret-303' },
    timeoutS: 10,
  });
  assert.equal(reg.code, 0, describeSipp(reg));
  const before = await bindingsAtLeast(relais, 2);
  assert.ok(before >= 2, `bindings before restart: ${before}`);
  await relais.stop();
  relais = await startRelais({ dataDir, args: ['--site', site, '--domain', DOMAIN], sipPort: relais.sipPort });
  assert.equal(await bindings(relais), before, 'same bindings after restart');
  // Fetching bindings (REGISTER without Contact, §10.2.3): the restarted registrar still knows where 303 is.
  const query = await runSipp({
    scenario: 'register-query.xml',
    target: `127.0.0.1:${relais.sipPort}`,
    keys: { user: '303', domain: DOMAIN },
    auth: { username: '303', password: 'secret-303' },
    timeoutS: 10,
  });
  assert.equal(query.code, 0, describeSipp(query));
  assert.match(query.messages, new RegExp(`Contact: <sip:303@127\\.0\\.0\\.1:${port};transport=UDP>;expires=3[56]\\d\\d`));
});

test('password guessing: after --sip-ban-after wrong passwords an address is ignored, other addresses still register', async () => {
  const dir = tempDir('register-ban-');
  const guarded = await startRelais({
    dataDir: path.join(dir, 'data'),
    args: ['--site', site, '--domain', DOMAIN, '--sip-ban-after', '3', '--sip-ban-minutes', '1'],
  });
  try {
    const attempt = (localAddress: string, password: string, calls = 1) =>
      runSipp({
        scenario: 'register-digest.xml',
        target: `127.0.0.1:${guarded.sipPort}`,
        localAddress,
        calls,
        keys: { user: '303', domain: DOMAIN, expires: '600' },
        auth: { username: '303', password },
        timeoutS: 4,
      });
    const guessing = await attempt('127.0.0.2', 'not-the-password', 3);
    assert.equal(guessing.successful, 0, describeSipp(guessing));
    assert.match(guessing.messages, /SIP\/2.0 401/);
    // Banned now: even the right password from 127.0.0.2 gets no answer at all.
    const banned = await attempt('127.0.0.2', 'secret-303');
    assert.equal(banned.successful, 0, describeSipp(banned));
    assert.doesNotMatch(banned.messages, /SIP\/2.0 (401|200)/);
    // The phones of the office are not affected.
    const phone = await attempt('127.0.0.1', 'secret-303');
    assert.equal(phone.code, 0, describeSipp(phone));
    const health = (await (await fetch(`${guarded.url}/healthz`, { headers: ADMIN_AUTH })).json()) as {
      modules: { registrar: { detail: { bans: Array<{ address: string }> } }; sip: { detail: { transport: { blocked: number } } } };
    };
    assert.deepEqual(health.modules.registrar.detail.bans.map((b) => b.address), ['127.0.0.2']);
    assert.ok(health.modules.sip.detail.transport.blocked >= 1);
    assert.match(guarded.output(), /security: address banned.*127\.0\.0\.2/);
    // An administrator lists and lifts the ban; the phone then registers.
    const admin = { authorization: `Basic ${Buffer.from('admin:test-admin-pw').toString('base64')}` };
    const list = (await (await fetch(`${guarded.url}/api/sip/bans`, { headers: admin })).json()) as { bans: Array<{ address: string }>; banAfter: number };
    assert.deepEqual([list.bans.map((b) => b.address), list.banAfter], [['127.0.0.2'], 3]);
    assert.equal((await fetch(`${guarded.url}/api/sip/bans`)).status, 401);
    const badAddress = await fetch(`${guarded.url}/api/sip/bans/not-an-ip`, { method: 'DELETE', headers: admin });
    assert.equal(badAddress.status, 400);
    assert.deepEqual(((await badAddress.json()) as { error: unknown }).error, {
      code: 'api.address_invalid',
      message: '"not-an-ip" is not an IP address',
      field: 'address',
    });
    assert.equal((await fetch(`${guarded.url}/api/sip/bans/127.0.0.2`, { method: 'DELETE', headers: admin })).status, 204);
    assert.equal((await fetch(`${guarded.url}/api/sip/bans/127.0.0.2`, { method: 'DELETE', headers: admin })).status, 404);
    const lifted = await attempt('127.0.0.2', 'secret-303');
    assert.equal(lifted.code, 0, describeSipp(lifted));
  } finally {
    await guarded.stop();
  }
});

test('--sip-send-thread on: a burst of 600 SIPp registrations at 2 000/s all succeed with the send thread attached', async () => {
  const dir = tempDir('register-send-thread-');
  const threaded = await startRelais({ dataDir: path.join(dir, 'data'), args: ['--site', site, '--domain', DOMAIN, '--sip-send-thread', 'on'] });
  try {
    const r = await runSipp({
      scenario: 'register-digest.xml',
      target: `127.0.0.1:${threaded.sipPort}`,
      keys: { user: '302', domain: DOMAIN, expires: '600' },
      auth: { username: '302', password: 'secret-302' },
      calls: 600,
      rate: 2000,
      timeoutS: 30,
    });
    // That replies leave from the SIP port whichever thread sends them is checked datagram by datagram in
    // test/unit/sip/transport.test.ts; here, a real peer's burst over the product's own wiring.
    assert.equal(r.code, 0, describeSipp(r));
    assert.equal(r.successful, 600, describeSipp(r));
    // /healthz reuses a report for up to 2 s: wait for one made after the burst.
    let udp: Record<string, number> | undefined;
    for (const deadline = Date.now() + 5000; Date.now() < deadline; await new Promise((res) => setTimeout(res, 200))) {
      const res = await fetch(`${threaded.url}/healthz`, { headers: ADMIN_AUTH });
      const body = (await res.json()) as { checks?: { sip?: { detail?: { transport?: { udp?: Record<string, number> } } } } };
      udp = body.checks?.sip?.detail?.transport?.udp;
      if ((udp?.['received'] ?? 0) >= 1200) break;
    }
    assert.ok((udp?.['sent'] ?? 0) >= 1200, `every REGISTER answered: ${JSON.stringify(udp)}`);
    assert.equal(udp?.['sendThread'], 1, `the send thread attached: ${JSON.stringify(udp)}`);
    assert.equal(udp?.['sendErrors'], 0);
  } finally {
    await threaded.stop();
  }
});
