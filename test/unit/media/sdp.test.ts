// SDP offer/answer helpers of the MediaEngine seam.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MediaError, answerDirection, buildLocalSdp, checkDtmfDigits, negotiate, parseRemoteSdp } from '../../../services/media/index.js';

const offer = (body: string): string =>
  ['v=0', 'o=alice 2890844526 7 IN IP4 10.0.0.5', 's=-', 'c=IN IP4 10.0.0.5', 't=0 0', body].join('\r\n') + '\r\n';

test('parses a typical desk-phone offer', () => {
  const r = parseRemoteSdp(
    offer('m=audio 49170 RTP/AVP 9 8 0 18 96\r\na=rtpmap:96 telephone-event/8000\r\na=fmtp:96 0-15\r\na=ptime:30\r\na=sendrecv'),
  );
  assert.equal(r.address, '10.0.0.5');
  assert.equal(r.port, 49170);
  assert.equal(r.rtcpPort, 49171);
  assert.deepEqual(r.payloads.map((p) => p.name), ['G722', 'PCMA', 'PCMU', 'PT18', 'TELEPHONE-EVENT']);
  assert.equal(r.telephoneEventPt, 96);
  assert.equal(r.ptime, 30);
  assert.equal(r.direction, 'sendrecv');
  assert.equal(r.sessionVersion, 7);
});

test('negotiation: offerer order, G.722 only when accepted, ptime honoured, telephone-event PT kept', () => {
  const r = parseRemoteSdp(offer('m=audio 4000 RTP/AVP 9 8 0 96\r\na=rtpmap:96 telephone-event/8000\r\na=ptime:30'));
  assert.equal(negotiate(r, ['PCMU', 'PCMA']).codec, 'PCMA');
  const g = negotiate(r, ['G722', 'PCMU']);
  assert.deepEqual([g.codec, g.pt, g.telephoneEventPt, g.ptime], ['G722', 9, 96, 30]);
  assert.throws(
    () => negotiate(parseRemoteSdp(offer('m=audio 4000 RTP/AVP 18')), ['PCMU']),
    (e: Error) => e instanceof MediaError && e.code === 'media.codec_mismatch' && /PT18/.test(e.message),
  );
});

test('hold directions (RFC 3264 §6.1, RFC 6337)', () => {
  assert.equal(answerDirection('sendonly'), 'recvonly');
  assert.equal(answerDirection('recvonly'), 'sendonly');
  assert.equal(answerDirection('inactive'), 'inactive');
  assert.equal(answerDirection('sendrecv', 'sendonly'), 'sendonly');
  assert.equal(parseRemoteSdp(offer('m=audio 4000 RTP/AVP 0\r\na=sendonly')).direction, 'sendonly');
  // RFC 2543 hold: c=0.0.0.0
  assert.equal(parseRemoteSdp(offer('m=audio 4000 RTP/AVP 0').replace(/c=IN IP4 10.0.0.5/, 'c=IN IP4 0.0.0.0')).direction, 'inactive');
});

test('bad SDP gets an error naming the problem', () => {
  const bad = (s: string, re: RegExp): void => assert.throws(() => parseRemoteSdp(s), (e: Error) => e instanceof MediaError && re.test(e.message));
  bad('', /empty/);
  bad(offer('m=video 4000 RTP/AVP 96'), /no m=audio/);
  bad(offer('m=audio 4000 UDP/TLS/RTP/SAVPF 0'), /not RTP\/AVP or RTP\/SAVP/);
  bad(offer('m=audio 4000 RTP/AVP 0').replace('c=IN IP4 10.0.0.5\r\n', ''), /no c=/);
  bad(offer('m=audio 4000 RTP/AVP x'), /payload list/);
});

test('our SDP round-trips through the parser', () => {
  const sdp = buildLocalSdp({
    address: '192.0.2.1', port: 10000, sessionId: '1', sessionVersion: 2,
    payloads: [{ pt: 0, name: 'PCMU' }, { pt: 8, name: 'PCMA' }], telephoneEventPt: 101, ptime: 20, direction: 'sendonly',
  });
  const r = parseRemoteSdp(sdp);
  assert.deepEqual([r.address, r.port, r.telephoneEventPt, r.direction, r.ptime], ['192.0.2.1', 10000, 101, 'sendonly', 20]);
  assert.deepEqual(r.payloads.map((p) => p.pt), [0, 8, 101]);
});

test('DTMF digits are checked', () => {
  assert.equal(checkDtmfDigits('12*#ab'), '12*#AB');
  assert.throws(() => checkDtmfDigits('12x'), /"x" is not a DTMF digit/);
});

test('SDP scan: the first m=audio only (after a video stream too), its own c=, a=rtcp, session direction, LF line ends, port/count, TTL', () => {
  const sdp = [
    'v=0',
    'o=carrier 3800000000123 42 IN IP4 198.51.100.1',
    's=call',
    'c=IN IP4 198.51.100.1/127',
    'a=sendonly',
    't=0 0',
    'm=video 5000 RTP/AVP 97',
    'a=rtpmap:97 H264/90000',
    'c=IN IP4 203.0.113.99',
    'm=audio 6000/2 RTP/AVP 8 101',
    'c=IN IP4 203.0.113.7',
    'a=rtpmap:101 telephone-event/8000',
    'a=rtcp:6111 IN IP4 203.0.113.7',
    'junk line without equals',
    'm=audio 7000 RTP/AVP 0',
    'c=IN IP4 192.0.2.200',
    'a=recvonly',
  ].join('\n');
  const r = parseRemoteSdp(sdp);
  assert.deepEqual(
    [r.address, r.port, r.rtcpPort, r.payloads.map((p) => `${p.pt}:${p.name}`), r.telephoneEventPt, r.direction, r.sessionId, r.sessionVersion],
    ['203.0.113.7', 6000, 6111, ['8:PCMA', '101:TELEPHONE-EVENT'], 101, 'sendonly', '3800000000123', 42],
  );
  // Without its own c=, the audio stream uses the session's (TTL cut off).
  assert.equal(parseRemoteSdp(sdp.replace('c=IN IP4 203.0.113.7\n', '')).address, '198.51.100.1');
  assert.throws(() => parseRemoteSdp('v=0\nm=audio 7000 RTP/AVP 0\n'), /SDP has no c= connection address for audio/);
  assert.throws(() => parseRemoteSdp('v=0\nc=IN IP4 1.2.3.4\nm=audio x RTP/AVP 0\n'), /m=audio port "NaN" is not valid/);
});
