// Shared by the SIP TLS / SRTP interop tests: the TLS port of a running Relais, a site whose extension requires
// TLS + SRTP, and calls both ways between an SRTP phone and a plain one with the audio checked.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ADMIN_AUTH, type RelaisProcess } from '../helpers/relais-process.js';
import type { BaresipPhone } from '../helpers/baresip.js';
import { assertHeardTone, fileBytes, until } from './call-support.js';

/** The bound SIP TLS port (Relais started with --sip-tls-port 0), from the administrator's /healthz. */
export async function tlsPortOf(relais: RelaisProcess): Promise<number> {
  const health = (await (await fetch(`${relais.url}/healthz`, { headers: ADMIN_AUTH })).json()) as { modules: Record<string, { detail?: Record<string, unknown> }> };
  const port = Number(health.modules['sip']?.detail?.['tlsPort']);
  assert.ok(port > 0, JSON.stringify(health.modules['sip']));
  return port;
}

/** Marks extension `number` of a site file written by writeSite() as requiring TLS + SRTP. */
export function requireTlsSrtp(site: string, number: string): void {
  const line = `    secret: secret-${number}\n`;
  fs.writeFileSync(site, fs.readFileSync(site, 'utf8').replace(line, `${line}    require_tls_srtp: true\n`));
}

/**
 * The SRTP phone calls the plain one, then the plain one calls back; each call carries 2 s of audio both ways, each
 * side hears the other's tone, and baresip reports SRTP on the SRTP phone's two calls only.
 */
export async function srtpCallsBothWays(
  srtp: { phone: BaresipPhone; number: string; hz: number },
  plain: { phone: BaresipPhone; number: string; hz: number },
  relais: RelaisProcess,
): Promise<void> {
  for (const [caller, callee] of [[srtp, plain], [plain, srtp]] as const) {
    await caller.phone.dial(callee.number);
    await callee.phone.acceptIncoming();
    await Promise.all([caller.phone.established(), callee.phone.established()]).catch((err: Error) => assert.fail(`${err.message}\n${relais.output().slice(-4000)}`));
    const s = srtp.phone.receivedRecordings().length - 1;
    const p = plain.phone.receivedRecordings().length - 1;
    await until(() => fileBytes(plain.phone.receivedRecordings()[p]) > 44 + 32_000 && fileBytes(srtp.phone.receivedRecordings()[s]) > 44 + 32_000, `2 s of audio both ways (${callee.number} called)`).catch(
      (err: Error) => assert.fail(`${err.message}: the plain phone got ${fileBytes(plain.phone.receivedRecordings()[p])} bytes, the SRTP phone ${fileBytes(srtp.phone.receivedRecordings()[s])}\n${srtp.phone.log()}`),
    );
    await caller.phone.hangup();
    await Promise.all([caller.phone.closed(), callee.phone.closed()]);
    assertHeardTone(plain.phone.receivedRecordings()[p]!, srtp.hz, `the plain RTP phone on the call to ${callee.number}`);
    assertHeardTone(srtp.phone.receivedRecordings()[s]!, plain.hz, `the SRTP phone on the call to ${callee.number}`);
  }
  // baresip says so for each call on which SRTP runs (its srtp module authenticates every packet it decrypts).
  assert.equal(srtp.phone.log().match(/SRTP is Enabled \(cryptosuite=AES_CM_128_HMAC_SHA1_(80|32)\)/g)?.length, 2, srtp.phone.log());
  assert.doesNotMatch(plain.phone.log(), /SRTP is Enabled/);
}

/**
 * Puts a certificate in `<dataDir>/tls/` before Relais first starts, so it does not make its own RSA one at start
 * (seconds of openssl on a loaded machine, counted against the start-up wait). An EC key: made in milliseconds.
 */
export function seedBoxCertificate(dataDir: string): void {
  const dir = path.join(dataDir, 'tls');
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-sha256', '-days', '30', '-subj', '/CN=127.0.0.1/O=Relais test',
    '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')], { stdio: 'ignore' });
}
