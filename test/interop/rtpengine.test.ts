// rtpengine backend against a real rtpengine with real RTP on loopback: SDP, relay, playback, DTMF, hold, recording, cleanup.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { MediaError, type PlayResult } from '../../services/media/index.js';
import { RtpengineEngine, type RtpengineEndpoint } from '../../services/media/rtpengine/index.js';
import { PromptLibrary, parseWav } from '../../services/media/sounds/index.js';
import { readPcm16Mono } from '../../services/media/sounds/index.js';
import { tempDir } from '../helpers/relais-process.js';
import { RtpPeer, encode, sine, toneShare, decode, sendTone } from '../unit/media/rtp-peer.js';
import { startRtpengine, type RtpengineDaemon } from './rtpengine-daemon.js';

let daemon: RtpengineDaemon;
let engine: RtpengineEngine;
const cleanups: (() => unknown)[] = [];
const prompts = new PromptLibrary();

before(async () => {
  daemon = await startRtpengine();
  engine = new RtpengineEngine({ ng: daemon.ng, dtmfListen: daemon.dtmf, recordingDir: daemon.recordingDir, rtpTimeoutMs: 0, injectDtmf: true });
  await engine.start();
});

after(async () => {
  for (const c of cleanups.reverse()) await c();
  await engine?.stop();
  await daemon?.stop();
});

async function peer(): Promise<RtpPeer> {
  const p = await RtpPeer.open();
  cleanups.push(() => p.close());
  return p;
}

/** Share of received audio packets that each carry `freq` (robust to reordering and a concealed packet or two). */
function packetsWithTone(p: RtpPeer, freq: number, law: 'u' | 'a' = 'u'): { share: number; detail: string } {
  const pt = law === 'u' ? 0 : 8;
  const pkts = p.received.filter((r) => r.pkt.payloadType === pt);
  const shares = pkts.map((r) => toneShare(decode(Buffer.from(r.pkt.payload), law), freq));
  const good = shares.filter((x) => x > 0.7).length;
  const detail = pkts.map((r, i) => `${r.pkt.sequenceNumber}:${shares[i]!.toFixed(2)}`).join(' ');
  return { share: pkts.length ? good / pkts.length : 0, detail };
}

function audioFrom(p: RtpPeer, pt = 0): number[] {
  return p.received.filter((r) => r.pkt.payloadType === pt).flatMap((r) => [...decode(Buffer.from(r.pkt.payload), 'u')]);
}

async function pair(): Promise<{ pa: RtpPeer; pb: RtpPeer; a: RtpengineEndpoint; b: RtpengineEndpoint }> {
  const pa = await peer();
  const pb = await peer();
  // A calls in (its offer, we answer); B is called out (our offer, its answer).
  const a = await engine.openEndpoint({ callId: 'call-1', remoteSdp: pa.sdp({ pts: [0, 8], te: 101 }) });
  const b = await engine.openEndpoint({ callId: 'call-1' });
  await b.setRemoteSdp(pb.sdp({ pts: [0], te: 101 }));
  cleanups.push(() => a.close(), () => b.close());
  return { pa, pb, a, b };
}

test('a start against a dead rtpengine fails with a clear error', async () => {
  const dead = new RtpengineEngine({ ng: { host: '127.0.0.1', port: daemon.dtmf.port }, dtmfListen: false, ngTimeoutMs: 300 });
  await assert.rejects(dead.start(), (e: unknown) => e instanceof MediaError && /rtpengine at 127\.0\.0\.1:\d+ does not answer/.test(e.message));
});

test('offer/answer: SDP rewritten to rtpengine ports in its range, codec negotiated', async () => {
  const pa = await peer();
  const a = await engine.openEndpoint({ callId: 'sdp', remoteSdp: pa.sdp({ pts: [8, 0], te: 101 }) });
  cleanups.push(() => a.close());
  assert.equal(a.local.address, '127.0.0.1');
  assert.ok(a.local.port >= daemon.rtp.min && a.local.port <= daemon.rtp.max, `port ${a.local.port} in ${daemon.rtp.min}-${daemon.rtp.max}`);
  assert.notEqual(a.local.port, pa.port);
  assert.match(a.localSdp, /m=audio \d+ RTP\/AVP 8 0 101\r\n/);
  assert.equal(a.codec, 'PCMA');
  const o = await engine.openEndpoint({ callId: 'sdp' });
  cleanups.push(() => o.close());
  assert.match(o.localSdp, /m=audio \d+ RTP\/AVP 0 8 101\r\n/, 'our offer lists our codecs and telephone-event');
  await assert.rejects(engine.openEndpoint({ callId: 'bad', remoteSdp: pa.sdp({ pts: [18] }) }), (e: unknown) => e instanceof MediaError && e.code === 'media.codec_mismatch');
  await assert.rejects(engine.openEndpoint({ callId: 'bad', remoteSdp: 'v=0\r\n' }), (e: unknown) => e instanceof MediaError && e.code === 'media.sdp_invalid');
});

test('bridge relays RTP both ways; unbridge stops it; the phone-facing port never changes', async () => {
  const { pa, pb, a, b } = await pair();
  const portA = a.local.port;
  const portB = b.local.port;
  await a.bridge(b);
  await Promise.all([sendTone(pa, a.local.port, 440, 25), sendTone(pb, b.local.port, 1000, 25)]);
  await pb.waitFor(() => pb.received.length >= 23, 'A→B audio');
  await pa.waitFor(() => pa.received.length >= 23, 'B→A audio');
  const atB = packetsWithTone(pb, 440);
  const atA = packetsWithTone(pa, 1000);
  assert.ok(atB.share > 0.8, `B hears A's 440 Hz (packet seq:share ${atB.detail})`);
  assert.ok(atA.share > 0.8, `A hears B's 1 kHz (packet seq:share ${atA.detail})`);
  assert.equal(a.local.port, portA);
  assert.equal(b.local.port, portB);
  assert.ok(pa.received.every((r) => r.from.port === portA), 'A receives from the port it sends to (symmetric RTP)');

  await a.unbridge();
  const before = pb.received.length;
  await sendTone(pa, a.local.port, 440, 10);
  // A's packets now go to the sink: after A has sent 10 more, B got at most the few that were in flight.
  await new Promise((r) => setImmediate(r));
  assert.ok(pb.received.length - before <= 2, `B received ${pb.received.length - before} packets after unbridge`);

  // Re-bridge the other way round works too.
  await b.bridge(a);
  const n = pb.received.length;
  await sendTone(pa, a.local.port, 440, 10);
  await pb.waitFor(() => pb.received.length >= n + 8, 'A→B after re-bridge');
});

test('play media is heard by that endpoint\'s phone only, for the file\'s duration, then resolves done', async () => {
  const { pa, pb, a, b } = await pair();
  await a.bridge(b);
  const file = prompts.path('en', 'please-hold');
  const ms = parseWav(fs.readFileSync(file)).durationMs;
  const done = a.waitFor('playDone', 20_000);
  const t0 = performance.now();
  const result = await a.play([{ file }]);
  const elapsed = performance.now() - t0;
  assert.equal(result, 'done');
  assert.deepEqual(await done, ['done']);
  assert.ok(Math.abs(elapsed - ms) < 300, `play took ${Math.round(elapsed)} ms for a ${ms} ms prompt`);
  const got = pa.received.filter((r) => r.pkt.payloadType === 0);
  assert.ok(Math.abs(got.length * 20 - ms) < 0.1 * ms + 60, `A received ${got.length} packets (${got.length * 20} ms) for a ${ms} ms prompt`);
  // Paced in real time: the packets span about the prompt's duration.
  const span = got[got.length - 1]!.at - got[0]!.at;
  assert.ok(span > ms * 0.85, `packets spread over ${Math.round(span)} ms`);
  assert.equal(pb.received.length, 0, 'the other party hears nothing of it');
});

test('play sequence with tone and silence, stopPlay → stopped, a new play replaces the old one', async () => {
  const pa = await peer();
  const a = await engine.openEndpoint({ callId: 'seq', remoteSdp: pa.sdp({ pts: [0], te: 101 }) });
  cleanups.push(() => a.close());
  const r = await a.play([{ tone: 'beep' }, { silenceMs: 100 }, { tone: 'busy', country: 'FR', durationMs: 300 }]);
  assert.equal(r, 'done');
  const audio = audioFrom(pa);
  assert.ok(toneShare(audio.slice(0, 1600), 1000) > 0.5, 'the beep (1 kHz) comes first');
  assert.ok(toneShare(audio.slice(-2000), 440) > 0.5, 'the FR busy tone (440 Hz) comes last');

  const first = a.play([{ tone: 'ringback', country: 'US' }], { loop: true });
  await pa.waitFor(() => pa.received.length > audio.length / 160 + 5, 'ringback');
  const second = a.play([{ tone: 'beep' }]);
  assert.equal(await first, 'stopped');
  assert.equal(await second, 'done');
  const third = a.play([{ tone: 'dial', country: 'UK' }]);
  a.stopPlay();
  assert.equal(await third, 'stopped');
  // Music on hold: a looped sound goes on past its end until stopped.
  const moh = prompts.path('en', 'number-1');
  const mohMs = parseWav(fs.readFileSync(moh)).durationMs;
  const n0 = pa.received.length;
  const looping = a.play([{ file: moh }], { loop: true });
  await pa.waitFor(() => (pa.received.length - n0) * 20 > mohMs * 1.6, 'the loop going round', 10_000);
  a.stopPlay();
  assert.equal(await looping, 'stopped');
  // A missing file is an error event, not a crash; the sequence goes on.
  const err = a.waitFor('error', 5000);
  assert.equal(await a.play([{ file: '/nonexistent/x.wav' }]), 'done');
  assert.match((await err)[0].message, /cannot play "\/nonexistent\/x.wav"/);
  // A file rtpengine cannot decode: an error event, and the next item still plays.
  const junk = path.join(tempDir('rtpe-junk-'), 'junk.wav');
  fs.writeFileSync(junk, 'not audio at all');
  const errors: string[] = [];
  a.on('error', (e) => errors.push(e.message));
  const before = pa.received.length;
  assert.equal(await a.play([{ file: junk }, { tone: 'beep' }]), 'done');
  assert.equal(errors.length, 1, errors.join('; '));
  assert.ok(pa.received.length - before >= 10, 'the beep after it was played');
});

test('RFC 4733 DTMF from the phone is reported once per key press and interrupts an interruptible play', async () => {
  const pa = await peer();
  const a = await engine.openEndpoint({ callId: 'dtmf', remoteSdp: pa.sdp({ pts: [0], te: 101 }) });
  cleanups.push(() => a.close());
  const digits: string[] = [];
  const methods: string[] = [];
  a.on('dtmf', (d, info) => {
    digits.push(d);
    methods.push(info.method);
  });
  const playing = a.play([{ file: prompts.path('fr', 'voicemail-menu') }], { interruptOnDtmf: true });
  await pa.waitFor(() => pa.received.length > 5, 'the prompt starts');
  // Digit 5: events with growing duration, then three end packets (RFC 4733 §2.5.1.4).
  const ts = 800_000;
  for (let i = 0; i < 6; i++) {
    const end = i >= 3;
    const ev = Buffer.from([5, (end ? 0x80 : 0) | 10, 0, 0]);
    ev.writeUInt16BE(Math.min(i + 1, 4) * 160, 2);
    pa.send(a.local.port, 101, ev, { marker: i === 0, ts });
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.equal(await playing, 'interrupted');
  await pa.waitFor(() => digits.length >= 1, 'digit reported');
  assert.deepEqual(digits, ['5']);
  // SIP INFO digits come through the same event.
  a.injectDtmf('#', 'info');
  assert.deepEqual(digits, ['5', '#']);
  assert.deepEqual(methods, ['rfc4733', 'info']);
});

test('sendDtmf: RFC 4733 events into the relayed stream when bridged, in-band tones on a lone leg', async () => {
  const { pa, pb, a, b } = await pair();
  await a.bridge(b);
  // rtpengine injects events into the stream it relays toward the phone: B talks meanwhile.
  const talking = sendTone(pb, b.local.port, 1000, 60);
  await pa.waitFor(() => pa.received.length > 3, 'B→A audio');
  await a.sendDtmf('19');
  await talking;
  const events = new Set(pa.received.filter((r) => r.pkt.payloadType === 101).map((r) => r.pkt.payload[0]));
  assert.deepEqual([...events].sort(), [1, 9]);

  const pc = await peer();
  const c = await engine.openEndpoint({ callId: 'send', remoteSdp: pc.sdp({ pts: [0], te: 101 }) });
  cleanups.push(() => c.close());
  await c.sendDtmf('1');
  const audio = audioFrom(pc);
  assert.ok(audio.length >= 800, `received ${audio.length} samples of tones`);
  const tone = audio.slice(0, 800);
  assert.ok(toneShare(tone, 697) > 0.3 && toneShare(tone, 1209) > 0.3, 'digit 1 = 697 Hz + 1209 Hz in-band');
  await assert.rejects(c.sendDtmf('x'), /"x" is not a DTMF digit/i);
});

test('sendDtmf without inject-DTMF (the default) plays in-band tones', async () => {
  const e4 = new RtpengineEngine({ ng: daemon.ng, dtmfListen: false, rtpTimeoutMs: 0 });
  await e4.start();
  cleanups.push(() => e4.stop());
  const pa = await peer();
  const a = await e4.openEndpoint({ callId: 'inband', remoteSdp: pa.sdp({ pts: [0], te: 101 }) });
  await a.sendDtmf('#');
  const audio = audioFrom(pa);
  assert.ok(toneShare(audio.slice(0, 800), 941) > 0.3 && toneShare(audio.slice(0, 800), 1477) > 0.3, '# = 941 Hz + 1477 Hz');
  assert.equal(pa.received.filter((r) => r.pkt.payloadType === 101).length, 0);
});

test('hold: our re-offer is sendonly, resume is sendrecv; the port stays', async () => {
  const { pa, a } = await pair();
  const port = a.local.port;
  const held = await a.hold(true);
  assert.match(held, /a=sendonly/);
  await a.setRemoteSdp(pa.sdp({ pts: [0], te: 101, direction: 'recvonly' }));
  const resumed = await a.hold(false);
  assert.match(resumed, /a=sendrecv/);
  await a.setRemoteSdp(pa.sdp({ pts: [0], te: 101 }));
  assert.equal(a.local.port, port);
});

test('record both directions in stereo: pcap from rtpengine becomes a WAV with each party on its channel', async () => {
  const { pa, pb, a, b } = await pair();
  await a.bridge(b);
  const file = path.join(tempDir('rtpe-rec-'), 'call.wav');
  a.record(file, { direction: 'both', stereo: true });
  await Promise.all([sendTone(pa, a.local.port, 440, 40), sendTone(pb, b.local.port, 1000, 40)]);
  await pa.waitFor(() => pa.received.length >= 38, 'B→A audio');
  await a.stopRecord();
  const wav = fs.readFileSync(file);
  const info = parseWav(wav);
  assert.deepEqual([info.channels, info.sampleRate, info.bitsPerSample], [2, 8000, 16]);
  assert.ok(info.durationMs > 600 && info.durationMs < 1400, `recorded ${info.durationMs} ms`);
  const left: number[] = [];
  const right: number[] = [];
  for (let i = 0; i < info.frames; i++) {
    left.push(wav.readInt16LE(info.dataOffset + i * 4));
    right.push(wav.readInt16LE(info.dataOffset + i * 4 + 2));
  }
  assert.ok(toneShare(left.slice(800, 4000), 440) > 0.8, 'left = what A said (440 Hz)');
  assert.ok(toneShare(right.slice(800, 4000), 1000) > 0.8, 'right = what A heard (1 kHz)');
  assert.deepEqual(fs.readdirSync(path.join(daemon.recordingDir, 'pcaps')).filter((n) => n.startsWith(a.rtpeCallId)), [], 'the pcap is removed once converted');

  const monoFile = path.join(path.dirname(file), 'in.wav');
  b.record(monoFile, { direction: 'in' });
  await sendTone(pb, b.local.port, 1000, 20);
  await b.stopRecord();
  const mono = readPcm16Mono(fs.readFileSync(monoFile));
  assert.ok(toneShare(mono.samples.slice(400, 2400), 1000) > 0.8);
});

test('a one-direction recording grows while recording (voicemail watches it for silence)', async () => {
  const pa = await peer();
  const a = await engine.openEndpoint({ callId: 'vm', remoteSdp: pa.sdp({ pts: [8] }) });
  cleanups.push(() => a.close());
  const file = path.join(tempDir('rtpe-vm-'), 'vm.wav');
  a.record(file, { direction: 'in' });
  const size = (): number => (fs.existsSync(file) ? fs.statSync(file).size : 0);
  let i = 0;
  // Speak (A-law 440 Hz) until at least half a second is in the file, bounded at 5 s of packets.
  while (size() < 44 + 8000 && i < 250) {
    pa.send(a.local.port, 8, encode(sine(440, 160, 8000, i * 160), 'a'));
    i++;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.ok(size() >= 44 + 8000, `the WAV grew to ${size()} bytes while recording`);
  const live = fs.readFileSync(file).subarray(44);
  const samples = Array.from({ length: live.length >> 1 }, (_, k) => live.readInt16LE(k * 2));
  assert.ok(toneShare(samples.slice(0, 4000), 440) > 0.8, 'live samples are the caller\'s audio');
  await a.stopRecord();
  const final = readPcm16Mono(fs.readFileSync(file));
  assert.ok(Math.abs(final.samples.length - i * 160) <= 480, `final ${final.samples.length} samples for ${i} packets`);
});

test('rtpTimeout fires when the phone stops sending', async () => {
  const e2 = new RtpengineEngine({ ng: daemon.ng, dtmfListen: false, rtpTimeoutMs: 600, pollMs: 100 });
  await e2.start();
  cleanups.push(() => e2.stop());
  const pa = await peer();
  const a = await e2.openEndpoint({ callId: 'timeout', remoteSdp: pa.sdp({ pts: [0] }) });
  let fired = false;
  a.on('rtpTimeout', () => (fired = true));
  await sendTone(pa, a.local.port, 440, 20);
  assert.equal(fired, false, 'no timeout while RTP flows');
  const t0 = performance.now();
  await a.waitFor('rtpTimeout', 5000);
  assert.ok(performance.now() - t0 >= 400, 'not before the timeout');
  await a.close();

  // A phone that put us on hold (a=inactive) sends nothing on purpose: no timeout.
  const b = await e2.openEndpoint({ callId: 'held', remoteSdp: pa.sdp({ pts: [0] }) });
  let heldFired = false;
  b.on('rtpTimeout', () => (heldFired = true));
  await b.setRemoteSdp(pa.sdp({ pts: [0], direction: 'inactive' }));
  // Asserting that nothing happens takes time by nature: twice the timeout (12 polls).
  await new Promise((r) => setTimeout(r, 1200));
  assert.equal(heldFired, false, 'no timeout while held');
  await b.close();
});

test('close deletes the rtpengine call (idempotent) and the engine forgets it', async () => {
  const pa = await peer();
  const a = await engine.openEndpoint({ callId: 'close', remoteSdp: pa.sdp({ pts: [0] }) });
  const count = engine.endpointCount();
  const closed = a.waitFor('closed');
  const play: Promise<PlayResult> = a.play([{ file: prompts.path('es', 'welcome') }]);
  await a.close();
  await closed;
  await a.close();
  assert.equal(await play, 'stopped');
  assert.equal(engine.endpointCount(), count - 1);
  await assert.rejects(engine.ng.send('query', { 'call-id': a.rtpeCallId }), /Unknown call-id|refused/i);
  await assert.rejects(a.play([{ tone: 'beep' }]), /is closed/);
});

test('engine.stop closes every endpoint; rtpengine keeps no call of ours', async () => {
  const e3 = new RtpengineEngine({ ng: daemon.ng, dtmfListen: false, rtpTimeoutMs: 0 });
  await e3.start();
  const pa = await peer();
  const eps = await Promise.all([1, 2, 3].map((i) => e3.openEndpoint({ callId: `stop-${i}`, remoteSdp: pa.sdp({ pts: [0] }) })));
  await e3.stop();
  assert.equal(e3.endpointCount(), 0);
  for (const ep of eps) assert.equal(ep.closed, true);
  await assert.rejects(engine.ng.send('query', { 'call-id': eps[0]!.rtpeCallId }), /Unknown call-id|refused/i);
  assert.equal(e3.health().status, 'down');
});
