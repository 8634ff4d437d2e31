// kill -9 while a caller is leaving a voicemail message, or during a recorded call (real baresip phones speaking
// tones): after the restart the phones get their BYE, the message is in the mailbox with what was said until the
// kill, and the recording plays up to the last second written.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startRelais, tempDir, type RelaisProcess } from '../helpers/relais-process.js';
import { BaresipPhone } from '../helpers/baresip.js';
import { makeToneWav, toneMs } from '../helpers/audio.js';
import { parseWav } from '../../services/media/sounds/index.js';
import { queryDb, until } from './call-support.js';
import { ADMIN, basic, call, writeApiSite } from './api-support.js';
import { killAndRestart } from './crash-support.js';

const phones: BaresipPhone[] = [];
/** Every Relais a test started (a restart is another process): all stopped at the end, or the file never exits. */
const started: RelaisProcess[] = [];

after(async () => {
  await Promise.all(phones.map((p) => p.stop()));
  await Promise.all(started.map((r) => r.stop()));
});

async function start(args: string[], dataDir: string, env: Record<string, string>): Promise<RelaisProcess> {
  const r = await startRelais({ dataDir, args, env });
  started.push(r);
  return r;
}

async function restart(r: RelaisProcess, args: string[]): Promise<RelaisProcess> {
  const again = await killAndRestart(r, args);
  started.push(again);
  return again;
}

function wavBytes(dataDir: string): number {
  const dir = path.join(dataDir, 'voicemail', '201');
  try {
    return Math.max(0, ...fs.readdirSync(dir).map((f) => fs.statSync(path.join(dir, f)).size));
  } catch {
    return 0;
  }
}

test('kill -9 during a voicemail message: the caller gets a BYE after the restart and the message is filed with what was said', async () => {
  const dir = tempDir('crash-vm-');
  const args = ['--site', writeApiSite(dir), '--domain', '127.0.0.1'];
  const r = await start(args, path.join(dir, 'data'), { RELAIS_VM_MAX_MS: '60000' });
  // The desk phone (202) speaks 1 kHz for the whole call; Alice (201, voicemail on) has no phone registered.
  const desk = await BaresipPhone.start({
    name: 'crash-vm-desk',
    account: { user: '202', password: 'secret-202', registrar: `127.0.0.1:${r.sipPort}`, regint: 600 },
    audioFile: makeToneWav(path.join(dir, 'desk.wav'), 1000, 60),
  });
  phones.push(desk);
  await desk.registered();
  await desk.dial('201');
  await desk.established(10_000);
  // Prompt and beep, then at least 3 s of the message on disk (the recorder writes a second at a time).
  await until(() => wavBytes(r.dataDir) >= 44 + 3 * 16_000, '3 s of the message recorded', 30_000);
  const killedAt = Date.now();
  const relais = await restart(r, args);

  // The caller's phone is not left in a silent call: the restarted Relais ends the dialog it journaled.
  await desk.closed(20_000);

  const admin = { authorization: basic(ADMIN) };
  const list = await call(`${relais.url}/api/voicemails?extension=201`, { headers: admin });
  const vms = list.json.voicemails as { id: number; caller: string; durationMs: number; heard: boolean; audio: string }[];
  assert.equal(vms.length, 1, JSON.stringify(list.json));
  assert.equal(vms[0]!.caller, '202');
  assert.equal(vms[0]!.heard, false);
  assert.ok(vms[0]!.durationMs >= 3000, `${vms[0]!.durationMs} ms filed`);
  const audio = await fetch(`${relais.url}${vms[0]!.audio}`, { headers: admin });
  assert.equal(audio.status, 200);
  const file = path.join(dir, 'message.wav');
  fs.writeFileSync(file, Buffer.from(await audio.arrayBuffer()));
  assert.ok(toneMs(file, 1000) >= 2000, 'the message holds the caller tone, and its header its length');

  // The call: ended by the restart, the message filed as interrupted.
  const [c] = queryDb<{ id: string; cause: string; ended_at: number }>(relais.dataDir, "SELECT id, cause, ended_at FROM calls WHERE caller = '202' AND callee = '201'");
  assert.equal(c!.cause, 'restart');
  assert.ok(c!.ended_at >= killedAt - 60_000);
  const events = queryDb<{ type: string; data: string }>(relais.dataDir, "SELECT type, data FROM call_events WHERE call_id = ? AND type LIKE 'voicemail.%' ORDER BY id", c!.id);
  assert.deepEqual(events.map((e) => [e.type, (JSON.parse(e.data) as { end?: string }).end ?? null]), [['voicemail.answered', null], ['voicemail.stored', 'interrupted']]);
});

test('kill -9 during a recorded call: after the restart the recording plays up to the last second written', async () => {
  const dir = tempDir('crash-rec-');
  const args = ['--site', writeApiSite(dir), '--domain', '127.0.0.1'];
  const r = await start(args, path.join(dir, 'data'), { RELAIS_RECORD_CALLS: 'all' });
  const reg = (n: string) => ({ user: n, password: `secret-${n}`, registrar: `127.0.0.1:${r.sipPort}`, regint: 600 });
  const desk = await BaresipPhone.start({ name: 'crash-rec-desk', account: reg('202'), audioFile: makeToneWav(path.join(dir, 'desk.wav'), 1000, 60) });
  const alice = await BaresipPhone.start({ name: 'crash-rec-alice', account: reg('201'), audioFile: makeToneWav(path.join(dir, 'alice.wav'), 440, 60) });
  phones.push(desk, alice);
  await Promise.all([desk.registered(), alice.registered()]);
  await desk.dial('201');
  await alice.acceptIncoming();
  await Promise.all([desk.established(), alice.established()]);
  const recording = (): string | undefined => queryDb<{ recording: string | null }>(r.dataDir, "SELECT recording FROM calls WHERE caller = '202'")[0]?.recording ?? undefined;
  // Two seconds of the stereo recording on disk (two channels of 16-bit samples at 8 kHz: 32 000 bytes a second).
  await until(() => {
    const rel = recording();
    return rel !== undefined && fs.existsSync(path.join(r.dataDir, rel)) && fs.statSync(path.join(r.dataDir, rel)).size >= 44 + 2 * 32_000;
  }, '2 s of the recording written', 30_000);
  const relais = await restart(r, args);
  await Promise.all([desk.closed(20_000), alice.closed(20_000)]);

  const [c] = queryDb<{ id: string; cause: string }>(relais.dataDir, "SELECT id, cause FROM calls WHERE caller = '202'");
  assert.equal(c!.cause, 'restart');
  const res = await fetch(`${relais.url}/api/calls/${c!.id}/recording`, { headers: { authorization: basic(ADMIN) } });
  assert.equal(res.status, 200);
  const file = path.join(dir, 'recording.wav');
  fs.writeFileSync(file, Buffer.from(await res.arrayBuffer()));
  const info = parseWav(fs.readFileSync(file));
  assert.equal(info.channels, 2);
  assert.equal(info.dataLength, fs.statSync(file).size - 44, 'the header gives the length on disk');
  assert.ok(info.durationMs >= 2000, `${info.durationMs} ms`);
});
