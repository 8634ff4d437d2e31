// Two baresip phones registered to Relais call each other: audio both ways (frequency check), DTMF, recording, RTP timeout, restart.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startRelais, tempDir, type RelaisProcess } from '../helpers/relais-process.js';
import { BaresipPhone } from '../helpers/baresip.js';
import { makeToneWav, readWav, goertzelPower, toneMs } from '../helpers/audio.js';
import { ext, writeSite } from './call-site.js';
import { assertHeardTone, fileBytes, queryDb, until } from './call-support.js';

const phones: BaresipPhone[] = [];
const relaises: RelaisProcess[] = [];

after(async () => {
  await Promise.all(phones.map((p) => p.stop()));
  await Promise.all(relaises.map((r) => r.stop()));
});

async function relaisWith(dir: string, env: Record<string, string> = {}, sipPort?: number): Promise<RelaisProcess> {
  const site = writeSite(dir, [ext('301', 'Alice'), ext('302', 'Bob')]);
  const r = await startRelais({
    dataDir: path.join(dir, 'data'),
    args: ['--site', site, '--domain', '127.0.0.1'],
    env,
    ...(sipPort ? { sipPort } : {}),
  });
  relaises.push(r);
  return r;
}

async function phone(name: string, number: string, relais: RelaisProcess, audio: string): Promise<BaresipPhone> {
  const p = await BaresipPhone.start({
    name,
    account: { user: number, password: `secret-${number}`, registrar: `127.0.0.1:${relais.sipPort}`, regint: 600 },
    audioFile: audio,
  });
  phones.push(p);
  return p;
}

const query = <T>(relais: RelaisProcess, sql: string, ...args: unknown[]): T[] => queryDb<T>(relais.dataDir, sql, ...args);

test('baresip → Relais → baresip: each side hears the other tone, DTMF reported, call recorded, RTP timeout tears down', async () => {
  const dir = tempDir('baresip-call-');
  const relais = await relaisWith(dir, { RELAIS_RECORD_CALLS: 'all', RELAIS_RTP_TIMEOUT_MS: '2500' });
  const alice = await phone('alice', '301', relais, makeToneWav(path.join(dir, 'a-1000.wav'), 1000, 120));
  const bob = await phone('bob', '302', relais, makeToneWav(path.join(dir, 'b-440.wav'), 440, 120));
  await Promise.all([alice.registered(), bob.registered()]);

  await alice.dial('302');
  const inc = await bob.waitEvent('CALL_INCOMING');
  assert.match(String(inc.param), /sip:301@/, 'caller ID is the calling extension');
  await bob.accept();
  await Promise.all([alice.established(), bob.established()]);

  // 2 s of audio in each direction, observed on the growing recordings (8 kHz 16-bit = 16 000 bytes/s).
  await until(() => fileBytes(bob.receivedRecordings()[0]) > 44 + 40_000 && fileBytes(alice.receivedRecordings()[0]) > 44 + 40_000, '2.5 s of audio both ways');
  await alice.sendDtmf('5');
  // Half a second more of audio at Bob: the digit has crossed Relais. Digits of a bridged call are not stored.
  const heard = fileBytes(bob.receivedRecordings()[0]);
  await until(() => fileBytes(bob.receivedRecordings()[0]) > heard + 8000, 'audio after the DTMF');
  assert.deepEqual(query<{ data: string }>(relais, "SELECT data FROM call_events WHERE type = 'call.dtmf'"), [], 'no digits in the history');
  await alice.hangup();
  await Promise.all([alice.closed(), bob.closed()]);

  assertHeardTone(bob.receivedRecordings()[0]!, 1000, 'Bob');
  assertHeardTone(alice.receivedRecordings()[0]!, 440, 'Alice');

  const latest = (): { id: string; recording: string | null; cause: string; status: string } | undefined =>
    query<{ id: string; recording: string | null; cause: string; status: string }>(relais, 'SELECT id, recording, cause, status FROM calls ORDER BY started_at DESC LIMIT 1')[0];
  await until(() => latest()?.status === 'ended', 'the call row to say ended');
  const call = latest();
  assert.equal(call!.status, 'ended');
  assert.equal(call!.cause, 'caller-hangup');
  assert.ok(call!.recording, 'calls.recording set');
  const rec = readWav(path.join(relais.dataDir, call!.recording!));
  assert.ok(rec.samples.length > 8000, 'recording has at least a second');
  const p1000 = goertzelPower(rec.samples, rec.sampleRate, 1000);
  assert.ok(p1000 > 0.001, `recording holds the caller tone (power ${p1000})`);

  // Bob's phone freezes (SIGSTOP): no more RTP → Relais ends the call after its RTP timeout and BYEs Alice.
  await alice.dial('302');
  await bob.acceptIncoming();
  await alice.established();
  await bob.established();
  await until(() => fileBytes(alice.receivedRecordings()[1]) > 44 + 16_000, 'audio on the second call');
  process.kill(bob.pid, 'SIGSTOP');
  try {
    const closed = await alice.closed(15_000);
    assert.ok(closed, 'Alice released');
  } finally {
    process.kill(bob.pid, 'SIGCONT');
  }
  const lastCause = (): string | null | undefined => query<{ cause: string | null }>(relais, 'SELECT cause FROM calls ORDER BY started_at DESC LIMIT 1')[0]?.cause;
  await until(() => lastCause() !== null, 'the second call to end').catch(() => undefined);
  assert.equal(lastCause(), 'rtp-timeout', relais.output().slice(-3000));
});

test('restart Relais between REGISTER and the call: the binding survives and the call connects', async () => {
  const dir = tempDir('baresip-restart-');
  const first = await relaisWith(dir);
  const tone = makeToneWav(path.join(dir, 'tone.wav'), 1000, 60);
  const bob = await phone('bob-r', '302', first, tone);
  await bob.registered();
  const code = await first.stop();
  assert.equal(code, 0, first.output().slice(-2000));
  const second = await relaisWith(dir, {}, first.sipPort);
  const alice = await phone('alice-r', '301', second, tone);
  await alice.registered();
  await alice.dial('302');
  await bob.acceptIncoming().catch((err: Error) => assert.fail(`${err.message}\nrelais after restart:\n${second.output().slice(-4000)}`));
  await Promise.all([alice.established(), bob.established()]);
  await alice.hangup();
  await Promise.all([alice.closed(), bob.closed()]);
});

test('hold, then blind transfer from baresip (REFER): the transferee talks to the target, the transferor is released', async () => {
  const dir = tempDir('baresip-xfer-');
  const site = writeSite(dir, [ext('301', 'Alice'), ext('302', 'Bob'), ext('303', 'Carol')]);
  const relais = await startRelais({ dataDir: path.join(dir, 'data'), args: ['--site', site, '--domain', '127.0.0.1'] });
  relaises.push(relais);
  const alice = await phone('alice-x', '301', relais, makeToneWav(path.join(dir, 'a.wav'), 1000, 120));
  const bob = await phone('bob-x', '302', relais, makeToneWav(path.join(dir, 'b.wav'), 440, 120));
  const carol = await phone('carol-x', '303', relais, makeToneWav(path.join(dir, 'c.wav'), 700, 120));
  await Promise.all([alice.registered(), bob.registered(), carol.registered()]);

  await alice.dial('302');
  await bob.acceptIncoming();
  await Promise.all([alice.established(), bob.established()]);
  await bob.hold();
  await until(() => query<{ type: string }>(relais, "SELECT type FROM call_events WHERE type = 'call.hold'").length === 1, 'Relais to see the hold');
  await bob.transfer(`sip:303@127.0.0.1:${relais.sipPort}`);
  const inc = await carol.waitEvent('CALL_INCOMING');
  assert.match(String(inc.param), /sip:301@/, 'Carol sees Alice (the transferee) calling');
  await carol.accept();
  await carol.established();
  await bob.closed(10_000);
  await until(() => fileBytes(carol.receivedRecordings()[0]) > 44 + 32_000, '2 s of audio at Carol');
  await carol.hangup();
  await Promise.all([carol.closed(), alice.closed(10_000)]);
  assertHeardTone(carol.receivedRecordings()[0]!, 1000, 'Carol (from Alice)');
  assert.ok(toneMs(alice.receivedRecordings()[0]!, 700) >= 1000, 'Alice heard Carol after the transfer');
  const types = query<{ type: string }>(relais, 'SELECT type FROM call_events ORDER BY id').map((e) => e.type);
  assert.ok(types.includes('call.transferred'), types.join(','));
});

test('two phones on one extension ring together; the first to answer wins, the other is CANCELled', async () => {
  const dir = tempDir('baresip-fork-');
  const relais = await relaisWith(dir);
  const alice = await phone('alice-f', '301', relais, makeToneWav(path.join(dir, 'a.wav'), 1000, 120));
  const desk = await phone('bob-desk', '302', relais, makeToneWav(path.join(dir, 'd.wav'), 440, 120));
  const soft = await phone('bob-soft', '302', relais, makeToneWav(path.join(dir, 's.wav'), 600, 120));
  await Promise.all([alice.registered(), desk.registered(), soft.registered()]);
  await alice.dial('302');
  await Promise.all([desk.waitEvent('CALL_INCOMING'), soft.waitEvent('CALL_INCOMING')]);
  await soft.accept();
  await Promise.all([alice.established(), soft.established()]);
  await desk.closed();
  assert.ok(!desk.events.some((e) => e.type === 'CALL_ESTABLISHED'), 'the desk phone stopped ringing without being connected');
  await until(() => fileBytes(alice.receivedRecordings()[0]) > 44 + 24_000, 'audio from the answering phone');
  await alice.hangup();
  await Promise.all([alice.closed(), soft.closed()]);
  assert.ok(toneMs(alice.receivedRecordings()[0]!, 600) >= 800, 'Alice hears the phone that answered');
});

test('a phone registered over TCP is called back over its own connection', async () => {
  const dir = tempDir('baresip-tcp-');
  const relais = await relaisWith(dir);
  const alice = await phone('alice-t', '301', relais, makeToneWav(path.join(dir, 'a.wav'), 1000, 120));
  const bob = await BaresipPhone.start({
    name: 'bob-tcp',
    account: { user: '302', password: 'secret-302', registrar: `127.0.0.1:${relais.sipPort}`, regint: 600, transport: 'tcp' },
    audioFile: makeToneWav(path.join(dir, 'b.wav'), 440, 120),
  });
  phones.push(bob);
  await Promise.all([alice.registered(), bob.registered()]);
  // Bindings are written behind (~200 ms): poll for Bob's.
  await until(
    () => queryDb<{ transport: string }>(relais.dataDir, "SELECT transport FROM registrations WHERE aor LIKE 'sip:302@%'")[0]?.transport === 'tcp',
    'Bob registered over TCP',
  );
  await alice.dial('302');
  await bob.acceptIncoming();
  await Promise.all([alice.established(), bob.established()]);
  await until(() => fileBytes(bob.receivedRecordings()[0]) > 44 + 24_000, 'audio at the TCP phone');
  await alice.hangup();
  await Promise.all([alice.closed(), bob.closed()]);
  assertHeardTone(bob.receivedRecordings()[0]!, 1000, 'Bob (TCP)');
});
