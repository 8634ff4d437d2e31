// Built-in media engine with real RTP on loopback: relay, rewriting, latching, transcoding, DTMF, players, timeout, recorder errors.
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { BuiltinMediaEngine, MediaError, type MediaEndpoint } from '../../../services/media/index.js';
import { DtmfDetector } from '../../../services/media/worker/dtmf-detector.js';
import { RtcpSenderReport } from '../../../services/media/worker/rtcp-sender-report.js';
import { writeWav } from '../../../services/media/sounds/index.js';
import { rtpRange } from '../../helpers/ports.js';
import { tempDir } from '../../helpers/relais-process.js';
import { DTMF_2833_1 } from './fixtures.js';
import { RtpPeer, decode, encode, sine, toneShare } from './rtp-peer.js';

/** builtin-engine-js-relay.test.ts runs this whole file again with the fast path off (the worker relays every packet). */
const FAST_PATH = process.env.RELAIS_TEST_MEDIA_FAST_PATH !== 'off';
let engine: BuiltinMediaEngine;
const range = rtpRange(200);
const cleanups: (() => unknown)[] = [];

before(async () => {
  engine = new BuiltinMediaEngine({ bind: '127.0.0.1', rtpPortMin: range.min, rtpPortMax: range.max, rtpTimeoutMs: 0, fastPath: FAST_PATH });
  await engine.start();
});
after(async () => {
  for (const c of cleanups) await c();
  await engine.stop();
});

async function peer(): Promise<RtpPeer> {
  const p = await RtpPeer.open();
  cleanups.push(() => p.close());
  return p;
}

async function bridged(aOpts: { pts?: number[]; te?: number } = {}, bOpts: { pts?: number[]; te?: number } = {}) {
  const pa = await peer();
  const pb = await peer();
  const a = await engine.openEndpoint({ callId: 'call', remoteSdp: pa.sdp(aOpts) });
  const b = await engine.openEndpoint({ callId: 'call', remoteSdp: pb.sdp(bOpts) });
  cleanups.push(() => a.close(), () => b.close());
  await a.bridge(b);
  return { pa, pb, a, b };
}

const silenceU = Buffer.alloc(160, 0xff);

test('ports come from the range: even RTP port, SDP answers the offer', async () => {
  const pa = await peer();
  const a = await engine.openEndpoint({ callId: 'x', remoteSdp: pa.sdp({ pts: [8, 0], te: 96 }) });
  cleanups.push(() => a.close());
  assert.equal(a.local.port % 2, 0);
  assert.ok(a.local.port >= range.min && a.local.port + 1 <= range.max);
  assert.equal(a.codec, 'PCMA');
  assert.match(a.localSdp, new RegExp(`m=audio ${a.local.port} RTP/AVP 8 96\r\n`));
  assert.match(a.localSdp, /a=sendrecv/);
  const offerer = await engine.openEndpoint({ callId: 'y' });
  cleanups.push(() => offerer.close());
  assert.match(offerer.localSdp, /RTP\/AVP 0 8 101/);
  await assert.rejects(engine.openEndpoint({ callId: 'z', remoteSdp: pa.sdp({ pts: [18] }) }), (e: Error) => e instanceof MediaError && e.code === 'media.codec_mismatch');
});

test('relays both ways; SSRC, sequence and timestamp stay continuous across a source switch', async () => {
  const { pa, pb, a, b } = await bridged();
  for (let i = 0; i < 10; i++) pa.send(a.local.port, 0, silenceU);
  await pb.waitFor(() => pb.received.length >= 10, '10 packets at B');
  // The source changes (transfer, new phone): new SSRC, unrelated sequence and timestamp.
  pa.ssrc = 0x0badf00d;
  pa.seq = 60000;
  pa.ts = 4_000_000_000;
  for (let i = 0; i < 10; i++) pa.send(a.local.port, 0, silenceU);
  await pb.waitFor(() => pb.received.length >= 20, '20 packets at B');
  const got = pb.received.map((r) => r.pkt);
  assert.equal(new Set(got.map((p) => p.ssrc)).size, 1, 'one SSRC towards B');
  for (let i = 1; i < got.length; i++) {
    assert.equal(got[i]!.sequenceNumber, (got[i - 1]!.sequenceNumber + 1) & 0xffff, `seq continuous at ${i}`);
    const dts = (got[i]!.timestamp - got[i - 1]!.timestamp) >>> 0;
    assert.ok(dts >= 160 && dts % 160 === 0 && dts < 160 * 50, `timestamp advances by whole packets at ${i}: ${dts}`);
  }
  assert.equal(got[10]!.marker, true, 'marker on the first packet of the new source');
  assert.equal(got[11]!.marker, false);
  assert.ok(got.every((p) => p.payloadType === 0 && p.payload.equals(silenceU)));
  // And back: B's packets reach A.
  pb.send(b.local.port, 0, silenceU);
  await pa.waitFor(() => pa.received.length >= 1, 'packet at A');
});

test('symmetric RTP: replies go where the packets come from, not to the SDP address', async () => {
  const pa = await peer();
  const natted = await peer(); // the phone's real source port, unknown to its SDP
  const pb = await peer();
  const a = await engine.openEndpoint({ callId: 'nat', remoteSdp: pa.sdp() });
  const b = await engine.openEndpoint({ callId: 'nat', remoteSdp: pb.sdp() });
  cleanups.push(() => a.close(), () => b.close());
  await a.bridge(b);
  natted.send(a.local.port, 0, silenceU);
  await pb.waitFor(() => pb.received.length >= 1, 'packet at B');
  pb.send(b.local.port, 0, silenceU);
  await natted.waitFor(() => natted.received.length >= 1, 'reply at the latched source');
  assert.equal(pa.received.length, 0);
});

test('PCMU to PCMA transcoding keeps a 1 kHz tone a 1 kHz tone', async () => {
  const { pa, pb, a } = await bridged({ pts: [0] }, { pts: [8] });
  for (let k = 0; k < 10; k++) pa.send(a.local.port, 0, encode(sine(1000, 160, 8000, k * 160), 'u'));
  await pb.waitFor(() => pb.received.length >= 10, '10 packets at B');
  assert.ok(pb.received.every((r) => r.pkt.payloadType === 8));
  const pcm = Int16Array.from(pb.received.flatMap((r) => [...decode(r.pkt.payload, 'a')]));
  assert.ok(toneShare(pcm, 1000) > 0.95, `1 kHz share ${toneShare(pcm, 1000)}`);
  assert.ok(toneShare(pcm, 700) < 0.01);
});

test('RFC 4733: the captured digit is reported once (retransmitted ends ignored) and relayed', async () => {
  const { pa, pb, a } = await bridged({ te: 101 }, { te: 100 });
  const digits: string[] = [];
  a.on('dtmf', (d, info) => digits.push(`${d}/${info.method}`));
  for (const h of DTMF_2833_1) pa.sendRaw(a.local.port, Buffer.from(h, 'hex'));
  await pb.waitFor(() => pb.received.length >= 10, 'relayed events at B');
  assert.deepEqual(digits, ['1/rfc4733']);
  assert.ok(pb.received.every((r) => r.pkt.payloadType === 100), 'telephone-event PT mapped to B’s');
});

test('in-band DTMF is detected on a leg without telephone-event', async () => {
  const { pa, a } = await bridged({ pts: [0] }, { pts: [0] });
  const got: string[] = [];
  a.on('dtmf', (d, info) => got.push(`${d}/${info.method}`));
  const sig: number[] = [];
  for (const [r, c] of [[697, 1209], [941, 1477]] as const) {
    for (let i = 0; i < 800; i++) sig.push(6000 * Math.sin((2 * Math.PI * r * i) / 8000) + 6000 * Math.sin((2 * Math.PI * c * i) / 8000));
    for (let i = 0; i < 480; i++) sig.push(0);
  }
  for (let k = 0; k + 160 <= sig.length; k += 160) pa.send(a.local.port, 0, encode(sig.slice(k, k + 160), 'u'));
  await a.waitFor('dtmf');
  await pa.waitFor(() => got.length >= 2, 'two digits');
  assert.deepEqual(got, ['1/inband', '#/inband']);
});

test('comfort noise and unknown payload types are dropped, not relayed', async () => {
  const { pa, pb, a } = await bridged();
  pa.send(a.local.port, 13, Buffer.from([40]));
  pa.send(a.local.port, 18, Buffer.alloc(20));
  pa.sendRaw(a.local.port, Buffer.from('garbage'));
  pa.send(a.local.port, 0, silenceU);
  await pb.waitFor(() => pb.received.length >= 1, 'the audio packet');
  const st = await engine.stats();
  assert.ok(st.dropped >= 3);
  assert.equal(pb.received.length, 1);
});

test('tone player: 20 ms pacing, sample-exact duration, the country’s frequencies', async () => {
  const pa = await peer();
  const a = await engine.openEndpoint({ callId: 'tone', remoteSdp: pa.sdp() });
  cleanups.push(() => a.close());
  const done = a.waitFor('playDone');
  const result = await a.play([{ tone: 'busy', country: 'US', durationMs: 1000 }]);
  assert.equal(result, 'done');
  assert.deepEqual(await done, ['done']);
  await pa.waitFor(() => pa.received.length >= 50, '50 packets');
  const r = pa.received;
  assert.equal(r.length, 50, '1000 ms = 50 packets of 20 ms');
  assert.ok(r.every((x) => x.pkt.payload.length === 160));
  for (let i = 1; i < r.length; i++) {
    assert.equal(r[i]!.pkt.sequenceNumber, (r[i - 1]!.pkt.sequenceNumber + 1) & 0xffff);
    assert.equal((r[i]!.pkt.timestamp - r[i - 1]!.pkt.timestamp) >>> 0, 160);
  }
  const span = r[r.length - 1]!.at - r[0]!.at;
  assert.ok(Math.abs(span - 980) < 50, `49 intervals of 20 ms took ${span.toFixed(1)} ms`);
  const gaps = r.slice(1).map((x, i) => x.at - r[i]!.at);
  assert.ok(Math.max(...gaps) < 60, `largest gap ${Math.max(...gaps).toFixed(1)} ms`);
  const on = Int16Array.from(r.slice(0, 25).flatMap((x) => [...decode(x.pkt.payload, 'u')]));
  assert.ok(toneShare(on, 480) > 0.3 && toneShare(on, 620) > 0.3, 'US busy is 480 + 620 Hz');
  const off = r.slice(25).flatMap((x) => [...decode(x.pkt.payload, 'u')]);
  assert.ok(off.every((s) => Math.abs(s) < 16), 'then 500 ms of silence');
});

test('play: WAV files, sequences, loop stopped, interrupted by DTMF, bad files rejected', async () => {
  const dir = tempDir('media-play-');
  const wav = path.join(dir, 'a.wav');
  fs.writeFileSync(wav, writeWav(Int16Array.from(sine(440, 800), Math.round)));
  const pa = await peer();
  const a = await engine.openEndpoint({ callId: 'play', remoteSdp: pa.sdp({ te: 101 }) });
  cleanups.push(() => a.close());
  assert.equal(await a.play([{ file: wav }, { silenceMs: 100 }, { tone: 'beep', durationMs: 100 }]), 'done');
  await pa.waitFor(() => pa.received.length >= 15, 'sequence packets');
  assert.equal(pa.received.length, 15, '100 + 100 + 100 ms = 5 + 5 + 5 packets');
  const looping = a.play([{ tone: 'ringback', country: 'UK' }], { loop: true });
  await pa.waitFor(() => pa.received.length >= 30, 'loop running');
  a.stopPlay();
  assert.equal(await looping, 'stopped');
  const interruptible = a.play([{ tone: 'dial' }], { loop: true, interruptOnDtmf: true });
  // The digit is sent once the tone is heard: a command may leave for the worker at the end of the event-loop turn
  // (commands are batched), and a digit that reached the worker before the play began would interrupt nothing.
  const heard = pa.received.length;
  await pa.waitFor(() => pa.received.length > heard, 'dial tone playing');
  for (const h of DTMF_2833_1) pa.sendRaw(a.local.port, Buffer.from(h, 'hex'));
  assert.equal(await interruptible, 'interrupted');
  const info = a.play([{ tone: 'dial' }], { loop: true, interruptOnDtmf: true });
  a.injectDtmf('5', 'info');
  assert.equal(await info, 'interrupted');
  await assert.rejects(a.play([{ file: path.join(dir, 'missing.wav') }]), (e: Error) => e instanceof MediaError && e.code === 'media.file_unreadable');
  fs.writeFileSync(path.join(dir, 'stereo.wav'), writeWav(new Int16Array(8), 8000, 2));
  await assert.rejects(a.play([{ file: path.join(dir, 'stereo.wav') }]), /2 channels, not mono/);
  await assert.rejects(a.play([{ tone: 'busy', country: 'XX' as 'FR' }]), /no tones for country "XX"/);
});

test('sendDtmf: RFC 4733 events with end retransmissions, or in-band tones without telephone-event', async () => {
  const pa = await peer();
  const a = await engine.openEndpoint({ callId: 'dtmf', remoteSdp: pa.sdp({ te: 101 }) });
  cleanups.push(() => a.close());
  await a.sendDtmf('4#');
  await pa.waitFor(() => pa.received.length >= 16, '16 event packets');
  const ev = pa.received.map((r) => r.pkt);
  assert.ok(ev.every((p) => p.payloadType === 101));
  assert.deepEqual(ev.slice(0, 8).map((p) => p.payload[0]), new Array(8).fill(4));
  assert.deepEqual(ev.slice(0, 8).map((p) => (p.payload[1]! & 0x80) !== 0), [false, false, false, false, true, true, true, true]);
  assert.equal(new Set(ev.slice(0, 8).map((p) => p.timestamp)).size, 1, 'one timestamp per event');
  assert.equal(ev[0]!.marker, true);
  assert.equal(ev[8]!.payload[0], 11);
  assert.notEqual(ev[8]!.timestamp, ev[0]!.timestamp);

  const pb = await peer();
  const b = await engine.openEndpoint({ callId: 'dtmf', remoteSdp: pb.sdp() });
  cleanups.push(() => b.close());
  await b.sendDtmf('73');
  await pb.waitFor(() => pb.received.length >= 16, 'in-band audio');
  let got = '';
  const det = new DtmfDetector((d) => (got += d));
  for (const r of pb.received) {
    assert.equal(r.pkt.payloadType, 0);
    const s = decode(r.pkt.payload, 'u');
    det.feed(s, 0, s.length);
  }
  assert.equal(got, '73');
  await assert.rejects(b.sendDtmf('7x'), /"x" is not a DTMF digit/);
});

test('hold and resume: offers sendonly, then sendrecv; a sendonly remote gets a recvonly answer', async () => {
  const pa = await peer();
  const a = await engine.openEndpoint({ callId: 'hold', remoteSdp: pa.sdp() });
  cleanups.push(() => a.close());
  const holdOffer = await a.hold(true);
  assert.match(holdOffer, /a=sendonly/);
  await a.setRemoteSdp(pa.sdp({ direction: 'recvonly' }));
  assert.match(await a.hold(false), /a=sendrecv/);
  await a.setRemoteSdp(pa.sdp());
  const answer = await a.setRemoteSdp(pa.sdp({ direction: 'sendonly' }));
  assert.match(answer, /a=recvonly/);
  // We must not send to a party that said it does not receive.
  await a.play([{ silenceMs: 100 }]);
  assert.equal(pa.received.length, 0);
});

test('rtpTimeout fires when the remote stops sending', async () => {
  const pa = await peer();
  const a = await engine.openEndpoint({ callId: 'dead', remoteSdp: pa.sdp(), rtpTimeoutMs: 300 });
  cleanups.push(() => a.close());
  const t0 = performance.now();
  for (let i = 0; i < 5; i++) pa.send(a.local.port, 0, silenceU);
  await a.waitFor('rtpTimeout', 3000);
  const waited = performance.now() - t0;
  assert.ok(waited >= 280 && waited < 1500, `timeout after ${waited.toFixed(0)} ms`);
});

test('recording to a full disk stops the recording with an error event; the call goes on', async () => {
  const { pa, pb, a } = await bridged();
  const errors: MediaError[] = [];
  a.on('error', (e) => errors.push(e));
  a.record('/dev/full', { direction: 'both' });
  for (let i = 0; i < 60; i++) pa.send(a.local.port, 0, silenceU);
  await pb.waitFor(() => pb.received.length >= 60, 'relay goes on');
  await pa.waitFor(() => errors.length > 0, 'error event');
  assert.equal(errors[0]!.code, 'media.record_failed');
  assert.match(errors[0]!.message, /ENOSPC/);
  await a.stopRecord();
  pa.send(a.local.port, 0, silenceU);
  await pb.waitFor(() => pb.received.length >= 61, 'still relaying');
});

test('close is idempotent, emits closed, frees the port; stop closes what is left', async () => {
  const a: MediaEndpoint = await engine.openEndpoint({ callId: 'c' });
  const closed = a.waitFor('closed');
  await Promise.all([a.close(), a.close()]);
  await closed;
  assert.equal(a.closed, true);
  await assert.rejects(a.play([{ silenceMs: 20 }]), /closed/);
});

test('G.722 is relayed untouched between two G.722 legs, refused against G.711 and for playing', async () => {
  const pa = await peer();
  const pb = await peer();
  const pc = await peer();
  const codecs = ['G722', 'PCMU'] as const;
  const a = await engine.openEndpoint({ callId: 'hd', remoteSdp: pa.sdp({ pts: [9, 0] }), codecs });
  const b = await engine.openEndpoint({ callId: 'hd', remoteSdp: pb.sdp({ pts: [9, 0] }), codecs });
  const c = await engine.openEndpoint({ callId: 'hd', remoteSdp: pc.sdp({ pts: [0] }), codecs });
  cleanups.push(() => a.close(), () => b.close(), () => c.close());
  assert.deepEqual([a.codec, b.codec, c.codec], ['G722', 'G722', 'PCMU']);
  await a.bridge(b);
  const payload = Buffer.from(Array.from({ length: 160 }, (_, i) => (i * 37) & 0xff));
  pa.send(a.local.port, 9, payload);
  await pb.waitFor(() => pb.received.length >= 1, 'G.722 packet');
  assert.equal(pb.received[0]!.pkt.payloadType, 9);
  assert.deepEqual(pb.received[0]!.pkt.payload, payload);
  await assert.rejects(a.bridge(c), (e: Error) => e instanceof MediaError && e.code === 'media.codec_mismatch');
  await assert.rejects(a.play([{ tone: 'beep' }]), (e: Error) => e instanceof MediaError && e.code === 'media.codec_unsupported');
  // Without G722 in the accepted codecs, the same offer gets PCMU.
  const d = await engine.openEndpoint({ callId: 'hd', remoteSdp: pa.sdp({ pts: [9, 0] }) });
  cleanups.push(() => d.close());
  assert.equal(d.codec, 'PCMU');
});

test('the remote ptime is honoured by the player (30 ms packets)', async () => {
  const pa = await peer();
  const a = await engine.openEndpoint({ callId: 'ptime', remoteSdp: pa.sdp({ pts: [8], ptime: 30 }) });
  cleanups.push(() => a.close());
  assert.match(a.localSdp, /a=ptime:30/);
  assert.equal(await a.play([{ tone: 'busy', country: 'ES', durationMs: 300 }]), 'done');
  await pa.waitFor(() => pa.received.length >= 10, '10 packets');
  const r = pa.received.map((x) => x.pkt);
  assert.equal(r.length, 10);
  assert.ok(r.every((p) => p.payload.length === 240 && p.payloadType === 8));
  for (let i = 1; i < r.length; i++) assert.equal((r[i]!.timestamp - r[i - 1]!.timestamp) >>> 0, 240);
});

test('a crashed worker closes its endpoints and is started again for new calls', async () => {
  const range2 = rtpRange(20);
  const e2 = new BuiltinMediaEngine({ bind: '127.0.0.1', rtpPortMin: range2.min, rtpPortMax: range2.max, fastPath: FAST_PATH });
  await e2.start();
  try {
    const a = await e2.openEndpoint({ callId: 'crash' });
    const closed = a.waitFor('closed');
    await e2.crashWorkerForTest();
    await closed;
    const deadline = performance.now() + 5000;
    while (e2.health().status === 'down' && performance.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.equal(e2.health().status, 'degraded');
    const pa = await peer();
    const b = await e2.openEndpoint({ callId: 'after', remoteSdp: pa.sdp() });
    assert.equal(await b.play([{ silenceMs: 40 }]), 'done');
    await pa.waitFor(() => pa.received.length >= 2, 'media after restart');
  } finally {
    await e2.stop();
  }
});

test('RFC 4733 digits towards a leg without telephone-event are regenerated there as in-band tones', async () => {
  const { pa, pb, a } = await bridged({ te: 101 }, { pts: [8] });
  for (const h of DTMF_2833_1) pa.sendRaw(a.local.port, Buffer.from(h, 'hex'));
  await pb.waitFor(() => pb.received.length >= 8, 'in-band key press at B');
  let got = '';
  const det = new DtmfDetector((d) => (got += d));
  for (const r of pb.received) {
    assert.equal(r.pkt.payloadType, 8);
    const s = decode(r.pkt.payload, 'a');
    det.feed(s, 0, s.length);
  }
  assert.equal(got, '1');
});

test('RTCP: sender reports with our SSRC and counts, a report block on the remote stream, sent to its a=rtcp port', async () => {
  const range2 = rtpRange(20);
  const e2 = new BuiltinMediaEngine({ bind: '127.0.0.1', rtpPortMin: range2.min, rtpPortMax: range2.max, rtpTimeoutMs: 0, rtcpIntervalMs: 100, fastPath: FAST_PATH });
  await e2.start();
  const pa = await peer();
  const rtcp = dgram.createSocket('udp4');
  await new Promise<void>((r) => rtcp.bind(0, '127.0.0.1', () => r()));
  const reports: Buffer[] = [];
  rtcp.on('message', (m) => reports.push(m));
  try {
    const sdp = pa.sdp().replace('a=sendrecv', `a=rtcp:${rtcp.address().port}\r\na=sendrecv`);
    const a = await e2.openEndpoint({ callId: 'rtcp', remoteSdp: sdp });
    for (let i = 0; i < 5; i++) pa.send(a.local.port, 0, silenceU);
    assert.equal(await a.play([{ silenceMs: 300 }]), 'done');
    await pa.waitFor(() => reports.some((r) => r[1] === 200 && r.readUInt32BE(20) === 15), 'an SR counting the 15 packets sent');
    const sr = RtcpSenderReport.parse(reports.find((r) => r[1] === 200 && r.readUInt32BE(20) === 15)!).packet;
    assert.equal(sr.ssrc, pa.received[0]!.pkt.ssrc);
    assert.equal(sr.octetCount, 15 * 160);
    assert.equal(sr.reports.length, 1);
    assert.equal(sr.reports[0]!.ssrc, pa.ssrc);
    assert.equal(sr.reports[0]!.highestSeq, pa.seq - 1);
    assert.equal(sr.reports[0]!.packetsLost, 0);
    await a.close();
  } finally {
    rtcp.close();
    await e2.stop();
  }
});

test('an endpoint opened with an offer costs one message each way: the configure leaves with the open; bridged with its answer in one more', async () => {
  const pa = await peer();
  const pb = await peer();
  const out0 = engine.messagesOut;
  const in0 = engine.messagesIn;
  const a = await engine.openEndpoint({ callId: 'one-trip', remoteSdp: pa.sdp() });
  cleanups.push(() => a.close());
  assert.equal(engine.messagesOut - out0, 1);
  assert.equal(engine.messagesIn - in0, 1);
  assert.equal(a.local.port % 2, 0);
  assert.match(a.localSdp, new RegExp(`m=audio ${a.local.port} RTP/AVP 0`));
  const b = await engine.openEndpoint({ callId: 'one-trip' });
  cleanups.push(() => b.close());
  // What call control does on the callee's 200: its answer and the bridge, started together.
  const out1 = engine.messagesOut;
  await Promise.all([b.setRemoteSdp(pb.sdp()), a.bridge(b)]);
  assert.equal(engine.messagesOut - out1, 1);
  for (let i = 0; i < 5; i++) pa.send(a.local.port, 0, silenceU);
  await pb.waitFor(() => pb.received.length >= 5, '5 packets relayed to B');
  pb.send(b.local.port, 0, silenceU);
  await pa.waitFor(() => pa.received.length >= 1, 'a packet relayed to A');
});

test('an open with an offer that finds no free port is refused with that error and leaves no endpoint', async () => {
  const tiny = rtpRange(4);
  const first0 = tiny.min + (tiny.min & 1); // two RTP/RTCP pairs
  const small = new BuiltinMediaEngine({ bind: '127.0.0.1', rtpPortMin: first0, rtpPortMax: first0 + 3, rtpTimeoutMs: 0, fastPath: FAST_PATH });
  await small.start();
  try {
    const pa = await peer();
    const first = await small.openEndpoint({ callId: 'full', remoteSdp: pa.sdp() });
    const second = await small.openEndpoint({ callId: 'full' });
    await assert.rejects(small.openEndpoint({ callId: 'full', remoteSdp: pa.sdp() }), (e: Error) => e instanceof MediaError && e.code === 'media.ports_exhausted');
    assert.equal(small.endpointCount(), 2);
    await first.close();
    await second.close();
    assert.equal(small.endpointCount(), 0);
    // The freed pair serves the next offer.
    const again = await small.openEndpoint({ callId: 'full', remoteSdp: pa.sdp() });
    assert.equal(small.endpointCount(), 1);
    await again.close();
  } finally {
    await small.stop();
  }
});

test('the relay fast path forwards bridged legs that only relay; a play takes the pair back and the stream towards B stays one', async () => {
  const before = await engine.stats();
  if (!FAST_PATH) {
    assert.equal(before.fastPath, 'off');
    assert.equal(before.fastPairs, 0);
    return;
  }
  assert.equal(before.fastPath, 'native', 'scripts/build builds the native forwarder (services/media/native)');
  const { pa, pb, a, b } = await bridged({ te: 101 }, { te: 100 });
  assert.equal((await engine.stats()).fastPairs, before.fastPairs + 1, 'the pair is handed over once bridged');
  const digits: string[] = [];
  a.on('dtmf', (d, info) => digits.push(`${d}/${info.method}`));
  for (let i = 0; i < 10; i++) pa.send(a.local.port, 0, silenceU);
  await pb.waitFor(() => pb.received.length >= 10, '10 packets relayed natively');
  const mid = await engine.stats();
  assert.ok(mid.relayed >= before.relayed + 10, 'counters of the native forwarding show in the stats');
  // A play towards B: the worker takes the pair back, sends its tone, then hands the pair over again.
  assert.equal(await b.play([{ tone: 'beep', durationMs: 100 }]), 'done');
  const played = pb.received.length;
  assert.ok(played >= 15, `B heard the tone (${played - 10} packets)`);
  assert.equal((await engine.stats()).fastPairs, before.fastPairs + 1, 'handed over again after the play');
  pa.ssrc = 0x0badf00d;
  pa.seq = 60000;
  for (let i = 0; i < 10; i++) pa.send(a.local.port, 0, silenceU);
  await pb.waitFor(() => pb.received.length >= played + 10, '10 more packets relayed');
  const got = pb.received.map((r) => r.pkt).filter((p) => p.payloadType === 0);
  assert.equal(new Set(got.map((p) => p.ssrc)).size, 1, 'one SSRC towards B whoever sends');
  for (let i = 1; i < got.length; i++) assert.equal(got[i]!.sequenceNumber, (got[i - 1]!.sequenceNumber + 1) & 0xffff, `seq continuous at ${i}`);
  assert.equal(got[10]!.marker, true, 'marker where the tone starts');
  assert.equal(got[played]!.marker, true, 'marker where the relayed stream comes back');
  // RFC 4733 through the native forwarder: reported once, relayed with B's payload type.
  for (const h of DTMF_2833_1) pa.sendRaw(a.local.port, Buffer.from(h, 'hex'));
  await pb.waitFor(() => pb.received.some((r) => r.pkt.payloadType === 100), 'events at B');
  await pb.waitFor(() => digits.length >= 1, 'the digit reported');
  assert.deepEqual(digits, ['1/rfc4733']);
  // Not RTP (too short, version 1, a 3000-byte datagram): counted and dropped, never relayed.
  const dropped = (await engine.stats()).dropped;
  const atB = pb.received.length;
  pa.sendRaw(a.local.port, Buffer.from([0x80, 0x00, 0x01]));
  pa.sendRaw(a.local.port, Buffer.alloc(172, 0x40));
  pa.sendRaw(a.local.port, Buffer.alloc(3000, 0x80));
  const deadline = performance.now() + 5000;
  while ((await engine.stats()).dropped < dropped + 3) {
    assert.ok(performance.now() < deadline, 'three packets dropped within 5 s');
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.equal(pb.received.length, atB, 'nothing of them relayed');
  // The other way, and unbridging gives the pair back.
  pb.send(b.local.port, 0, silenceU);
  await pa.waitFor(() => pa.received.length >= 1, 'packet at A');
  await a.unbridge();
  assert.equal((await engine.stats()).fastPairs, before.fastPairs);
});

test('a bridged pair (in the fast path when built): RTCP reports count what was relayed, and the RTP timeout fires when the remote stops', async () => {
  const range2 = rtpRange(20);
  // Two forwarding threads here (the default is one): the second pair below lands on the other thread.
  const e2 = new BuiltinMediaEngine({ bind: '127.0.0.1', rtpPortMin: range2.min, rtpPortMax: range2.max, rtpTimeoutMs: 0, rtcpIntervalMs: 100, fastPath: FAST_PATH, fastPathThreads: 2 });
  await e2.start();
  const pa = await peer();
  const pb = await peer();
  const rtcp = dgram.createSocket('udp4');
  await new Promise<void>((r) => rtcp.bind(0, '127.0.0.1', () => r()));
  const reports: Buffer[] = [];
  rtcp.on('message', (m) => reports.push(m));
  try {
    const a = await e2.openEndpoint({ callId: 'fp', remoteSdp: pa.sdp({ te: 101 }), rtpTimeoutMs: 300 });
    const sdpB = pb.sdp({ te: 101 }).replace('a=sendrecv', `a=rtcp:${rtcp.address().port}\r\na=sendrecv`);
    const b = await e2.openEndpoint({ callId: 'fp', remoteSdp: sdpB });
    await a.bridge(b);
    assert.equal((await e2.stats()).fastPairs, FAST_PATH ? 1 : 0);
    const pc = await peer();
    const pd = await peer();
    const c = await e2.openEndpoint({ callId: 'fp2', remoteSdp: pc.sdp({ te: 101 }) });
    const d = await e2.openEndpoint({ callId: 'fp2', remoteSdp: pd.sdp({ te: 101 }) });
    await c.bridge(d);
    assert.equal((await e2.stats()).fastPairs, FAST_PATH ? 2 : 0);
    pc.send(c.local.port, 0, silenceU);
    await pd.waitFor(() => pd.received.length >= 1, 'the second pair relays too');
    pd.send(d.local.port, 0, silenceU);
    await pc.waitFor(() => pc.received.length >= 1, 'and back');
    await c.close();
    await d.close();
    let timedOut = false;
    a.on('rtpTimeout', () => {
      timedOut = true;
    });
    // 600 ms of packets every 20 ms: twice the timeout, which must not fire while they flow.
    const t0 = performance.now();
    for (let i = 0; i < 30; i++) {
      pa.send(a.local.port, 0, silenceU);
      await new Promise((r) => setTimeout(r, t0 + (i + 1) * 20 - performance.now()));
    }
    assert.equal(timedOut, false, 'no timeout while packets flow');
    await pb.waitFor(() => pb.received.length >= 30, '30 packets at B');
    // B's SR: its sender's count and octets are what was relayed to B.
    await pb.waitFor(() => reports.some((r) => r[1] === 200 && r.readUInt32BE(20) === 30), 'an SR towards B counting 30 packets');
    const sr = RtcpSenderReport.parse(reports.find((r) => r[1] === 200 && r.readUInt32BE(20) === 30)!).packet;
    assert.equal(sr.ssrc, pb.received[0]!.pkt.ssrc);
    assert.equal(sr.octetCount, 30 * 160);
    await a.waitFor('rtpTimeout', 3000);
    await a.close();
    await b.close();
    assert.equal((await e2.stats()).fastPairs, 0);
  } finally {
    rtcp.close();
    await e2.stop();
  }
});

test('a forwarded pair survives 3 000 mangled datagrams (random bytes, and RTP headers with random CSRC, extension and padding fields), then relays the next packet', async () => {
  const { pa, pb, a } = await bridged({ te: 101 }, { te: 101 });
  // Seeded, so a failure replays: xorshift32.
  let x = 0x2545f491;
  const rnd = (n: number): number => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % n;
  };
  const before = await engine.stats();
  for (let i = 0; i < 3000; i++) {
    const len = rnd(4) === 0 ? rnd(16) : rnd(600);
    const buf = Buffer.alloc(len);
    for (let k = 0; k < len; k++) buf[k] = rnd(256);
    // Half of them look like RTP: version 2, and then whatever the other bits say (CC, X, P, PT 0 or 101).
    if (len >= 2 && rnd(2) === 0) {
      buf[0] = 0x80 | (buf[0]! & 0x3f);
      buf[1] = (buf[1]! & 0x80) | (rnd(2) === 0 ? 0 : 101);
    }
    pa.sendRaw(a.local.port, buf);
    if (i % 200 === 199) await new Promise((r) => setImmediate(r));
  }
  const atB = pb.received.length;
  const deadline = performance.now() + 10_000;
  // Every datagram is counted, relayed or dropped; then a good packet still goes through.
  while ((await engine.stats()).rxPackets < before.rxPackets + 3000 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  pa.ssrc = 0x1234;
  pa.send(a.local.port, 0, silenceU);
  await pb.waitFor(() => pb.received.some((r, i) => i >= atB && r.pkt.payloadType === 0 && r.pkt.payload.equals(silenceU)), 'a good packet relayed after the noise');
  const after = await engine.stats();
  assert.ok(after.rxPackets - before.rxPackets >= 2500, `most of the noise reached the leg (${after.rxPackets - before.rxPackets}; loopback may drop some)`);
  assert.ok(after.dropped > before.dropped, 'malformed datagrams were dropped');
});
