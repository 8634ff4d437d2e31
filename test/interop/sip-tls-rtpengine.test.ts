// SDES-SRTP with the rtpengine media backend: baresip on TLS with srtp-mand (an extension that requires TLS + SRTP)
// and a plain UDP baresip call each other through Relais and rtpengine (SDES flags over the ng protocol); audio both ways.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ADMIN_AUTH, startRelais, tempDir, type RelaisProcess } from '../helpers/relais-process.js';
import { BaresipPhone } from '../helpers/baresip.js';
import { makeToneWav } from '../helpers/audio.js';
import { startRtpengine, type RtpengineDaemon } from './rtpengine-daemon.js';
import { ext, writeSite } from './call-site.js';
import { assertHeardTone, fileBytes, until } from './call-support.js';

const phones: BaresipPhone[] = [];
let relais: RelaisProcess | undefined;
let daemon: RtpengineDaemon | undefined;

after(async () => {
  await Promise.all(phones.map((p) => p.stop()));
  await relais?.stop();
  await daemon?.stop();
});

test('rtpengine backend: an SRTP phone on TLS and a plain RTP phone call each other both ways, audio checked', async () => {
  daemon = await startRtpengine();
  const dir = tempDir('sip-tls-rtpengine-');
  const site = writeSite(dir, [ext('302', 'Bob'), ext('303', 'Carol')]);
  fs.writeFileSync(site, fs.readFileSync(site, 'utf8').replace('    secret: secret-303\n', '    secret: secret-303\n    require_tls_srtp: true\n'));
  relais = await startRelais({
    dataDir: path.join(dir, 'data'),
    args: ['--site', site, '--domain', '127.0.0.1', '--media', 'rtpengine', '--rtpengine', `${daemon.ng.host}:${daemon.ng.port}`, '--sip-tls-port', '0'],
    env: { RELAIS_RTPENGINE_DTMF: `${daemon.dtmf.host}:${daemon.dtmf.port}` },
  });
  const health = (await (await fetch(`${relais.url}/healthz`, { headers: ADMIN_AUTH })).json()) as { modules: Record<string, { detail?: Record<string, unknown> }> };
  const tlsPort = Number(health.modules['sip']?.detail?.['tlsPort']);
  const carol = await BaresipPhone.start({
    name: 'carol-rte-srtp',
    account: { user: '303', password: 'secret-303', registrar: `127.0.0.1:${tlsPort}`, regint: 600, transport: 'tls', mediaenc: 'srtp-mand' },
    audioFile: makeToneWav(path.join(dir, 'c.wav'), 700, 60),
  });
  phones.push(carol);
  const bob = await BaresipPhone.start({
    name: 'bob-rte-plain',
    account: { user: '302', password: 'secret-302', registrar: `127.0.0.1:${relais.sipPort}`, regint: 600 },
    audioFile: makeToneWav(path.join(dir, 'b.wav'), 440, 60),
  });
  phones.push(bob);
  await Promise.all([carol.registered(), bob.registered()]);
  for (const [caller, callee, number] of [[carol, bob, '302'], [bob, carol, '303']] as const) {
    await caller.dial(number);
    await callee.acceptIncoming().catch((err: Error) => assert.fail(`${err.message}\n${relais!.output().slice(-3000)}`));
    await Promise.all([caller.established(), callee.established()]).catch((err: Error) => assert.fail(`${err.message}\n${relais!.output().slice(-4000)}`));
    const i = carol.receivedRecordings().length - 1;
    const j = bob.receivedRecordings().length - 1;
    await until(() => fileBytes(bob.receivedRecordings()[j]) > 44 + 32_000 && fileBytes(carol.receivedRecordings()[i]) > 44 + 32_000, `2 s of audio both ways (${number} called)`).catch((err: Error) =>
      assert.fail(`${err.message}: Bob got ${fileBytes(bob.receivedRecordings()[j])} bytes, Carol ${fileBytes(carol.receivedRecordings()[i])}\n${carol.log()}`),
    );
    await caller.hangup();
    await Promise.all([caller.closed(), callee.closed()]);
    assertHeardTone(bob.receivedRecordings()[j]!, 700, `Bob (plain RTP) on the call to ${number}`);
    assertHeardTone(carol.receivedRecordings()[i]!, 440, `Carol (SRTP) on the call to ${number}`);
  }
  assert.equal(carol.log().match(/SRTP is Enabled \(cryptosuite=AES_CM_128_HMAC_SHA1_(80|32)\)/g)?.length, 2, carol.log());
  assert.doesNotMatch(bob.log(), /SRTP is Enabled/);
});
