// SDES-SRTP with the rtpengine media backend: baresip on TLS with srtp-mand (an extension that requires TLS + SRTP)
// and a plain UDP baresip call each other through Relais and rtpengine (SDES flags over the ng protocol); audio both ways.
import { test, after } from 'node:test';
import path from 'node:path';
import { startRelais, tempDir, type RelaisProcess } from '../helpers/relais-process.js';
import { BaresipPhone } from '../helpers/baresip.js';
import { makeToneWav } from '../helpers/audio.js';
import { startRtpengine, type RtpengineDaemon } from './rtpengine-daemon.js';
import { ext, writeSite } from './call-site.js';
import { requireTlsSrtp, seedBoxCertificate, srtpCallsBothWays, tlsPortOf } from './tls-support.js';

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
  requireTlsSrtp(site, '303');
  seedBoxCertificate(path.join(dir, 'data'));
  relais = await startRelais({
    dataDir: path.join(dir, 'data'),
    args: ['--site', site, '--domain', '127.0.0.1', '--media', 'rtpengine', '--rtpengine', `${daemon.ng.host}:${daemon.ng.port}`, '--sip-tls-port', '0'],
    env: { RELAIS_RTPENGINE_DTMF: `${daemon.dtmf.host}:${daemon.dtmf.port}` },
  });
  const tlsPort = await tlsPortOf(relais);
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
  await srtpCallsBothWays({ phone: carol, number: '303', hz: 700 }, { phone: bob, number: '302', hz: 440 }, relais);
});
