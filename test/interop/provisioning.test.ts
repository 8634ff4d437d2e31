// Desk-phone provisioning with real clients: curl over HTTP, HTTPS and HTTP digest (device credentials), tftp-hpa
// and atftp (blksize/tsize) over TFTP, SIPp sending the plug-and-play SUBSCRIBE (multicast on loopback and direct),
// the firmware cache, the box certificate upload, and a baresip phone configured only from its generated file.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { startRelais, tempDir, type RelaisProcess, ADMIN_AUTH } from '../helpers/relais-process.js';
import { freePort } from '../helpers/ports.js';
import { runSipp, describeSipp } from '../helpers/sipp.js';
import { BaresipPhone } from '../helpers/baresip.js';
import { makeSilenceWav } from '../helpers/audio.js';
import { ext, writeSite } from './call-site.js';

const DOMAIN = 'relais.test';
const YEALINK = '001565aabb01';
const POLYCOM = '0004f2aabb02';
const BARESIP_PHONE = '001565aabb03';
const ADMIN = 'admin:test-admin-pw';
let relais: RelaisProcess;
let tftpPort: number;
let httpsPort: number;
let dir: string;

function run(cmd: string, args: string[], opts: { input?: string; cwd?: string } = {}): { code: number | null; out: string; err: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 20_000, ...opts });
  if (r.error) throw new Error(`${cmd} could not run (scripts/install-peers installs it): ${r.error.message}`);
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** curl: body and status (the last line of -w). */
function curl(args: string[]): { status: number; body: string } {
  const r = run('curl', ['-s', '-S', '--max-time', '10', '-w', '\n%{http_code}', ...args]);
  const i = r.out.lastIndexOf('\n');
  return { status: Number(r.out.slice(i + 1)), body: r.out.slice(0, i) };
}

async function api<T>(method: string, p: string, body?: unknown): Promise<{ status: number; json: T }> {
  const res = await fetch(`${relais.url}${p}`, {
    method,
    headers: { Authorization: `Basic ${Buffer.from(ADMIN).toString('base64')}`, ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, json: (text ? JSON.parse(text) : undefined) as T };
}

interface Entry {
  mac: string;
  status: string;
  reason: string;
  extension: string | null;
  vendor: string | null;
  known: boolean;
  lastFetch: { via: string; secrets: boolean } | null;
  device?: { username: string; password: string };
}

before(async () => {
  dir = tempDir('provisioning-');
  const site = writeSite(
    dir,
    [ext('201', 'Anne', { user: 'anne' }), ext('202', 'Bert'), ext('203', 'Cleo')],
    'en',
    [
      'queues:',
      '  - name: Sales',
      '    short_number: "99900"',
      '    members: [anne]',
      'phones:',
      `  - mac: "${YEALINK}"`,
      '    vendor: yealink',
      '    model: T46U',
      '    extension: "201"',
      `  - mac: "${POLYCOM}"`,
      '    vendor: polycom',
      '    extension: "202"',
      `  - mac: "${BARESIP_PHONE}"`,
      '    vendor: yealink',
      '    model: T54W',
      '    extension: "203"',
    ].join('\n'),
  );
  tftpPort = await freePort();
  relais = await startRelais({ dataDir: path.join(dir, 'data'), args: ['--site', site, '--domain', DOMAIN, '--https-port', '0', '--tftp-port', String(tftpPort)] });
  const health = (await (await fetch(`${relais.url}/healthz`, { headers: ADMIN_AUTH })).json()) as { modules: Record<string, { status: string; detail?: Record<string, unknown> }> };
  httpsPort = Number(health.modules['api']?.detail?.['httpsPort']);
  assert.ok(httpsPort > 0, JSON.stringify(health.modules['api']));
  assert.equal(health.modules['provisioning']?.status, 'ok', JSON.stringify(health.modules['provisioning']));
});

after(async () => {
  await relais?.stop();
});

test('curl over HTTP: an assigned phone gets its file without the SIP password; over HTTPS with it', () => {
  const http = curl([`${relais.url}/provisioning/${YEALINK}.cfg`]);
  assert.equal(http.status, 200);
  assert.match(http.body, /^account\.1\.user_name = 201$/m);
  assert.doesNotMatch(http.body, /password|secret-201/);
  assert.match(http.body, new RegExp(`^static\\.auto_provision\\.server\\.url = https://127\\.0\\.0\\.1:${httpsPort}/provisioning/$`, 'm'));
  const https = curl(['-k', `https://127.0.0.1:${httpsPort}/provisioning/${YEALINK}.cfg`]);
  assert.equal(https.status, 200);
  assert.match(https.body, /^account\.1\.password = secret-201$/m);
  // Without -k, curl refuses the self-signed certificate: it is the box's own, not a public CA's.
  assert.notEqual(curl([`https://127.0.0.1:${httpsPort}/provisioning/${YEALINK}.cfg`]).status, 200);
});

test('curl --digest with the device credentials gets the password over plain HTTP; wrong ones get 401, another phone\'s 403', async () => {
  const { json } = await api<Entry>('GET', `/api/phones/${YEALINK}`);
  const dev = json.device!;
  assert.equal(dev.username, YEALINK);
  const url = `${relais.url}/provisioning/auth/${YEALINK}.cfg`;
  const ok = curl(['--digest', '-u', `${dev.username}:${dev.password}`, url]);
  assert.equal(ok.status, 200, ok.body);
  assert.match(ok.body, /^account\.1\.password = secret-201$/m);
  assert.equal(curl(['--digest', '-u', `${dev.username}:wrong-password`, url]).status, 401);
  assert.equal(curl([url]).status, 401, 'no credentials: challenged');
  const other = curl(['--digest', '-u', `${dev.username}:${dev.password}`, `${relais.url}/provisioning/auth/${POLYCOM}-phone.cfg`]);
  assert.equal(other.status, 403, other.body);
  const fetched = (await api<Entry>('GET', `/api/phones/${YEALINK}`)).json;
  assert.deepEqual([fetched.lastFetch?.via, fetched.lastFetch?.secrets], ['http', true]);
});

test('an unknown MAC gets 404 and appears in the inventory as unassigned; traversal attempts are refused', async () => {
  const r = curl(['-A', 'Yealink SIP-T46U 108.86.0.20 80:5e:c0:12:34:56', `${relais.url}/provisioning/805ec0123456.cfg`]);
  assert.equal(r.status, 404);
  const { json } = await api<{ phones: Entry[] }>('GET', '/api/phones');
  const seen = json.phones.find((p) => p.mac === '805ec0123456');
  assert.ok(seen, JSON.stringify(json.phones.map((p) => p.mac)));
  assert.equal(seen.status, 'unassigned');
  assert.equal(seen.known, false);
  assert.equal(seen.vendor, 'yealink');
  for (const p of ['/provisioning/..%2F..%2Fdata%2Frelais.db', '/provisioning/..%2frelais.db', '/provisioning/../../etc/passwd', '/provisioning/%2e%2e%2f%2e%2e%2fetc%2fpasswd']) {
    const t = curl(['--path-as-is', `${relais.url}${p}`]);
    assert.ok(t.status === 403 || t.status === 404, `${p}: ${t.status}`);
    assert.doesNotMatch(t.body, /SQLite|root:/);
  }
});

test('tftp-hpa: a phone file (no secrets), an unknown MAC and ../ attempts get TFTP errors', () => {
  const out = path.join(dir, 'tftp-poly.cfg');
  const r = run('tftp', ['-m', 'binary', '127.0.0.1', String(tftpPort), '-c', 'get', `${POLYCOM}-phone.cfg`, out]);
  assert.equal(r.code, 0, r.out + r.err);
  const text = fs.readFileSync(out, 'utf8');
  assert.match(text, /reg\.1\.address="202"/);
  assert.doesNotMatch(text, /secret-202|reg\.1\.auth\.password/);
  const unknown = run('tftp', ['-m', 'binary', '127.0.0.1', String(tftpPort), '-c', 'get', '001565000099.cfg', path.join(dir, 'x1')]);
  assert.match(unknown.out + unknown.err, /Error code 1: phone 001565000099 is not known/);
  for (const name of ['../data/relais.db', '../../etc/passwd', '/../relais.db', 'a/../../b.cfg']) {
    const t = run('tftp', ['-m', 'binary', '127.0.0.1', String(tftpPort), '-c', 'get', name, path.join(dir, 'x2')]);
    assert.match(t.out + t.err, /Error code 2/, `${name}: ${t.out}${t.err}`);
  }
  const put = run('tftp', ['-m', 'binary', '127.0.0.1', String(tftpPort), '-c', 'put', out, 'evil.cfg']);
  assert.match(put.out + put.err, /Error code 2: This server is read-only/);
});

test('firmware cache: upload once per model; the phone\'s file names its URL; HTTP, tftp-hpa and atftp (blksize, tsize) serve the same bytes', async () => {
  const firmware = Buffer.alloc(70_000);
  for (let i = 0; i < firmware.length; i++) firmware[i] = (i * 7 + (i >> 8)) & 0xff;
  const fwFile = path.join(dir, 'T46U-108.86.0.20.rom');
  fs.writeFileSync(fwFile, firmware);
  const up = curl(['-u', ADMIN, '-X', 'PUT', '--data-binary', `@${fwFile}`, '-H', 'Content-Type: application/octet-stream', `${relais.url}/api/phones/firmware/T46U?vendor=yealink&filename=T46U-108.86.0.20.rom`]);
  assert.equal(up.status, 201, up.body);
  const rec = JSON.parse(up.body) as { fileName: string; size: number; url: string };
  assert.equal(rec.size, firmware.length);
  const cfg = curl([`${relais.url}/provisioning/${YEALINK}.cfg`]).body;
  assert.match(cfg, new RegExp(`^static\\.firmware\\.url = ${rec.url.replace(/[.$]/g, '\\$&')}$`, 'm'));
  const viaHttp = path.join(dir, 'fw-http');
  assert.equal(run('curl', ['-s', '-o', viaHttp, rec.url]).code, 0);
  assert.ok(fs.readFileSync(viaHttp).equals(firmware));
  const viaTftp = path.join(dir, 'fw-tftp');
  const t = run('tftp', ['-m', 'binary', '127.0.0.1', String(tftpPort), '-c', 'get', rec.fileName, viaTftp]);
  assert.equal(t.code, 0, t.out + t.err);
  assert.ok(fs.readFileSync(viaTftp).equals(firmware), 'tftp-hpa, 512-byte blocks');
  const viaAtftp = path.join(dir, 'fw-atftp');
  const a = run('atftp', ['--trace', '--option', 'blksize 1428', '--option', 'tsize 0', '-g', '-r', rec.fileName, '-l', viaAtftp, '127.0.0.1', String(tftpPort)]);
  const trace = a.out + a.err;
  assert.match(trace, new RegExp(`received OACK <tsize: ${firmware.length}, blksize: 1428`), trace.slice(0, 2000));
  assert.match(trace, /DATA <block: 1, size 1428>/);
  assert.ok(fs.readFileSync(viaAtftp).equals(firmware), 'atftp, 1428-byte blocks');
});

for (const [how, host] of [
  ['multicast to 224.0.1.75 on loopback', '224.0.1.75'],
  ['sent to the box\'s SIP port', '127.0.0.1'],
] as const) {
  test(`SIPp plug-and-play SUBSCRIBE (${how}): 200, then NOTIFY application/url with the provisioning URL`, async () => {
    const mac = host === '127.0.0.1' ? '001565cc0002' : '001565cc0001';
    const r = await runSipp({ scenario: 'pnp-subscribe.xml', target: `${host}:${relais.sipPort}`, keys: { mac, host }, timeoutS: 10 });
    assert.equal(r.code, 0, describeSipp(r));
    assert.match(r.messages, new RegExp(`Content-Type: application/url[\\s\\S]*\\r?\\n\\r?\\nhttp://127\\.0\\.0\\.1:${relais.httpPort}/provisioning/\\s*(\\r?\\n|$)`), r.messages);
    const { json } = await api<Entry & { seenVia: string; model: string }>('GET', `/api/phones/${mac}`);
    assert.equal(json.status, 'unassigned');
    assert.equal(json.vendor, 'yealink');
    assert.equal(json.seenVia, 'pnp');
    assert.equal(json.model, 'SIP-T46S');
  });
}

test('plug-and-play off: the ua-profile SUBSCRIBE is refused (489) and the group is left', async () => {
  assert.equal((await api('PUT', '/api/phones/settings', { pnp: false })).status, 200);
  try {
    const r = await runSipp({ scenario: 'pnp-subscribe.xml', target: `127.0.0.1:${relais.sipPort}`, keys: { mac: '001565cc0003', host: '127.0.0.1' }, timeoutS: 5 });
    assert.notEqual(r.code, 0);
    assert.match(r.messages, /SIP\/2\.0 489/);
    // /healthz reuses a report for up to 2 s: wait (bounded) for a fresh one.
    let multicast: string | undefined;
    for (let i = 0; i < 50 && multicast !== 'off'; i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, 100));
      const h = (await (await fetch(`${relais.url}/healthz`, { headers: ADMIN_AUTH })).json()) as { modules: Record<string, { detail?: { pnp?: { multicast?: string } } }> };
      multicast = h.modules['provisioning']?.detail?.pnp?.multicast;
    }
    assert.equal(multicast, 'off');
  } finally {
    await api('PUT', '/api/phones/settings', { pnp: true });
  }
});

test('end to end: baresip configured only from its generated file registers; the inventory says registered; check-sync reaches it', async () => {
  // What a phone does: fetch its own file over HTTPS, take account, server and password from it.
  const cfg = curl(['-k', `https://127.0.0.1:${httpsPort}/provisioning/${BARESIP_PHONE}.cfg`]);
  assert.equal(cfg.status, 200);
  const kv = new Map(cfg.body.split('\n').map((l) => /^([a-z0-9_.]+) = (.*)$/.exec(l)).filter((m) => m !== null).map((m) => [m[1]!, m[2]!]));
  const user = kv.get('account.1.user_name')!;
  const password = kv.get('account.1.password')!;
  const server = `${kv.get('account.1.sip_server.1.address')}:${kv.get('account.1.sip_server.1.port')}`;
  assert.ok(user && password && server, cfg.body);
  assert.equal((await api<Entry>('GET', `/api/phones/${BARESIP_PHONE}`)).json.status, 'provisioned');
  const phone = await BaresipPhone.start({
    name: 'provisioned',
    account: { user, password, registrar: server, regint: 600 },
    audioFile: makeSilenceWav(path.join(dir, 'silence.wav'), 2),
  });
  try {
    await phone.registered();
    let entry = (await api<Entry>('GET', `/api/phones/${BARESIP_PHONE}`)).json;
    for (let i = 0; i < 50 && entry.status !== 'registered'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      entry = (await api<Entry>('GET', `/api/phones/${BARESIP_PHONE}`)).json;
    }
    assert.equal(entry.status, 'registered', entry.reason);
    assert.match(entry.reason, /extension 203 registered from 127\.0\.0\.1/);
    const cs = await api<{ status: number; event: string }>('POST', `/api/phones/${BARESIP_PHONE}/check-sync?reboot=true`);
    assert.equal(cs.status, 200, JSON.stringify(cs.json));
    assert.equal(cs.json.event, 'check-sync;reboot=true');
    assert.ok(cs.json.status >= 200, `the phone answered the NOTIFY: ${JSON.stringify(cs.json)}`);
  } finally {
    await phone.stop();
  }
  const notRegistered = await api<{ error: { code: string } }>('POST', `/api/phones/${POLYCOM}/check-sync`);
  assert.equal(notRegistered.status, 409);
  assert.equal(notRegistered.json.error.code, 'phone.not_registered');
});

test('GET /api/phones/:mac/config gives an administrator the file with secrets; a bad MAC is a 400 naming the field', async () => {
  const res = await fetch(`${relais.url}/api/phones/${POLYCOM}/config`, { headers: { Authorization: `Basic ${Buffer.from(ADMIN).toString('base64')}` } });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-disposition') ?? '', new RegExp(`${POLYCOM}-phone\\.cfg`));
  assert.match(await res.text(), /reg\.1\.auth\.password="secret-202"/);
  const bad = await api<{ error: { field: string } }>('GET', '/api/phones/00:04:f2:aa:bb:02/config');
  assert.equal(bad.status, 400);
  assert.equal(bad.json.error.field, 'mac');
  const assign = await api<Entry>('PUT', '/api/phones/805ec0123456', { extension: '203' });
  assert.equal(assign.status, 200, JSON.stringify(assign.json));
  assert.equal(assign.json.extension, '203');
  assert.equal((await api('PUT', '/api/phones/805ec0123456', { extension: 203 })).status, 400);
});

test('box certificate: an upload whose key does not match is refused naming the key; a matching one is served at once', async () => {
  const mk = (name: string): { cert: string; key: string } => {
    const key = path.join(dir, `${name}.key`);
    const cert = path.join(dir, `${name}.crt`);
    const r = run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '30', '-subj', `/CN=${name}`, '-keyout', key, '-out', cert]);
    assert.equal(r.code, 0, r.err);
    return { cert: fs.readFileSync(cert, 'utf8'), key: fs.readFileSync(key, 'utf8') };
  };
  const a = mk('pbx-a.office.test');
  const b = mk('pbx-b.office.test');
  const info = await api<{ selfSigned: boolean; subject: string }>('GET', '/api/tls/certificate');
  assert.equal(info.status, 200);
  assert.equal(info.json.selfSigned, true);
  const mismatch = await api<{ error: { code: string; field: string; message: string } }>('PUT', '/api/tls/certificate', { certificate: a.cert, key: b.key });
  assert.equal(mismatch.status, 400);
  assert.deepEqual([mismatch.json.error.code, mismatch.json.error.field], ['tls.invalid', 'key']);
  assert.match(mismatch.json.error.message, /does not belong to the certificate/);
  const garbage = await api<{ error: { field: string } }>('PUT', '/api/tls/certificate', { certificate: 'hello', key: a.key });
  assert.equal(garbage.json.error.field, 'certificate');
  const ok = await api<{ subject: string }>('PUT', '/api/tls/certificate', { certificate: a.cert, key: a.key });
  assert.equal(ok.status, 200, JSON.stringify(ok.json));
  assert.match(ok.json.subject, /CN=pbx-a\.office\.test/);
  const v = run('curl', ['-s', '-k', '-v', '-o', '/dev/null', `https://127.0.0.1:${httpsPort}/healthz`]);
  assert.match(v.err, /subject: CN=pbx-a\.office\.test/);
});
