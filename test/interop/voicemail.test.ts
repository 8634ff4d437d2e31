// Voicemail with real phones: an unanswered baresip call leaves a message (stopped by silence), MWI NOTIFY, *97 plays it back.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { startRelais, tempDir, type RelaisProcess } from '../helpers/relais-process.js';
import { BaresipPhone } from '../helpers/baresip.js';
import { activeMs, analyseWav, makeSilenceWav, toneMs } from '../helpers/audio.js';
import { startRtpengine, type RtpengineDaemon } from './rtpengine-daemon.js';
import { ext, writeSite } from './call-site.js';
import { queryDb } from './call-support.js';

const phones: BaresipPhone[] = [];
let relais: RelaisProcess | undefined;
const relaises: RelaisProcess[] = [];
let daemon: RtpengineDaemon | undefined;

after(async () => {
  await Promise.all(phones.map((p) => p.stop()));
  await Promise.all(relaises.map((r) => r.stop()));
  await daemon?.stop();
});

function query<T>(sql: string, ...args: unknown[]): T[] {
  return queryDb<T>(relais!.dataDir, sql, ...args);
}

/** 9 s of 1 kHz then 40 s of silence: the caller speaks over the prompt and into the recording, then stops. */
function speakerWav(file: string): string {
  const r = spawnSync('sox', ['-n', '-r', '8000', '-c', '1', '-b', '16', file, 'synth', '9', 'sine', '1000', 'vol', '0.5', 'pad', '0', '40'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`sox failed: ${r.stderr}`);
  return file;
}

async function voicemailProof(media: 'builtin' | 'rtpengine'): Promise<void> {
  const dir = tempDir(`voicemail-${media}-`);
  const site = writeSite(dir, [ext('401', 'Alice'), ext('402', 'Bob', { voicemail: true, pin: '1234' })]);
  let mediaArgs: string[] = [];
  let mediaEnv: Record<string, string> = {};
  if (media === 'rtpengine') {
    daemon = await startRtpengine();
    mediaArgs = ['--media', 'rtpengine', '--rtpengine', `${daemon.ng.host}:${daemon.ng.port}`];
    mediaEnv = { RELAIS_RTPENGINE_DTMF: `${daemon.dtmf.host}:${daemon.dtmf.port}`, RELAIS_RTPENGINE_RECORDING_DIR: daemon.recordingDir };
  }
  relais = await startRelais({
    dataDir: path.join(dir, 'data'),
    args: ['--site', site, '--domain', '127.0.0.1', ...mediaArgs],
    env: { RELAIS_RING_TIMEOUT_MS: '2000', RELAIS_VM_SILENCE_MS: '1500', RELAIS_VM_MAX_MS: '20000', ...mediaEnv },
  });
  relaises.push(relais);
  const reg = (n: string) => ({ user: n, password: `secret-${n}`, registrar: `127.0.0.1:${relais!.sipPort}`, regint: 600 });
  const alice = await BaresipPhone.start({ name: `vm-alice-${media}`, account: reg('401'), audioFile: speakerWav(path.join(dir, 'speaker.wav')) });
  phones.push(alice);
  const bob = await BaresipPhone.start({ name: `vm-bob-${media}`, account: reg('402'), audioFile: makeSilenceWav(path.join(dir, 'silence.wav'), 60), extraModules: ['mwi.so'] });
  phones.push(bob);
  await Promise.all([alice.registered(), bob.registered()]);

  // Bob lets it ring; after the ring timeout Relais cancels him and answers Alice with the voicemail prompt.
  await alice.dial('402');
  await bob.waitEvent('CALL_INCOMING');
  await bob.closed(10_000);
  await alice.established(10_000);
  const closed = await alice.closed(30_000);
  assert.ok(closed, 'Relais hangs up after the message');

  const rows = query<{ id: number; file: string; duration_ms: number; is_new: number; caller: string }>('SELECT id, file, duration_ms, is_new, caller FROM voicemails');
  assert.equal(rows.length, 1, relais.output().slice(-3000));
  const vm = rows[0]!;
  assert.equal(vm.caller, '401');
  assert.equal(vm.is_new, 1);
  const file = path.join(relais.dataDir, vm.file);
  assert.ok(fs.existsSync(file));
  const a = analyseWav(file);
  assert.ok(a.durationMs < 12_000, `stopped by silence, not max length (${a.durationMs} ms)`);
  assert.ok(toneMs(file, 1000) >= 2000, `message holds the caller tone: ${JSON.stringify(a)}`);

  const mwi = await bob
    .waitEvent('MWI_NOTIFY', 10_000, (e) => /Messages-Waiting:\s*yes/i.test(String(e.param)))
    .catch((err: Error) => assert.fail(`${err.message}\nrelais:\n${relais!.output().slice(-4000)}`));
  assert.match(String(mwi.param), /Messages-Waiting:\s*yes/i);

  // Bob dials *97, keys his PIN, hears the message; it becomes old and MWI goes off.
  await bob.dial('*97');
  await bob.established(10_000);
  await bob.waitEvent('CALL_RTPESTAB', 10_000);
  await bob.sendDtmf('1234#');
  await bob.closed(60_000);
  const [after97] = query<{ is_new: number }>('SELECT is_new FROM voicemails WHERE id = ?', vm.id);
  assert.equal(after97!.is_new, 0);
  // baresip's MWI_NOTIFY event carries the first body line only; the counts are checked in the database above.
  const off = await bob.waitEvent('MWI_NOTIFY', 10_000, (e) => /Messages-Waiting:\s*no/i.test(String(e.param)));
  assert.ok(off);
  const heard = bob.receivedRecordings().at(-1)!;
  const heardMs = toneMs(heard, 1000);
  assert.ok(heardMs >= 2000, `Bob heard the 1 kHz message (${heardMs} ms of it)`);
  // The spoken prompts (enter PIN, you have 1 new message, message 1, goodbye) are heard too.
  const spokenMs = activeMs(heard) - heardMs;
  assert.ok(spokenMs >= 2000, `Bob heard the prompts (${spokenMs} ms of sound besides the message)`);
}

test('no answer → voicemail recorded until silence, MWI NOTIFY to the mailbox owner, *97 with PIN plays it and marks it old', async () => {
  await voicemailProof('builtin');
});

test('the same voicemail proof with the rtpengine media backend', async () => {
  await voicemailProof('rtpengine');
});
