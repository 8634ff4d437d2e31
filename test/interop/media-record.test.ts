// Recorder of the built-in engine, checked with sox's soxi: stereo caller/callee and mono recordings of a real RTP call.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { BuiltinMediaEngine } from '../../services/media/index.js';
import { parseWav } from '../../services/media/sounds/index.js';
import { rtpRange } from '../helpers/ports.js';
import { tempDir } from '../helpers/relais-process.js';
import { RtpPeer, encode, framedToneShare, pacer, sine, toneShare } from '../unit/media/rtp-peer.js';

let engine: BuiltinMediaEngine;
const range = rtpRange(100);

before(async () => {
  try {
    execFileSync('which', ['soxi']);
  } catch {
    throw new Error('soxi is not installed: run ./scripts/install-peers (sox)');
  }
  engine = new BuiltinMediaEngine({ bind: '127.0.0.1', rtpPortMin: range.min, rtpPortMax: range.max, rtpTimeoutMs: 0 });
  await engine.start();
});
after(() => engine.stop());

const soxi = (flag: string, file: string): string => execFileSync('soxi', [flag, file], { encoding: 'utf8' }).trim();

function channel(file: string, ch: number): Int16Array {
  const buf = fs.readFileSync(file);
  const info = parseWav(buf);
  const n = info.dataLength / (2 * info.channels);
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) out[i] = buf.readInt16LE(info.dataOffset + 2 * (i * info.channels + ch));
  return out;
}

test('stereo recording: caller (in) left, callee (out) right; mono recordings of one direction', async () => {
  const dir = tempDir('media-rec-');
  const pa = await RtpPeer.open();
  const pb = await RtpPeer.open();
  try {
    const a = await engine.openEndpoint({ callId: 'rec', remoteSdp: pa.sdp({ pts: [0] }) });
    const b = await engine.openEndpoint({ callId: 'rec', remoteSdp: pb.sdp({ pts: [8] }) });
    await a.bridge(b);
    const stereo = path.join(dir, 'stereo.wav');
    const inOnly = path.join(dir, 'in.wav');
    a.record(stereo, { direction: 'both', stereo: true });
    b.record(inOnly, { direction: 'in' });
    // 1 s of call: the caller says 1 kHz, the callee 440 Hz, paced like phones.
    const sendStart = performance.now();
    const clock = pacer();
    for (let k = 0; k < 50; k++) {
      pa.send(a.local.port, 0, encode(sine(1000, 160, 8000, k * 160), 'u'));
      pb.send(b.local.port, 8, encode(sine(440, 160, 8000, k * 160), 'a'));
      await clock.next(); // pacing the sender, not waiting for a result
    }
    await pb.waitFor(() => pb.received.length >= 50 && pa.received.length >= 50, 'both directions relayed');
    // The recording follows the wall clock (a stalled worker loses no time), so on a loaded machine, where the 20 ms
    // pacing runs late, it lasts as long as the sending really took, not 1 s.
    const sent = (performance.now() - sendStart) / 1000;
    await a.stopRecord();
    await b.stopRecord();

    assert.equal(soxi('-c', stereo), '2');
    assert.equal(soxi('-r', stereo), '8000');
    assert.equal(soxi('-b', stereo), '16');
    const dur = Number(soxi('-D', stereo));
    assert.ok(dur > 0.8 && dur < Math.max(1.4, sent + 0.4), `stereo duration ${dur} s (the sending took ${sent.toFixed(2)} s)`);
    // Judged frame by frame: a late packet on a loaded machine leaves a gap of silence (the recorder's jitter buffer
    // waits it out), which is right, but shifts the 440 Hz tone's phase so that one Goertzel over the stretch cancels.
    const expectTone = (x: Int16Array, freq: number, what: string): void => {
      const { share, voiced } = framedToneShare(x, freq);
      assert.ok(share > 0.8 && voiced > 0.6, `${what}: ${freq} Hz share ${share.toFixed(2)} in ${(voiced * 100).toFixed(0)} % of frames`);
    };
    expectTone(channel(stereo, 0).subarray(800, 6400), 1000, "left is the caller's");
    expectTone(channel(stereo, 1).subarray(800, 6400), 440, "right is the callee's");

    assert.equal(soxi('-c', inOnly), '1');
    expectTone(channel(inOnly, 0).subarray(800, 6400), 440, 'B records what its party sends');
    await a.close();
    await b.close();
  } finally {
    pa.close();
    pb.close();
  }
});

test('recording a call the fast path forwards: the worker takes the pair back for it, both parties are in the file, and the pair goes back after', async (t) => {
  const before = await engine.stats();
  if (before.fastPath !== 'native') return t.skip(`fast path ${before.fastPath}`);
  const dir = tempDir('media-rec-fast-');
  const pa = await RtpPeer.open();
  const pb = await RtpPeer.open();
  try {
    // telephone-event on both legs: nothing needs the in-band detector, so the bridged pair is forwarded natively.
    const a = await engine.openEndpoint({ callId: 'rec-fast', remoteSdp: pa.sdp({ pts: [0], te: 101 }) });
    const b = await engine.openEndpoint({ callId: 'rec-fast', remoteSdp: pb.sdp({ pts: [8], te: 101 }) });
    await a.bridge(b);
    assert.equal((await engine.stats()).fastPairs, before.fastPairs + 1, 'forwarded natively before the recording');
    const clock = pacer();
    let k = 0;
    const talk = async (packets: number): Promise<void> => {
      for (let end = k + packets; k < end; k++) {
        pa.send(a.local.port, 0, encode(sine(1000, 160, 8000, k * 160), 'u'));
        pb.send(b.local.port, 8, encode(sine(440, 160, 8000, k * 160), 'a'));
        await clock.next(); // pacing the sender like a phone
      }
    };
    await talk(10);
    const stereo = path.join(dir, 'stereo.wav');
    a.record(stereo, { direction: 'both', stereo: true });
    assert.equal((await engine.stats()).fastPairs, before.fastPairs, 'the worker has the pair while it records');
    await talk(50);
    await a.stopRecord();
    await pb.waitFor(() => pb.received.length >= 60 && pa.received.length >= 60, 'both directions relayed throughout');
    assert.equal((await engine.stats()).fastPairs, before.fastPairs + 1, 'forwarded natively again once the recording stopped');
    const relayed = pb.received.length;
    await talk(5);
    await pb.waitFor(() => pb.received.length >= relayed + 5, 'relayed after the recording');
    const framed = (x: Int16Array, freq: number, what: string): void => {
      const { share, voiced } = framedToneShare(x, freq);
      assert.ok(share > 0.8 && voiced > 0.6, `${what}: ${freq} Hz share ${share.toFixed(2)} in ${(voiced * 100).toFixed(0)} % of frames`);
    };
    framed(channel(stereo, 0).subarray(800, 6400), 1000, "left is the caller's");
    framed(channel(stereo, 1).subarray(800, 6400), 440, "right is the callee's");
    // One stream towards each party across both hand-overs.
    const toB = pb.received.map((r) => r.pkt).filter((p) => p.payloadType === 8);
    assert.equal(new Set(toB.map((p) => p.ssrc)).size, 1, 'one SSRC towards B');
    for (let i = 1; i < toB.length; i++) assert.equal(toB[i]!.sequenceNumber, (toB[i - 1]!.sequenceNumber + 1) & 0xffff, `seq towards B continuous at ${i}`);
    await a.close();
    await b.close();
  } finally {
    pa.close();
    pb.close();
  }
});

test('a played prompt is recorded in the out direction; close finalises a running recording', async () => {
  const dir = tempDir('media-rec-');
  const pa = await RtpPeer.open();
  try {
    const a = await engine.openEndpoint({ callId: 'rec2', remoteSdp: pa.sdp({ pts: [8] }) });
    const file = path.join(dir, 'out.wav');
    a.record(file, { direction: 'out' });
    assert.equal(await a.play([{ tone: 'beep', durationMs: 600 }]), 'done');
    await a.close();
    assert.equal(soxi('-c', file), '1');
    const dur = Number(soxi('-D', file));
    assert.ok(dur >= 0.5, `duration ${dur}`);
    assert.ok(toneShare(channel(file, 0), 1000) > 0.6);
  } finally {
    pa.close();
  }
});

test('a worker stalled for 400 ms loses no recorded time: the WAV lasts as long as the call', async () => {
  const dir = tempDir('media-rec-');
  const pa = await RtpPeer.open();
  try {
    const a = await engine.openEndpoint({ callId: 'rec3', remoteSdp: pa.sdp({ pts: [0] }) });
    const file = path.join(dir, 'stall.wav');
    a.record(file, { direction: 'in' });
    const t0 = performance.now();
    const clock = pacer();
    for (let k = 0; k < 75; k++) {
      pa.send(a.local.port, 0, encode(sine(1000, 160, 8000, k * 160), 'u'));
      if (k === 20) void engine.stallWorkerForTest(400);
      await clock.next(); // pacing the sender like a phone
    }
    const wall = performance.now() - t0;
    await a.stopRecord();
    await a.close();
    const dur = Number(soxi('-D', file)) * 1000;
    assert.ok(Math.abs(dur - wall) < 150, `recording ${dur.toFixed(0)} ms for ${wall.toFixed(0)} ms of call`);
    const pcm = channel(file, 0);
    let toneFrames = 0;
    for (let i = 0; i + 160 <= pcm.length; i += 160) if (toneShare(pcm.subarray(i, i + 160), 1000) > 0.8) toneFrames++;
    assert.ok(toneFrames >= 70, `${toneFrames} of 75 frames hold the caller's tone`);
  } finally {
    pa.close();
  }
});
