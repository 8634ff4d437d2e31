// rtpengine backend: two legs with different G.711 laws are bridged with transcoding (each phone gets its own codec).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { RtpengineEngine } from '../../services/media/rtpengine/index.js';
import { RtpPeer, decode, encode, sine, toneShare } from '../unit/media/rtp-peer.js';
import { startRtpengine, type RtpengineDaemon } from './rtpengine-daemon.js';

let daemon: RtpengineDaemon;
let engine: RtpengineEngine;
const peers: RtpPeer[] = [];

before(async () => {
  daemon = await startRtpengine();
  engine = new RtpengineEngine({ ng: daemon.ng, dtmfListen: false, rtpTimeoutMs: 0 });
  await engine.start();
});
after(async () => {
  for (const p of peers) p.close();
  await engine?.stop();
  await daemon?.stop();
});

test('PCMA caller bridged to a PCMU callee: each receives its own law, the audio survives', async () => {
  const pa = await RtpPeer.open();
  const pb = await RtpPeer.open();
  peers.push(pa, pb);
  const a = await engine.openEndpoint({ callId: 'tc', remoteSdp: pa.sdp({ pts: [8], te: 101 }) });
  const b = await engine.openEndpoint({ callId: 'tc' });
  await b.setRemoteSdp(pb.sdp({ pts: [0], te: 101 }));
  assert.equal(a.codec, 'PCMA');
  assert.equal(b.codec, 'PCMU');
  await a.bridge(b);
  for (let i = 0; i < 30; i++) {
    pa.send(a.local.port, 8, encode(sine(440, 160, 8000, i * 160), 'a'));
    pb.send(b.local.port, 0, encode(sine(1000, 160, 8000, i * 160), 'u'));
    await new Promise((r) => setTimeout(r, 20));
  }
  await pb.waitFor(() => pb.received.length >= 25, 'A→B');
  await pa.waitFor(() => pa.received.length >= 25, 'B→A');
  assert.deepEqual([...new Set(pb.received.map((r) => r.pkt.payloadType))], [0], 'B gets PCMU');
  assert.deepEqual([...new Set(pa.received.map((r) => r.pkt.payloadType))], [8], 'A gets PCMA');
  const atB = pb.received.flatMap((r) => [...decode(Buffer.from(r.pkt.payload), 'u')]);
  const atA = pa.received.flatMap((r) => [...decode(Buffer.from(r.pkt.payload), 'a')]);
  assert.ok(toneShare(atB.slice(800), 440) > 0.8, 'B hears 440 Hz');
  assert.ok(toneShare(atA.slice(800), 1000) > 0.8, 'A hears 1 kHz');
});
