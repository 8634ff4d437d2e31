// RTP/RTCP/telephone-event parse and serialize against captured packets.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RtpPacket, RtpParseError, rtpPayloadOffset, rtpSeq, rtpSsrc, rtpTimestamp, writeRtpHeader } from '../../../services/media/worker/rtp-packet.js';
import { RtcpSenderReport } from '../../../services/media/worker/rtcp-sender-report.js';
import { RtcpReceiverReport } from '../../../services/media/worker/rtcp-receiver-report.js';
import { rtcpPacketCount } from '../../../services/media/worker/rtcp-compound.js';
import { parseTelephoneEvent, serializeTelephoneEvent, eventDigit, digitEvent } from '../../../services/media/worker/telephone-event.js';
import { DTMF_2833_1, FFMPEG_SR_FIRST, FFMPEG_SR_LATER, G711A_FIRST } from './fixtures.js';

const hex = (s: string): Buffer => Buffer.from(s, 'hex');

test('parses a captured PCMA packet and serializes it back byte for byte', () => {
  const raw = hex(G711A_FIRST);
  const p = RtpPacket.parse(raw);
  assert.equal(p.payloadType, 8);
  assert.equal(p.marker, true);
  assert.equal(p.sequenceNumber, 0xe6fd);
  assert.equal(p.timestamp, 0xf0);
  assert.equal(p.ssrc, 0xdee0ee8f);
  assert.equal(p.payload.length, 240);
  assert.deepEqual(p.serialize(), raw);
  assert.equal(rtpPayloadOffset(raw, raw.length), 12);
  assert.equal(rtpSeq(raw), 0xe6fd);
  assert.equal(rtpTimestamp(raw), 0xf0);
  assert.equal(rtpSsrc(raw), 0xdee0ee8f);
});

test('rewrites header fields in place', () => {
  const raw = hex(G711A_FIRST);
  writeRtpHeader(raw, 0, false, 0xffff, 0xfffffff0, 0x01020304);
  const p = RtpPacket.parse(raw);
  assert.deepEqual([p.payloadType, p.marker, p.sequenceNumber, p.timestamp, p.ssrc], [0, false, 0xffff, 0xfffffff0, 0x01020304]);
  assert.equal(p.payload.length, 240);
});

test('CSRCs, header extension and padding round-trip', () => {
  const p = new RtpPacket(0, 7, 160, 42, Buffer.from([1, 2, 3]), false, [5, 6], { profile: 0xbede, data: Buffer.from([9, 9, 9, 9]) }, 4);
  const b = p.serialize();
  assert.equal(rtpPayloadOffset(b, b.length), 12 + 8 + 8);
  const q = RtpPacket.parse(b);
  assert.deepEqual(q.csrcs, [5, 6]);
  assert.deepEqual(q.extension, { profile: 0xbede, data: Buffer.from([9, 9, 9, 9]) });
  assert.deepEqual(q.payload, Buffer.from([1, 2, 3]));
  assert.equal(q.paddingLength, 4);
});

test('malformed RTP is rejected with a reason', () => {
  assert.throws(() => RtpPacket.parse(Buffer.alloc(5)), (e: Error) => e instanceof RtpParseError && /12-byte/.test(e.message));
  assert.throws(() => RtpPacket.parse(Buffer.from('400000000000000000000000', 'hex')), /version/);
  assert.throws(() => RtpPacket.parse(Buffer.from('830000000000000000000000', 'hex')), /CSRC/);
  assert.throws(() => RtpPacket.parse(Buffer.from('a0000000000000000000000009', 'hex')), /padding/);
});

test('captured RFC 4733 digit 1: events, end bit, retransmitted ends', () => {
  const pkts = DTMF_2833_1.map((h) => RtpPacket.parse(hex(h)));
  assert.ok(pkts.every((p) => p.payloadType === 101 && p.timestamp === 0x33e0));
  assert.equal(pkts[0]!.marker, true);
  const evs = pkts.map((p) => parseTelephoneEvent(p.payload));
  assert.ok(evs.every((e) => e.event === 1 && e.volume === 10));
  assert.deepEqual(evs.map((e) => e.end), [false, false, false, false, false, false, false, true, true, true]);
  assert.equal(evs[7]!.duration, 0x08c0);
  assert.equal(eventDigit(evs[0]!.event), '1');
  assert.deepEqual(serializeTelephoneEvent(evs[7]!), pkts[7]!.payload);
  assert.equal(digitEvent('#'), 11);
  assert.equal(eventDigit(16), undefined);
});

test('captured ffmpeg RTCP sender reports parse and serialize back', () => {
  for (const h of [FFMPEG_SR_FIRST, FFMPEG_SR_LATER]) {
    const raw = hex(h);
    const { packet, length } = RtcpSenderReport.parse(raw);
    assert.equal(length, 28);
    assert.deepEqual(packet.serialize(), raw);
    assert.equal(rtcpPacketCount(raw, raw.length), 1);
  }
  const later = RtcpSenderReport.parse(hex(FFMPEG_SR_LATER)).packet;
  assert.equal(later.ssrc, 0x0cfabd81);
  assert.equal(later.packetCount, 39);
  assert.equal(later.octetCount, 39936);
});

test('receiver report with a block round-trips, negative cumulative loss kept', () => {
  const rr = new RtcpReceiverReport(0x11223344, [
    { ssrc: 0xdee0ee8f, fractionLost: 25, packetsLost: -3, highestSeq: 0x1e6fd, jitter: 12, lastSr: 0xabcd, delaySinceLastSr: 655 },
  ]);
  const b = rr.serialize();
  assert.equal(b.length, 32);
  assert.deepEqual(RtcpReceiverReport.parse(b).packet, rr);
  const compound = Buffer.concat([hex(FFMPEG_SR_LATER), b]);
  assert.equal(rtcpPacketCount(compound, compound.length), 2);
  assert.equal(rtcpPacketCount(b.subarray(0, 6), 6), -1);
  assert.throws(() => RtcpSenderReport.parse(b), /not SR/);
});
