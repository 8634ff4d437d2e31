// pcap → RTP → WAV for rtpengine recordings: link types, truncation, alignment of the two directions, bad input.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readPcapRtp, tracksFromCapture, mixTracks, interleave } from '../../../services/media/rtpengine/index.js';
import { LiveTrack, PcapStream } from '../../../services/media/rtpengine/pcap-to-wav.js';
import { encode, sine, toneShare } from './rtp-peer.js';

function rtp(pt: number, seq: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(12);
  h[0] = 0x80;
  h[1] = pt;
  h.writeUInt16BE(seq, 2);
  h.writeUInt32BE(seq * 160, 4);
  h.writeUInt32BE(0xabc, 8);
  return Buffer.concat([h, payload]);
}

function ipUdp(src: number, dst: number, body: Buffer): Buffer {
  const ip = Buffer.alloc(20);
  ip[0] = 0x45;
  ip.writeUInt16BE(28 + body.length, 2);
  ip[8] = 64;
  ip[9] = 17;
  ip.writeUInt32BE(0x7f000001, 12);
  ip.writeUInt32BE(0x7f000001, 16);
  const udp = Buffer.alloc(8);
  udp.writeUInt16BE(src, 0);
  udp.writeUInt16BE(dst, 2);
  udp.writeUInt16BE(8 + body.length, 4);
  return Buffer.concat([ip, udp, body]);
}

function pcap(records: { us: number; data: Buffer }[], linkType = 101, bigEndian = false): Buffer {
  const w32 = (b: Buffer, v: number, o: number): void => void (bigEndian ? b.writeUInt32BE(v, o) : b.writeUInt32LE(v, o));
  const g = Buffer.alloc(24);
  w32(g, 0xa1b2c3d4, 0);
  g.writeUInt16LE(2, 4);
  g.writeUInt16LE(4, 6);
  w32(g, 65535, 16);
  w32(g, linkType, 20);
  const parts: Buffer[] = [g];
  for (const r of records) {
    const h = Buffer.alloc(16);
    w32(h, Math.floor(r.us / 1e6), 0);
    w32(h, r.us % 1e6, 4);
    w32(h, r.data.length, 8);
    w32(h, r.data.length, 12);
    parts.push(h, r.data);
  }
  return Buffer.concat(parts);
}

describe('rtpengine pcap recordings', () => {
  const t0 = 1_700_000_000_000_000;
  const records: { us: number; data: Buffer }[] = [];
  for (let i = 0; i < 50; i++) {
    // Phone → rtpengine port 40000 (a 440 Hz tone), peer → X port 40010 (1 kHz), 3 ms capture jitter.
    records.push({ us: t0 + i * 20_000 + (i % 3) * 1000, data: ipUdp(5000, 40000, rtp(0, i, encode(sine(440, 160, 8000, i * 160), 'u'))) });
    records.push({ us: t0 + i * 20_000 + 500, data: ipUdp(6000, 40010, rtp(8, i, encode(sine(1000, 160, 8000, i * 160), 'a'))) });
  }
  // A DTMF event and RTCP-looking noise are skipped.
  records.push({ us: t0 + 5000, data: ipUdp(5000, 40000, rtp(101, 999, Buffer.from([1, 0x0a, 0, 160]))) });
  records.push({ us: t0 + 6000, data: ipUdp(5001, 40001, Buffer.from([0x80, 200, 0, 1])) });

  it('reads raw-IP pcap (rtpengine --recording-format=raw) and splits directions by destination port', () => {
    const pkts = readPcapRtp(pcap(records));
    assert.equal(pkts.length, 101);
    const [inT, outT] = tracksFromCapture(pkts, [40000, 40010]);
    assert.ok(Math.abs(inT!.length - 8000) <= 160, `in track ${inT!.length} samples`);
    assert.ok(toneShare(inT!.subarray(0, 8000), 440) > 0.9, 'jitter does not tear the 440 Hz track');
    assert.ok(toneShare(outT!.subarray(0, 8000), 1000) > 0.9);
    const mixed = mixTracks(inT!, outT!);
    assert.ok(toneShare(mixed, 440) > 0.3 && toneShare(mixed, 1000) > 0.3);
    const st = interleave(inT!, outT!);
    assert.equal(st.length, 2 * Math.max(inT!.length, outT!.length));
    assert.equal(st[2], inT![1]);
    assert.equal(st[3], outT![1]);
  });

  it('reads Ethernet and big-endian captures; a truncated last record is ignored', () => {
    const eth = records.slice(0, 10).map((r) => ({ us: r.us, data: Buffer.concat([Buffer.alloc(12), Buffer.from([8, 0]), r.data]) }));
    assert.equal(readPcapRtp(pcap(eth, 1)).length, 10);
    assert.equal(readPcapRtp(pcap(records.slice(0, 10), 101, true)).length, 10);
    const whole = pcap(records.slice(0, 4));
    assert.equal(readPcapRtp(whole.subarray(0, whole.length - 20)).length, 3);
  });

  it('keeps a real gap in the audio (the other side went silent for a second)', () => {
    const gap = [0, 1, 2, 53, 54].map((i) => ({ us: t0 + i * 20_000, data: ipUdp(5000, 40000, rtp(0, i, encode(sine(440, 160), 'u'))) }));
    const [t] = tracksFromCapture(readPcapRtp(pcap(gap)), [40000]);
    assert.equal(t!.length, 55 * 160);
    assert.equal(t![10 * 160], 0, 'silence where no packet came');
  });

  it('names what is wrong with a file that is not a capture', () => {
    assert.throws(() => readPcapRtp(Buffer.alloc(10)), /too short/);
    assert.throws(() => readPcapRtp(Buffer.alloc(24, 1)), /not a pcap file/);
    assert.throws(() => readPcapRtp(pcap([], 147)), /link type 147 is not supported/);
    assert.deepEqual(tracksFromCapture([], [1, 2]).map((t) => t.length), [0, 0]);
  });

  it('streams a growing capture in arbitrary chunks; the live track equals the final one', () => {
    const whole = pcap(records);
    const stream = new PcapStream();
    const live = new LiveTrack(40000);
    const [final] = tracksFromCapture(readPcapRtp(whole), [40000]);
    const streamed = new Int16Array(final!.length);
    let got = 0;
    for (let off = 0; off < whole.length; off += 4096) {
      const pkts = stream.push(whole.subarray(off, off + 4096));
      got += pkts.length;
      for (const { at, samples } of live.add(pkts)) streamed.set(samples, at);
    }
    assert.equal(got, 101);
    assert.equal(stream.consumed, whole.length);
    assert.deepEqual(streamed, final);
  });

  it('places by RTP timestamp: a 200 ms capture stall, reordering and a new SSRC keep the audio whole', () => {
    const recs: { us: number; data: Buffer }[] = [];
    const order = [0, 1, 2, 3, 5, 4, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19];
    for (const [n, i] of order.entries()) {
      // Packets 10-14 are captured late in a burst (a loaded host), 5 and 4 swapped.
      const us = t0 + (i >= 10 && i < 15 ? 15 * 20_000 : n * 20_000);
      recs.push({ us, data: ipUdp(5000, 40000, rtp(0, i, encode(sine(440, 160, 8000, i * 160), 'u'))) });
    }
    const [t] = tracksFromCapture(readPcapRtp(pcap(recs)), [40000]);
    assert.equal(t!.length, 20 * 160);
    assert.ok(toneShare(t!, 440) > 0.95, 'one continuous 440 Hz tone');
    // A new stream (another SSRC: e.g. a transfer) starts after what was written, at its capture time.
    const second = rtp(0, 0, encode(sine(440, 160), 'u'));
    second.writeUInt32BE(0xdef, 8);
    recs.push({ us: t0 + 30 * 20_000, data: ipUdp(5000, 40000, second) });
    const [t2] = tracksFromCapture(readPcapRtp(pcap(recs)), [40000]);
    assert.equal(t2!.length, 31 * 160);
  });
});
