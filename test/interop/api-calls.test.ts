// REST API with real calls: baresip phones make a recorded call and leave a voicemail; history, recording download, voicemail audio, heard → MWI, delete.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startRelais, tempDir, type RelaisProcess } from '../helpers/relais-process.js';
import { BaresipPhone } from '../helpers/baresip.js';
import { goertzelPower, makeToneThenSilenceWav, makeToneWav, readWav, toneMs } from '../helpers/audio.js';
import { fileBytes, queryDb, until } from './call-support.js';
import { ADMIN, ALICE, BOB, assertError, basic, call, jsonInit, writeApiSite } from './api-support.js';

const phones: BaresipPhone[] = [];
let relais: RelaisProcess | undefined;

after(async () => {
  await Promise.all(phones.map((p) => p.stop()));
  await relais?.stop();
});

interface ApiCall {
  id: string;
  caller: string;
  callee: string;
  status: string;
  endedAt: number | null;
  startedAt: number;
  recording: string | null;
}

interface ApiVoicemail {
  id: number;
  extension: string;
  caller: string;
  heard: boolean;
  durationMs: number;
  audio: string;
}

test('a recorded baresip call is in the history and its WAV downloads; a voicemail is listed, played, marked heard (MWI off) and deleted', async () => {
  const dir = tempDir('api-calls-');
  relais = await startRelais({
    dataDir: path.join(dir, 'data'),
    args: ['--site', writeApiSite(dir), '--domain', '127.0.0.1'],
    env: { RELAIS_RECORD_CALLS: 'all', RELAIS_RING_TIMEOUT_MS: '2000', RELAIS_VM_SILENCE_MS: '1500', RELAIS_VM_MAX_MS: '20000' },
  });
  const r = relais;
  const api = `${r.url}/api`;
  const admin = { authorization: basic(ADMIN) };
  const reg = (n: string) => ({ user: n, password: `secret-${n}`, registrar: `127.0.0.1:${r.sipPort}`, regint: 600 });
  // The desk phone speaks 1 kHz for 9 s (over the voicemail prompt and into the message), then nothing.
  const desk = await BaresipPhone.start({ name: 'api-desk', account: reg('202'), audioFile: makeToneThenSilenceWav(path.join(dir, 'desk.wav'), 1000, 9, 40) });
  phones.push(desk);
  const alice = await BaresipPhone.start({ name: 'api-alice', account: reg('201'), audioFile: makeToneWav(path.join(dir, 'alice.wav'), 440, 60), extraModules: ['mwi.so'] });
  phones.push(alice);
  await Promise.all([desk.registered(), alice.registered()]);

  // Call 1: answered, recorded (RELAIS_RECORD_CALLS=all).
  await desk.dial('201');
  await alice.acceptIncoming();
  await Promise.all([desk.established(), alice.established()]);
  await until(() => fileBytes(alice.receivedRecordings()[0]) > 44 + 24_000, '1.5 s of audio at Alice');
  await desk.hangup();
  await Promise.all([desk.closed(), alice.closed()]);

  const calls = async (): Promise<ApiCall[]> => (await call(`${api}/calls`, { headers: admin })).json.calls as ApiCall[];
  await until(async () => (await calls())[0]?.endedAt != null, 'the recorded call to end in the API history');
  const [recorded] = await calls();
  assert.equal(recorded!.caller, '202');
  assert.equal(recorded!.callee, '201');
  assert.equal(recorded!.recording, `/api/calls/${recorded!.id}/recording`, 'a download link, never a path on disk');

  const one = await call(`${api}/calls/${recorded!.id}`, { headers: admin });
  assert.equal((one.json.call as ApiCall).id, recorded!.id);
  const types = (one.json.events as { type: string }[]).map((e) => e.type);
  assert.ok(types.length > 0, 'the call has its events');

  const res = await fetch(`${r.url}${recorded!.recording}`, { headers: admin });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'audio/wav');
  assert.equal(res.headers.get('content-disposition'), `attachment; filename="call-${recorded!.id}.wav"`);
  const wavBytes = Buffer.from(await res.arrayBuffer());
  const [row] = queryDb<{ recording: string }>(r.dataDir, 'SELECT recording FROM calls WHERE id = ?', recorded!.id);
  assert.ok(wavBytes.equals(fs.readFileSync(path.join(r.dataDir, row!.recording))), 'the download is the recording, byte for byte');
  const downloaded = path.join(dir, 'download.wav');
  fs.writeFileSync(downloaded, wavBytes);
  const rec = readWav(downloaded);
  assert.ok(rec.samples.length > 8000, 'at least a second recorded');
  assert.ok(goertzelPower(rec.samples, rec.sampleRate, 1000) > 0.001, 'the recording holds the caller tone');
  assertError(await call(`${r.url}${recorded!.recording}`, { headers: { authorization: basic(ALICE) } }), 403, 'auth.forbidden');

  // Call 2: Alice lets it ring; after 2 s voicemail answers and records the desk phone's tone until silence.
  await desk.dial('201');
  await alice.waitEvent('CALL_INCOMING');
  await alice.closed(10_000);
  await desk.established(10_000);
  assert.ok(await desk.closed(30_000), 'Relais hangs up after the message');
  await alice.waitEvent('MWI_NOTIFY', 10_000, (e) => /Messages-Waiting:\s*yes/i.test(String(e.param)));

  // History paging: newest first, `next` leads to the older call.
  const page1 = await call(`${api}/calls?limit=1`, { headers: admin });
  assert.equal((page1.json.calls as ApiCall[]).length, 1);
  assert.notEqual((page1.json.calls as ApiCall[])[0]!.id, recorded!.id, 'the voicemail call is the newest');
  const page2 = await call(`${r.url}${String(page1.json.next)}`, { headers: admin });
  assert.equal((page2.json.calls as ApiCall[])[0]!.id, recorded!.id);

  // Alice owns extension 201: she sees her message without the history right; Bob does not.
  const alicesAuth = { authorization: basic(ALICE) };
  const list = await call(`${api}/voicemails`, { headers: alicesAuth });
  const vms = list.json.voicemails as ApiVoicemail[];
  assert.equal(vms.length, 1, JSON.stringify(list.json));
  const vm = vms[0]!;
  assert.equal(vm.extension, '201');
  assert.equal(vm.caller, '202');
  assert.equal(vm.heard, false);
  assert.deepEqual((await call(`${api}/voicemails?extension=201&new=true`, { headers: admin })).json.voicemails, vms);
  assert.deepEqual((await call(`${api}/voicemails`, { headers: { authorization: basic(BOB) } })).json.voicemails, []);
  assertError(await call(`${api}/voicemails/${vm.id}/audio`, { headers: { authorization: basic(BOB) } }), 404, 'voicemail.not_found');

  const audio = await fetch(`${r.url}${vm.audio}`, { headers: alicesAuth });
  assert.equal(audio.status, 200);
  assert.equal(audio.headers.get('content-type'), 'audio/wav');
  const vmFile = path.join(dir, 'vm.wav');
  fs.writeFileSync(vmFile, Buffer.from(await audio.arrayBuffer()));
  assert.ok(toneMs(vmFile, 1000) >= 1000, 'the message holds the caller tone');

  // Heard: the row turns old and the phone's lamp goes off (MWI NOTIFY through the call module).
  assertError(await call(`${api}/voicemails/${vm.id}`, jsonInit('PATCH', { heard: 'yes' }, basic(ALICE))), 400, 'api.field_type', 'heard');
  assertError(await call(`${api}/voicemails/${vm.id}`, jsonInit('PATCH', { heard: true, extra: 1 }, basic(ALICE))), 400, 'api.field_unknown', 'extra');
  const lampOff = (): number => alice.events.filter((e) => e.type === 'MWI_NOTIFY' && /Messages-Waiting:\s*no/i.test(String(e.param))).length;
  const offBefore = lampOff();
  const patched = await call(`${api}/voicemails/${vm.id}`, jsonInit('PATCH', { heard: true }, basic(ALICE)));
  assert.equal(patched.status, 200, JSON.stringify(patched.json));
  assert.equal((patched.json.voicemail as ApiVoicemail).heard, true);
  assert.equal(queryDb<{ is_new: number }>(r.dataDir, 'SELECT is_new FROM voicemails WHERE id = ?', vm.id)[0]!.is_new, 0);
  await until(() => lampOff() > offBefore, 'an MWI NOTIFY saying no messages waiting');

  const [vmRow] = queryDb<{ file: string }>(r.dataDir, 'SELECT file FROM voicemails WHERE id = ?', vm.id);
  assert.equal((await fetch(`${api}/voicemails/${vm.id}`, { method: 'DELETE', headers: alicesAuth })).status, 204);
  assert.equal(fs.existsSync(path.join(r.dataDir, vmRow!.file)), false, 'the message file is removed');
  assertError(await call(`${api}/voicemails/${vm.id}`, { headers: alicesAuth }), 404, 'voicemail.not_found');
  assert.deepEqual((await call(`${api}/voicemails`, { headers: admin })).json.voicemails, []);
  assert.equal((await call(`${r.url}/healthz`)).status, 200);
});
