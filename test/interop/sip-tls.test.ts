// SIP over TLS and SDES-SRTP with real peers: baresip registers over TLS on the TLS port and calls a phone on UDP
// (audio checked both ways), with and without SRTP (mediaenc=srtp-mand on an extension that requires TLS + SRTP);
// the same extension over UDP is refused; the certificate is replaced through the API and served at the next
// handshake without a restart.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { ADMIN_AUTH, startRelais, tempDir, type RelaisProcess } from '../helpers/relais-process.js';
import { BaresipPhone } from '../helpers/baresip.js';
import { makeToneWav } from '../helpers/audio.js';
import { ext, writeSite } from './call-site.js';
import { requireTlsSrtp, seedBoxCertificate, srtpCallsBothWays, tlsPortOf } from './tls-support.js';
import { assertHeardTone, fileBytes, queryDb, until } from './call-support.js';

const phones: BaresipPhone[] = [];
let relais: RelaisProcess;
let tlsPort: number;
let dir: string;

before(async () => {
  dir = tempDir('sip-tls-');
  const site = writeSite(dir, [ext('301', 'Alice'), ext('302', 'Bob'), ext('303', 'Carol')]);
  requireTlsSrtp(site, '303'); // Carol's extension
  seedBoxCertificate(path.join(dir, 'data'));
  relais = await startRelais({ dataDir: path.join(dir, 'data'), args: ['--site', site, '--domain', '127.0.0.1', '--sip-tls-port', '0'] });
  tlsPort = await tlsPortOf(relais);
});

after(async () => {
  await Promise.all(phones.map((p) => p.stop()));
  await relais?.stop();
});

/** The SHA-256 fingerprint of the certificate the TLS port presents now (a fresh handshake). */
function servedFingerprint(): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port: tlsPort, rejectUnauthorized: false }, () => {
      resolve(s.getPeerX509Certificate()!.fingerprint256);
      s.end();
    });
    s.once('error', reject);
  });
}

test('baresip registers over TLS and calls a UDP phone: Via TLS, binding over tls, audio both ways', async () => {
  const alice = await BaresipPhone.start({
    name: 'alice-tls',
    account: { user: '301', password: 'secret-301', registrar: `127.0.0.1:${tlsPort}`, regint: 600, transport: 'tls' },
    audioFile: makeToneWav(path.join(dir, 'a.wav'), 1000, 60),
  });
  phones.push(alice);
  const bob = await BaresipPhone.start({
    name: 'bob-udp',
    account: { user: '302', password: 'secret-302', registrar: `127.0.0.1:${relais.sipPort}`, regint: 600 },
    audioFile: makeToneWav(path.join(dir, 'b.wav'), 440, 60),
  });
  phones.push(bob);
  await Promise.all([alice.registered(), bob.registered()]);
  await until(() => queryDb<{ transport: string }>(relais.dataDir, "SELECT transport FROM registrations WHERE aor LIKE 'sip:301@%'")[0]?.transport === 'tls', 'the 301 binding written as tls');

  // Bob calls Alice: the INVITE to Alice goes over her TLS connection (her listening port is not what she registered from).
  await bob.dial('301');
  await alice.acceptIncoming();
  await Promise.all([alice.established(), bob.established()]);
  await until(() => fileBytes(bob.receivedRecordings()[0]) > 44 + 32_000 && fileBytes(alice.receivedRecordings()[0]) > 44 + 32_000, '2 s of audio both ways');
  await bob.hangup();
  await Promise.all([alice.closed(), bob.closed()]);
  assertHeardTone(bob.receivedRecordings()[0]!, 1000, 'Bob (UDP)');
  assertHeardTone(alice.receivedRecordings()[0]!, 440, 'Alice (TLS)');
});

test('TLS + SRTP: an extension requiring it registers over TLS with srtp-mand, calls a plain UDP phone and is called by it; audio both ways', async () => {
  const carol = await BaresipPhone.start({
    name: 'carol-srtp',
    account: { user: '303', password: 'secret-303', registrar: `127.0.0.1:${tlsPort}`, regint: 600, transport: 'tls', mediaenc: 'srtp-mand' },
    audioFile: makeToneWav(path.join(dir, 'c.wav'), 700, 60),
  });
  phones.push(carol);
  const bob = await BaresipPhone.start({
    name: 'bob-plain',
    account: { user: '302', password: 'secret-302', registrar: `127.0.0.1:${relais.sipPort}`, regint: 600 },
    audioFile: makeToneWav(path.join(dir, 'b2.wav'), 440, 60),
  });
  phones.push(bob);
  await Promise.all([carol.registered(), bob.registered()]);
  await srtpCallsBothWays({ phone: carol, number: '303', hz: 700 }, { phone: bob, number: '302', hz: 440 }, relais);
});

test('the extension requiring TLS + SRTP is refused over UDP: REGISTER 403', async () => {
  const mallory = await BaresipPhone.start({
    name: 'carol-udp',
    account: { user: '303', password: 'secret-303', registrar: `127.0.0.1:${relais.sipPort}`, regint: 600 },
    audioFile: makeToneWav(path.join(dir, 'm.wav'), 700, 10),
  });
  phones.push(mallory);
  const ev = await mallory.waitEvent('REGISTER_FAIL');
  assert.match(String(ev.param), /403/, JSON.stringify(ev));
});

test('an uploaded certificate is served at the next TLS handshake without a restart; a bad one gets a 400 naming the field', async () => {
  const before = await servedFingerprint();
  const work = tempDir('sip-tls-cert-');
  const key = path.join(work, 'key.pem');
  const cert = path.join(work, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '30', '-subj', '/CN=office.example', '-keyout', key, '-out', cert], { stdio: 'ignore' });
  const put = (body: unknown): Promise<Response> =>
    fetch(`${relais.url}/api/tls/certificate`, { method: 'PUT', headers: { ...ADMIN_AUTH, 'content-type': 'application/json' }, body: JSON.stringify(body) });

  const bad = await put({ certificate: fs.readFileSync(cert, 'utf8'), key: 'not a key' });
  assert.equal(bad.status, 400);
  const err = (await bad.json()) as { error: { code: string; field: string } };
  assert.equal(err.error.code, 'tls.invalid');
  assert.equal(err.error.field, 'key');
  assert.equal(await servedFingerprint(), before, 'a refused upload changes nothing');

  const ok = await put({ certificate: fs.readFileSync(cert, 'utf8'), key: fs.readFileSync(key, 'utf8') });
  assert.equal(ok.status, 200, await ok.clone().text());
  const info = (await ok.json()) as { fingerprint256: string; subject: string };
  assert.match(info.subject, /office\.example/);
  assert.equal(await servedFingerprint(), info.fingerprint256, 'the TLS port presents the uploaded certificate');
  assert.notEqual(info.fingerprint256, before);
});
