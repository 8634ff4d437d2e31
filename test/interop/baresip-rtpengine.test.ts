// The same baresip proofs with the rtpengine media backend: tones both ways, RFC 4733 DTMF reported, call recorded.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startRelais, tempDir, type RelaisProcess } from '../helpers/relais-process.js';
import { BaresipPhone } from '../helpers/baresip.js';
import { makeToneWav, toneMs } from '../helpers/audio.js';
import { startRtpengine, type RtpengineDaemon } from './rtpengine-daemon.js';
import { ext, writeSite } from './call-site.js';
import { assertHeardTone, fileBytes, queryDb, until } from './call-support.js';

const phones: BaresipPhone[] = [];
let relais: RelaisProcess | undefined;
let daemon: RtpengineDaemon | undefined;

after(async () => {
  await Promise.all(phones.map((p) => p.stop()));
  await relais?.stop();
  await daemon?.stop();
});

test('rtpengine backend: baresip → Relais → baresip, each side hears the other tone, DTMF reported, call recorded', async () => {
  daemon = await startRtpengine();
  const dir = tempDir('baresip-rtpengine-');
  const site = writeSite(dir, [ext('301', 'Alice'), ext('302', 'Bob')]);
  relais = await startRelais({
    dataDir: path.join(dir, 'data'),
    args: ['--site', site, '--domain', '127.0.0.1', '--media', 'rtpengine', '--rtpengine', `${daemon.ng.host}:${daemon.ng.port}`],
    env: { RELAIS_RTPENGINE_DTMF: `${daemon.dtmf.host}:${daemon.dtmf.port}`, RELAIS_RTPENGINE_RECORDING_DIR: daemon.recordingDir, RELAIS_RECORD_CALLS: 'all' },
  });
  const reg = (n: string) => ({ user: n, password: `secret-${n}`, registrar: `127.0.0.1:${relais!.sipPort}`, regint: 600 });
  const alice = await BaresipPhone.start({ name: 'alice-rte', account: reg('301'), audioFile: makeToneWav(path.join(dir, 'a.wav'), 1000, 120) });
  phones.push(alice);
  const bob = await BaresipPhone.start({ name: 'bob-rte', account: reg('302'), audioFile: makeToneWav(path.join(dir, 'b.wav'), 440, 120) });
  phones.push(bob);
  await Promise.all([alice.registered(), bob.registered()]);

  await alice.dial('302');
  await bob.acceptIncoming();
  await Promise.all([alice.established(), bob.established()]);
  await until(() => fileBytes(bob.receivedRecordings()[0]) > 44 + 40_000 && fileBytes(alice.receivedRecordings()[0]) > 44 + 40_000, '2.5 s of audio both ways');
  await alice.sendDtmf('7');
  // Half a second more of audio at Bob: the digit has crossed Relais. Digits of a bridged call are not stored.
  const heard = fileBytes(bob.receivedRecordings()[0]);
  await until(() => fileBytes(bob.receivedRecordings()[0]) > heard + 8000, 'audio after the DTMF');
  assert.deepEqual(queryDb<{ data: string }>(relais!.dataDir, "SELECT data FROM call_events WHERE type = 'call.dtmf'"), [], 'no digits in the history');
  await alice.hangup();
  await Promise.all([alice.closed(), bob.closed()]);

  assertHeardTone(bob.receivedRecordings()[0]!, 1000, 'Bob');
  assertHeardTone(alice.receivedRecordings()[0]!, 440, 'Alice');

  let row: { recording: string | null; status: string } | undefined;
  await until(() => {
    row = queryDb<{ recording: string | null; status: string }>(relais!.dataDir, 'SELECT recording, status FROM calls ORDER BY started_at DESC LIMIT 1')[0];
    return row?.status === 'ended' && !!row.recording && fileBytes(path.join(relais!.dataDir, row.recording)) > 44 + 8000;
  }, 'the recording file of the call');
  assert.ok(toneMs(path.join(relais.dataDir, row!.recording!), 1000, 0.3) >= 1000, 'recording holds the caller tone');
});
