// The same MediaEngine scenarios against both backends (built-in worker, rtpengine): real RTP on loopback.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BuiltinMediaEngine, type MediaEngine, type MediaEndpoint } from '../../services/media/index.js';
import { RtpengineEngine } from '../../services/media/rtpengine/index.js';
import { PromptLibrary, parseWav, readPcm16Mono } from '../../services/media/sounds/index.js';
import { tempDir } from '../helpers/relais-process.js';
import { RtpPeer, decode, sendTone, toneShare } from '../unit/media/rtp-peer.js';
import { freeRtpRange, startRtpengine, type RtpengineDaemon } from './rtpengine-daemon.js';

const prompts = new PromptLibrary();

/** Share of the 20 ms windows with sound that carry `freq` (a jitter gap or two on a loaded host do not fail it). */
function windowsWithTone(samples: ArrayLike<number>, freq: number): number {
  let sound = 0;
  let tone = 0;
  for (let i = 0; i + 160 <= samples.length; i += 160) {
    const w = Array.from({ length: 160 }, (_, k) => samples[i + k]!);
    if (w.every((x) => Math.abs(x) < 50)) continue;
    sound++;
    if (toneShare(w, freq) > 0.7) tone++;
  }
  return sound ? tone / sound : 0;
}

function audioOf(p: RtpPeer): number[] {
  return p.received.filter((r) => r.pkt.payloadType === 0).flatMap((r) => [...decode(Buffer.from(r.pkt.payload), 'u')]);
}

const backends: { name: string; make: () => Promise<{ engine: MediaEngine; stop: () => Promise<void> }> }[] = [
  {
    name: 'builtin',
    make: async () => {
      const range = await freeRtpRange(100);
      const engine = new BuiltinMediaEngine({ bind: '127.0.0.1', rtpPortMin: range.min, rtpPortMax: range.max, rtpTimeoutMs: 0 });
      await engine.start();
      return { engine, stop: () => engine.stop() };
    },
  },
  {
    name: 'rtpengine',
    make: async () => {
      const daemon: RtpengineDaemon = await startRtpengine();
      const engine = new RtpengineEngine({ ng: daemon.ng, dtmfListen: daemon.dtmf, recordingDir: daemon.recordingDir, rtpTimeoutMs: 0 });
      await engine.start();
      return {
        engine,
        stop: async () => {
          await engine.stop();
          await daemon.stop();
        },
      };
    },
  },
];

for (const backend of backends) {
  describe(`MediaEngine conformance: ${backend.name}`, () => {
    let engine: MediaEngine;
    let stop: () => Promise<void>;
    const cleanups: (() => unknown)[] = [];

    before(async () => {
      ({ engine, stop } = await backend.make());
    });
    after(async () => {
      for (const c of cleanups.reverse()) await c();
      await stop?.();
    });

    async function peer(): Promise<RtpPeer> {
      const p = await RtpPeer.open();
      cleanups.push(() => p.close());
      return p;
    }
    async function open(callId: string, remoteSdp?: string): Promise<MediaEndpoint> {
      const ep = await engine.openEndpoint(remoteSdp === undefined ? { callId } : { callId, remoteSdp });
      cleanups.push(() => ep.close());
      return ep;
    }

    test('answers an offer in the offerer\'s codec order; makes an offer and takes the answer', async () => {
      const pa = await peer();
      const a = await open('c1', pa.sdp({ pts: [8, 0], te: 101 }));
      assert.equal(a.codec, 'PCMA');
      assert.equal(a.local.address, '127.0.0.1');
      assert.match(a.localSdp, new RegExp(`m=audio ${a.local.port} RTP/AVP 8 `));
      const pb = await peer();
      const b = await open('c1');
      assert.match(b.localSdp, /m=audio \d+ RTP\/AVP 0 8 101/);
      await b.setRemoteSdp(pb.sdp({ pts: [0], te: 101 }));
      assert.equal(b.codec, 'PCMU');
    });

    test('bridge relays both ways, transcoding PCMA <-> PCMU', async () => {
      const pa = await peer();
      const pb = await peer();
      const a = await open('c2', pa.sdp({ pts: [8], te: 101 }));
      const b = await open('c2', pb.sdp({ pts: [0], te: 101 }));
      await a.bridge(b);
      await Promise.all([sendTone(pa, a.local.port, 440, 25, 8), sendTone(pb, b.local.port, 1000, 25, 0)]);
      await pb.waitFor(() => pb.received.length >= 20, 'A→B');
      await pa.waitFor(() => pa.received.length >= 20, 'B→A');
      assert.deepEqual([...new Set(pb.received.map((r) => r.pkt.payloadType))], [0]);
      assert.deepEqual([...new Set(pa.received.map((r) => r.pkt.payloadType))], [8]);
      assert.ok(toneShare(audioOf(pb).slice(400), 440) > 0.8);
      const atA = pa.received.flatMap((r) => [...decode(Buffer.from(r.pkt.payload), 'a')]);
      assert.ok(toneShare(atA.slice(400), 1000) > 0.8);
    });

    test('play: a prompt is heard for its duration and resolves done', async () => {
      const pa = await peer();
      const a = await open('c3', pa.sdp({ pts: [0], te: 101 }));
      const file = prompts.path('fr', 'please-hold');
      const ms = parseWav(fs.readFileSync(file)).durationMs;
      assert.equal(await a.play([{ file }, { tone: 'beep' }]), 'done');
      const n = pa.received.filter((r) => r.pkt.payloadType === 0).length;
      assert.ok(Math.abs(n * 20 - (ms + 250)) < 0.1 * ms + 100, `${n} packets for ${ms + 250} ms`);
      assert.ok(toneShare(audioOf(pa).slice(-1600), 1000) > 0.5, 'the beep ends it');
    });

    test('RFC 4733 digit: reported once with its method, interrupts an interruptible play', async () => {
      const pa = await peer();
      const a = await open('c4', pa.sdp({ pts: [0], te: 101 }));
      const digits: [string, string][] = [];
      a.on('dtmf', (d, info) => digits.push([d, info.method]));
      const playing = a.play([{ file: prompts.path('en', 'voicemail-menu') }], { interruptOnDtmf: true });
      await pa.waitFor(() => pa.received.length > 3, 'prompt playing');
      for (let i = 0; i < 6; i++) {
        const ev = Buffer.from([7, (i >= 3 ? 0x80 : 0) | 10, 0, 0]);
        ev.writeUInt16BE(Math.min(i + 1, 4) * 160, 2);
        pa.send(a.local.port, 101, ev, { marker: i === 0, ts: 500_000 });
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.equal(await playing, 'interrupted');
      await pa.waitFor(() => digits.length >= 1, 'digit');
      assert.deepEqual(digits, [['7', 'rfc4733']]);
    });

    test('sendDtmf reaches the phone (RFC 4733 events or in-band tones)', async () => {
      const pa = await peer();
      const a = await open('c5', pa.sdp({ pts: [0], te: 101 }));
      // The built-in engine sends events on its own stream; let packets flow so both engines have one.
      const p = a.play([{ silenceMs: 1000 }]);
      await a.sendDtmf('4');
      await pa.waitFor(() => pa.received.length >= 8, 'packets');
      a.stopPlay();
      await p;
      const events = pa.received.filter((r) => r.pkt.payloadType === 101).map((r) => r.pkt.payload[0]);
      const audio = audioOf(pa);
      // 4 = 770 Hz + 1209 Hz.
      const inband = audio.length >= 800 && [0, 800, 1600, 2400].some((o) => toneShare(audio.slice(o, o + 800), 770) > 0.3 && toneShare(audio.slice(o, o + 800), 1209) > 0.3);
      assert.ok(events.includes(4) || inband, `events ${JSON.stringify([...new Set(events)])}, in-band ${inband}`);
    });

    test('hold: re-offer sendonly, resume sendrecv, same port', async () => {
      const pa = await peer();
      const a = await open('c6', pa.sdp({ pts: [0], te: 101 }));
      const port = a.local.port;
      assert.match(await a.hold(true), /a=sendonly/);
      await a.setRemoteSdp(pa.sdp({ pts: [0], te: 101, direction: 'recvonly' }));
      assert.match(await a.hold(false), /a=sendrecv/);
      await a.setRemoteSdp(pa.sdp({ pts: [0], te: 101 }));
      assert.equal(a.local.port, port);
    });

    test('record the caller into a WAV', async () => {
      const pa = await peer();
      const a = await open('c7', pa.sdp({ pts: [0], te: 101 }));
      const file = path.join(tempDir(`conf-${backend.name}-`), 'in.wav');
      a.record(file, { direction: 'in' });
      await sendTone(pa, a.local.port, 440, 40);
      await a.stopRecord();
      const { samples, sampleRate } = readPcm16Mono(fs.readFileSync(file));
      assert.equal(sampleRate, 8000);
      assert.ok(samples.length > 4000, `${samples.length} samples`);
      const share = windowsWithTone(samples, 440);
      assert.ok(share > 0.8, `${(share * 100).toFixed(0)}% of the recorded 20 ms windows with sound are the caller's 440 Hz`);
    });

    test('close: idempotent, closed event, engine count drops, later calls refused', async () => {
      const pa = await peer();
      const a = await open('c8', pa.sdp({ pts: [0] }));
      const n = engine.endpointCount();
      const closed = a.waitFor('closed');
      await a.close();
      await closed;
      await a.close();
      assert.equal(a.closed, true);
      assert.equal(engine.endpointCount(), n - 1);
      await assert.rejects(a.play([{ tone: 'beep' }]));
    });
  });
}
