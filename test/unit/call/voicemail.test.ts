// Voicemail with fakes: deposit (prompt, beep, stop on silence, row + MWI), empty messages dropped, *97 PIN; pcm helpers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Store } from '../../../services/storage/index.js';
import { ExtensionRepository } from '../../../services/directory/index.js';
import { SystemClock, silentLogger } from '../../../services/shared/index.js';
import { Call, CallHistory, FeatureCodes, Leg, Voicemail, VoicemailRepository, pcmRms, soundMs } from '../../../services/call/index.js';
import type { PlayItem, RecordOptions } from '../../../services/media/index.js';
import { parseWav, wavHeader } from '../../../services/media/sounds/index.js';
import { FakeEndpoint, FakePresence, FakeReq, FakeRes, FakeSip, makeInvite } from './fakes.js';

/** SystemClock unrefs its timers (a server must not stay up for them); a test waits on them, so keep them ref'd. */
class RefClock extends SystemClock {
  private readonly keep = new Map<number, NodeJS.Timeout>();
  override setTimeout(fn: () => void, ms: number) {
    const h = super.setTimeout(() => {
      clearTimeout(this.keep.get(h.id));
      this.keep.delete(h.id);
      fn();
    }, ms);
    this.keep.set(h.id, setTimeout(() => undefined, ms + 1000));
    return h;
  }
  override clearTimeout(h: Parameters<SystemClock['clearTimeout']>[0]) {
    if (h) {
      clearTimeout(this.keep.get(h.id));
      this.keep.delete(h.id);
    }
    super.clearTimeout(h);
  }
}

function pcm(seconds: number, hz: number | undefined, amp = 0.5): Buffer {
  const n = Math.round(seconds * 8000);
  const b = Buffer.alloc(n * 2);
  for (let i = 0; i < n; i++) b.writeInt16LE(hz ? Math.round(amp * 32767 * Math.sin((2 * Math.PI * hz * i) / 8000)) : 0, i * 2);
  return b;
}

/** An endpoint whose recording is a WAV of `audio` written at once (as if the caller spoke then fell silent). */
class RecordingEndpoint extends FakeEndpoint {
  constructor(private readonly audio: Buffer) {
    super('call', 'v=0');
  }
  override record(file: string, opts: RecordOptions): void {
    super.record(file, opts);
    fs.writeFileSync(file, Buffer.concat([Buffer.alloc(44), this.audio]));
  }
}

function setup(): { store: Store; ext: ExtensionRepository; vm: Voicemail; presence: FakePresence; sip: FakeSip; dir: string; history: CallHistory } {
  const store = Store.open(':memory:');
  const ext = new ExtensionRepository(store.db, 'relais.test');
  ext.create({ number: '402', displayName: 'Bob', secret: 'secret-402', voicemailEnabled: true, voicemailPin: '1234' });
  const sip = new FakeSip();
  const presence = new FakePresence();
  const history = new CallHistory(store.db);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vm-unit-'));
  const vm = new Voicemail({
    sip,
    db: store.db,
    extensions: ext,
    history,
    clock: new RefClock(),
    logger: silentLogger,
    dataDir: dir,
    presence,
    prompts: { path: (_l, key) => `/prompts/${key}.wav`, sayNumber: (_l, n) => [`/prompts/number-${n}.wav`] },
    silenceMs: 500,
    maxLengthMs: 10_000,
  });
  return { store, ext, vm, presence, sip, dir, history };
}

function unanswered(t: ReturnType<typeof setup>, ep: FakeEndpoint) {
  const call = new Call('call-1', 'internal', { number: '401', displayName: 'Alice', isExtension: true }, { number: '402', displayName: 'Bob', isExtension: true }, Date.now());
  t.history.create({ id: call.id, direction: 'internal', caller: '401', callee: '402', startedAt: call.startedAt });
  const leg = new Leg('caller', call.caller);
  leg.endpoint = ep;
  call.legs.push(leg);
  return { call, req: new FakeReq(makeInvite('401', '402')), res: new FakeRes(), callerEndpoint: ep, target: t.ext.findByNumber('402')!, reason: 'no-answer' as const };
}

test('deposit: prompt + beep, records until silence, stores the row, MWI 1/0, thanks the caller', async () => {
  const t = setup();
  const ep = new RecordingEndpoint(Buffer.concat([pcm(0.6, 1000), pcm(1, undefined)]));
  const u = unanswered(t, ep);
  const stored: unknown[] = [];
  t.vm.onDeposited = (e) => stored.push(e);
  await t.vm.deposit(u);
  assert.equal(u.res.final, 200, 'caller answered');
  assert.deepEqual(ep.played[0], [{ file: '/prompts/leave-message-after-tone.wav' }, { tone: 'beep' }] as PlayItem[]);
  assert.deepEqual(ep.recording!.opts, { direction: 'in' });
  const [v] = t.vm.repo.list(t.ext.findByNumber('402')!.id);
  assert.ok(v);
  assert.equal(v.caller, '401');
  assert.equal(v.durationMs, 1600);
  assert.ok(fs.existsSync(path.join(t.dir, v.file)));
  assert.deepEqual(t.presence.mailboxes.at(-1), { ext: '402', newMessages: 1, oldMessages: 0 });
  assert.equal(stored.length, 1);
  assert.deepEqual(ep.played[1], [{ file: '/prompts/message-recorded.wav' }, { file: '/prompts/goodbye.wav' }]);
  t.store.close();
});

test('deposit: a caller whose BYE came with its ACK (dialog ended before the answer returned) hears nothing and is not recorded', async () => {
  const t = setup();
  t.sip.byeWithAck = true; // handled by the stack before the deposit could listen for it
  const ep = new RecordingEndpoint(pcm(1, 1000));
  const u = unanswered(t, ep);
  await t.vm.deposit(u);
  assert.equal(u.res.final, 200, 'caller answered');
  assert.deepEqual(ep.played, [], 'no greeting played to nobody');
  assert.equal(ep.recording, undefined, 'nothing recorded');
  assert.deepEqual(t.vm.repo.list(t.ext.findByNumber('402')!.id), []);
  t.store.close();
});

test('deposit: a silent message is dropped (no row, no MWI change)', async () => {
  const t = setup();
  const ep = new RecordingEndpoint(pcm(1, undefined));
  await t.vm.deposit(unanswered(t, ep));
  assert.equal(t.vm.repo.list(t.ext.findByNumber('402')!.id).length, 0);
  assert.equal(t.presence.mailboxes.length, 0);
  t.store.close();
});

test('*97: right PIN plays the new messages in order and marks them old; MWI follows', async () => {
  const t = setup();
  const bob = t.ext.findByNumber('402')!;
  const repo = new VoicemailRepository(t.store.db);
  repo.add({ extensionId: bob.id, callId: null, caller: '401', file: 'voicemail/402/a.wav', durationMs: 1000, createdAt: 1 });
  repo.add({ extensionId: bob.id, callId: null, caller: '403', file: 'voicemail/402/b.wav', durationMs: 1000, createdAt: 2 });
  const ep = new FakeEndpoint('c', 'v=0');
  // The phone keys 1234# as soon as the PIN prompt starts.
  const origPlay = ep.play.bind(ep);
  ep.play = async (items: PlayItem[]) => {
    const r = await origPlay(items);
    if (items.some((i) => 'file' in i && i.file.endsWith('enter-pin.wav'))) for (const d of '1234#') ep.emit('dtmf', d, { method: 'rfc4733' });
    return r;
  };
  const call = new Call('c2', 'internal', { number: '402', displayName: 'Bob', isExtension: true }, { number: '*97', displayName: '*97', isExtension: false }, Date.now());
  t.history.create({ id: call.id, direction: 'internal', caller: '402', callee: '*97', startedAt: call.startedAt });
  const leg = new Leg('caller', call.caller);
  call.legs.push(leg);
  // *97 reaches voicemail through the feature-code registry.
  const codes = new FeatureCodes();
  t.vm.registerCodes(codes);
  const found = codes.match('*97');
  assert.ok(found);
  await found.handler({ call, req: new FakeReq(makeInvite('402', '*97')), res: new FakeRes(), callerEndpoint: ep, caller: bob, code: '*97', digits: '' });
  const files = ep.played.flat().filter((i): i is { file: string } => 'file' in i).map((i) => path.basename(i.file));
  assert.deepEqual(files.slice(0, 4), ['enter-pin.wav', 'you-have.wav', 'number-2.wav', 'new-messages.wav']);
  assert.ok(files.indexOf('a.wav') < files.indexOf('b.wav'), 'oldest first');
  assert.deepEqual(repo.counts(bob.id), { newMessages: 0, oldMessages: 2 });
  assert.deepEqual(t.presence.mailboxes.at(-1), { ext: '402', newMessages: 0, oldMessages: 2 });
  assert.equal(codes.match('*98'), undefined);
  t.store.close();
});

test('pcm helpers', () => {
  assert.ok(Math.abs(pcmRms(pcm(0.1, 1000)) - 0.5 / Math.SQRT2) < 0.01);
  assert.equal(soundMs(pcm(1, undefined), 0.01), 0);
  assert.equal(soundMs(Buffer.concat([pcm(0.4, 440), pcm(0.6, undefined)]), 0.01), 400);
});

test('messages a crash cut short are filed at the next start: header set to the samples on disk, silent ones dropped, others left alone', () => {
  const t = setup();
  const deposited: string[] = [];
  t.vm.onDeposited = (e) => deposited.push(`${e.extension}/${e.id}/${e.durationMs}`);
  t.store.db.prepare("INSERT INTO numbers (did) VALUES ('0800123456')").run();
  const wav = (box: string, call: string, audio: Buffer): string => {
    const file = path.join(t.dir, 'voicemail', box, `${call}.wav`);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    // As the recorder leaves it when the process dies: the header written at the start, with a data length of 0.
    fs.writeFileSync(file, Buffer.concat([wavHeader({ sampleRate: 8000, channels: 1, bitsPerSample: 16, dataLength: 0 }), audio]));
    return file;
  };
  for (const id of ['cut-1', 'cut-2', 'cut-3', 'cut-4', 'cut-5', 'cut-6']) t.history.create({ id, direction: 'inbound', caller: '0611223344', callee: '402', startedAt: Date.now() - 10_000 });
  const spoken = wav('402', 'cut-1', Buffer.concat([pcm(2, 440), Buffer.from([7])])); // and half a sample at the end
  const silent = wav('402', 'cut-2', pcm(1, undefined));
  const notInterrupted = wav('402', 'cut-3', pcm(1, 440));
  const noMailbox = wav('999', 'cut-4', pcm(1, 440));
  const alreadyFiled = wav('402', 'cut-5', pcm(1, 440));
  t.vm.repo.add({ extensionId: t.ext.findByNumber('402')!.id, callId: 'cut-5', caller: '0611223344', file: path.join('voicemail', '402', 'cut-5.wav'), durationMs: 1000, createdAt: Date.now() });
  const toNumber = wav('0800123456', 'cut-6', pcm(1.5, 1000));

  assert.equal(t.vm.recoverInterrupted(['cut-1', 'cut-2', 'cut-4', 'cut-5', 'cut-6', 'never-recorded']), 2);
  t.history.flush();

  const box = t.vm.repo.list(t.ext.findByNumber('402')!.id);
  const cut1 = box.find((v) => v.callId === 'cut-1')!;
  assert.equal(cut1.durationMs, 2000);
  assert.equal(cut1.caller, '0611223344');
  assert.equal(cut1.isNew, true);
  const info = parseWav(fs.readFileSync(spoken));
  assert.equal(info.dataLength, 32_000, 'the header says what is on disk, in whole samples');
  assert.equal(fs.statSync(spoken).size, 44 + 32_000);
  assert.equal(box.filter((v) => v.callId === 'cut-5').length, 1, 'a message filed before is not filed twice');
  const numberBox = t.vm.repo.listByNumber((t.store.db.prepare("SELECT id FROM numbers WHERE did = '0800123456'").get() as { id: number }).id);
  assert.deepEqual(numberBox.map((v) => [v.callId, v.durationMs]), [['cut-6', 1500]]);
  assert.ok(fs.existsSync(toNumber));
  assert.equal(fs.existsSync(silent), false, 'a message without sound is dropped, as at the end of any deposit');
  assert.equal(parseWav(fs.readFileSync(notInterrupted)).dataLength, 0, 'a call this start did not end is not touched');
  assert.ok(fs.existsSync(noMailbox), 'nowhere to file it: the file is kept');
  assert.deepEqual(deposited.sort(), [`0800123456/${numberBox[0]!.id}/1500`, `402/${cut1.id}/2000`].sort(), 'e-mail notification as for any message');
  const events = t.store.db.prepare("SELECT call_id, type, data FROM call_events WHERE type LIKE 'voicemail.%' ORDER BY id").all() as { call_id: string; type: string; data: string }[];
  assert.deepEqual(
    events.map((e) => [e.call_id, e.type, (JSON.parse(e.data) as { end?: string; interrupted?: boolean }).end ?? (JSON.parse(e.data) as { interrupted?: boolean }).interrupted]),
    [
      ['cut-1', 'voicemail.stored', 'interrupted'],
      ['cut-2', 'voicemail.empty', true],
      ['cut-6', 'voicemail.stored', 'interrupted'],
    ],
  );
});
