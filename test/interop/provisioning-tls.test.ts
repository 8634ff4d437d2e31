// Provisioning switches phones to TLS + SRTP, fetched with real clients: curl over HTTPS gets a Yealink file with SIP
// over TLS on the bound TLS port, SRTP compulsory and the URL of the box's certificate; that URL (plain HTTP) and
// tftp-hpa serve the very certificate Relais uses; tftp-hpa gets a Grandstream file with TLS, forced SRTP and the
// certificate inline; the phone of an extension without the requirement keeps UDP.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { startRelais, tempDir, type RelaisProcess, ADMIN_AUTH } from '../helpers/relais-process.js';
import { freePort } from '../helpers/ports.js';
import { ext, writeSite } from './call-site.js';
import { requireTlsSrtp, seedBoxCertificate, tlsPortOf } from './tls-support.js';

const YEALINK_SECURE = '001565ccdd01';
const GRANDSTREAM_SECURE = '000b82ccdd02';
const YEALINK_PLAIN = '001565ccdd03';
let relais: RelaisProcess;
let dir: string;
let tftpPort: number;
let httpsPort: number;
let tlsPort: number;

function run(cmd: string, args: string[]): { code: number | null; out: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 20_000 });
  if (r.error) throw new Error(`${cmd} could not run (scripts/install-peers installs it): ${r.error.message}`);
  return { code: r.status, out: r.stdout + r.stderr };
}

function curl(url: string, insecure = false): { status: number; body: string } {
  const r = run('curl', ['-s', '-S', '--max-time', '10', ...(insecure ? ['-k'] : []), '-w', '\n%{http_code}', url]);
  const i = r.out.lastIndexOf('\n');
  return { status: Number(r.out.slice(i + 1)), body: r.out.slice(0, i) };
}

function tftp(name: string): string {
  const out = path.join(dir, `tftp-${name}`);
  const r = run('tftp', ['-m', 'binary', '127.0.0.1', String(tftpPort), '-c', 'get', name, out]);
  assert.equal(r.code, 0, r.out);
  return fs.readFileSync(out, 'utf8');
}

before(async () => {
  dir = tempDir('provisioning-tls-');
  const site = writeSite(
    dir,
    [ext('201', 'Anne'), ext('202', 'Bert'), ext('203', 'Cleo')],
    'en',
    [
      'phones:',
      `  - { mac: "${YEALINK_SECURE}", vendor: yealink, model: T54W, extension: "201" }`,
      `  - { mac: "${GRANDSTREAM_SECURE}", vendor: grandstream, model: GRP2614, extension: "202" }`,
      `  - { mac: "${YEALINK_PLAIN}", vendor: yealink, model: T46U, extension: "203" }`,
    ].join('\n'),
  );
  requireTlsSrtp(site, '201');
  requireTlsSrtp(site, '202');
  const dataDir = path.join(dir, 'data');
  seedBoxCertificate(dataDir);
  tftpPort = await freePort();
  relais = await startRelais({ dataDir, args: ['--site', site, '--domain', '127.0.0.1', '--https-port', '0', '--sip-tls-port', '0', '--tftp-port', String(tftpPort)] });
  const health = (await (await fetch(`${relais.url}/healthz`, { headers: ADMIN_AUTH })).json()) as { modules: Record<string, { detail?: Record<string, unknown> }> };
  httpsPort = Number(health.modules['api']?.detail?.['httpsPort']);
  assert.ok(httpsPort > 0);
  tlsPort = await tlsPortOf(relais);
});

after(async () => {
  await relais?.stop();
});

test('curl over HTTPS: the Yealink of an extension requiring TLS + SRTP gets TLS on the TLS port, SRTP compulsory and the certificate URL', () => {
  const r = curl(`https://127.0.0.1:${httpsPort}/provisioning/${YEALINK_SECURE}.cfg`, true);
  assert.equal(r.status, 200, r.body);
  assert.match(r.body, /^account\.1\.password = secret-201$/m);
  assert.match(r.body, new RegExp(`^account\\.1\\.sip_server\\.1\\.port = ${tlsPort}$`, 'm'));
  assert.match(r.body, /^account\.1\.sip_server\.1\.transport_type = 2$/m);
  assert.match(r.body, /^account\.1\.srtp_encryption = 2$/m);
  const url = /^static\.trusted_certificates\.url = (\S+)$/m.exec(r.body)?.[1];
  assert.equal(url, `${relais.url}/provisioning/relais-ca.pem`);
  // The URL serves the certificate Relais' SIP over TLS and HTTPS use, over plain HTTP (it is public).
  const ca = curl(url!);
  assert.equal(ca.status, 200);
  assert.equal(ca.body, fs.readFileSync(path.join(relais.dataDir, 'tls', 'cert.pem'), 'utf8'));
});

test('tftp-hpa: the certificate, and the Grandstream file with TLS (P130 2), forced SRTP (P183 2) and the certificate inline (P8433)', () => {
  const pem = fs.readFileSync(path.join(relais.dataDir, 'tls', 'cert.pem'), 'utf8');
  assert.equal(tftp('relais-ca.pem'), pem);
  const gs = tftp(`cfg${GRANDSTREAM_SECURE}.xml`);
  assert.match(gs, new RegExp(`<P47>127\\.0\\.0\\.1:${tlsPort}</P47>`));
  assert.match(gs, /<P130>2<\/P130>/);
  assert.match(gs, /<P183>2<\/P183>/);
  assert.ok(gs.includes(`<P8433>${pem.trim()}</P8433>`), gs);
  assert.doesNotMatch(gs, /secret-202/, 'TFTP never carries the password');
});

test('the phone of an extension without the requirement keeps UDP on the SIP port and no SRTP', () => {
  const r = curl(`https://127.0.0.1:${httpsPort}/provisioning/${YEALINK_PLAIN}.cfg`, true);
  assert.equal(r.status, 200);
  assert.match(r.body, new RegExp(`^account\\.1\\.sip_server\\.1\\.port = ${relais.sipPort}$`, 'm'));
  assert.match(r.body, /^account\.1\.sip_server\.1\.transport_type = 0$/m);
  assert.doesNotMatch(r.body, /srtp_encryption|trusted_certificates/);
});
