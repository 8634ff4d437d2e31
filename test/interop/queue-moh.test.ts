// Music on hold with real phones: a baresip phone holds (re-INVITE a=sendonly), the other hears the box's default
// music (RTP keeps flowing), and the talk comes back on resume; with the built-in media engine and with rtpengine.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startRelais, tempDir, type RelaisProcess } from '../helpers/relais-process.js';
import { BaresipPhone } from '../helpers/baresip.js';
import { makeToneWav, readWav, goertzelPower } from '../helpers/audio.js';
import { DEFAULT_PROMPTS_DIR, DEFAULT_MOH_NAME } from '../../services/media/sounds/index.js';
import { startRtpengine, type RtpengineDaemon } from './rtpengine-daemon.js';
import { ext, writeSite } from './call-site.js';
import { fileBytes, queryDb, until } from './call-support.js';

const phones: BaresipPhone[] = [];
const relaises: RelaisProcess[] = [];
let daemon: RtpengineDaemon | undefined;

after(async () => {
  await Promise.all(phones.map((p) => p.stop()));
  await Promise.all(relaises.map((r) => r.stop()));
  await daemon?.stop();
});

/** RMS and the share of the energy at `hz`, over the bytes [fromByte, toByte) of a 8 kHz 16-bit recording. */
function segment(file: string, fromByte: number, toByte: number, hz: number): { rms: number; share: number } {
  const w = readWav(file);
  const from = Math.max(0, Math.floor((fromByte - 44) / 2));
  const to = Math.min(w.samples.length, Math.floor((toByte - 44) / 2));
  let s = 0;
  for (let i = from; i < to; i++) s += w.samples[i]! * w.samples[i]!;
  const meanSquare = s / Math.max(1, to - from);
  return { rms: Math.sqrt(meanSquare), share: meanSquare > 0 ? goertzelPower(w.samples, w.sampleRate, hz, from, to) / meanSquare : 0 };
}

async function holdAndResume(name: string, mediaArgs: string[], env: Record<string, string>): Promise<void> {
  assert.ok(fs.existsSync(path.join(DEFAULT_PROMPTS_DIR, DEFAULT_MOH_NAME)), 'scripts/build made the default music on hold');
  const dir = tempDir(`queue-moh-${name}-`);
  const site = writeSite(dir, [ext('301', 'Alice'), ext('302', 'Bob')]);
  const relais = await startRelais({ dataDir: path.join(dir, 'data'), args: ['--site', site, '--domain', '127.0.0.1', ...mediaArgs], env });
  relaises.push(relais);
  const reg = (n: string) => ({ user: n, password: `secret-${n}`, registrar: `127.0.0.1:${relais.sipPort}`, regint: 600 });
  const alice = await BaresipPhone.start({ name: `alice-moh-${name}`, account: reg('301'), audioFile: makeToneWav(path.join(dir, 'a.wav'), 1000, 120) });
  phones.push(alice);
  const bob = await BaresipPhone.start({ name: `bob-moh-${name}`, account: reg('302'), audioFile: makeToneWav(path.join(dir, 'b.wav'), 440, 120) });
  phones.push(bob);
  await Promise.all([alice.registered(), bob.registered()]);

  await alice.dial('302');
  await bob.acceptIncoming();
  await Promise.all([alice.established(), bob.established()]);
  const heard = (): number => fileBytes(alice.receivedRecordings()[0]);
  await until(() => heard() > 44 + 16_000, '1 s of Bob at Alice');
  const talk = heard();
  const events = (): string[] => queryDb<{ type: string }>(relais.dataDir, "SELECT type FROM call_events WHERE type IN ('call.hold', 'call.resume') ORDER BY id").map((e) => e.type);

  // Bob holds: Alice (the held party) keeps receiving RTP, and it is music, not Bob's tone.
  await bob.hold();
  await until(() => events().includes('call.hold'), 'Relais to see the hold');
  const held = heard();
  await until(() => heard() > held + 40_000, '2.5 s of RTP at the held party', 15_000);
  const onHold = heard();
  const tone = segment(alice.receivedRecordings()[0]!, 44, talk, 440);
  assert.ok(tone.share > 0.5, `before the hold Alice heard Bob's 440 Hz (share ${tone.share.toFixed(2)})`);
  // Skip the first half second (the switch from Bob to the music).
  const music = segment(alice.receivedRecordings()[0]!, held + 8000, onHold, 440);
  assert.ok(music.rms > 0.01, `the held party hears music, not silence (RMS ${music.rms.toFixed(4)})`);
  assert.ok(music.share < 0.2, `what the held party hears is not Bob's tone (440 Hz share ${music.share.toFixed(2)})`);

  // Resume: the music stops and Bob's tone is back.
  await bob.resume();
  await until(() => events().includes('call.resume'), 'Relais to see the resume');
  const resumed = heard();
  await until(() => heard() > resumed + 24_000, '1.5 s of audio after the resume', 15_000);
  const back = segment(alice.receivedRecordings()[0]!, resumed + 8000, heard(), 440);
  assert.ok(back.share > 0.5, `after the resume Alice hears Bob again (440 Hz share ${back.share.toFixed(2)})`);
  await alice.hangup();
  await Promise.all([alice.closed(), bob.closed()]);
}

test('hold with the built-in media engine: the held party hears the default music on hold, then the talk again', async () => {
  await holdAndResume('builtin', [], {});
});

test('hold with rtpengine: the held party hears the default music on hold, then the talk again', async () => {
  daemon = await startRtpengine();
  await holdAndResume('rtpe', ['--media', 'rtpengine', '--rtpengine', `${daemon.ng.host}:${daemon.ng.port}`], {
    RELAIS_RTPENGINE_DTMF: `${daemon.dtmf.host}:${daemon.dtmf.port}`,
  });
});

test('a queue with music_on_hold: default answers its waiting caller with the default music, not the ringing tone', async () => {
  const dir = tempDir('queue-moh-queue-');
  const queues = 'queues:\n  - { name: music, short_number: "950", music_on_hold: default, ring_time: 30, members: [bob] }';
  const site = writeSite(dir, [ext('301', 'Alice'), ext('302', 'Bob', { user: 'bob' })], 'en', queues);
  const relais = await startRelais({ dataDir: path.join(dir, 'data'), args: ['--site', site, '--domain', '127.0.0.1'] });
  relaises.push(relais);
  const reg = (n: string) => ({ user: n, password: `secret-${n}`, registrar: `127.0.0.1:${relais.sipPort}`, regint: 600 });
  const alice = await BaresipPhone.start({ name: 'alice-moh-q', account: reg('301'), audioFile: makeToneWav(path.join(dir, 'a.wav'), 1000, 120) });
  phones.push(alice);
  const bob = await BaresipPhone.start({ name: 'bob-moh-q', account: reg('302'), audioFile: makeToneWav(path.join(dir, 'b.wav'), 700, 120) });
  phones.push(bob);
  await Promise.all([alice.registered(), bob.registered()]);

  // Bob's phone rings (he does not answer) while Alice waits, answered by the queue for its music.
  await alice.dial('950');
  await Promise.all([alice.established(), bob.waitEvent('CALL_INCOMING')]);
  await until(() => fileBytes(alice.receivedRecordings()[0]) > 44 + 48_000, '3 s of audio while waiting', 15_000);
  const file = alice.receivedRecordings()[0]!;
  // The music starts on its first chord (C major: no 440 Hz), where the ringing tone would be 440 Hz (with 480 Hz in the US).
  const heard = segment(file, 44 + 8_000, 44 + 40_000, 440);
  assert.ok(heard.rms > 0.01, `the waiting caller hears something (RMS ${heard.rms.toFixed(4)})`);
  assert.ok(heard.share < 0.1, `it is not the ringing tone (440 Hz share ${heard.share.toFixed(2)})`);
  await alice.hangup();
  await Promise.all([alice.closed(), bob.closed()]);
});
