// SDES-SRTP in the built-in media engine with real sockets: an SRTP leg bridged to a plain RTP leg (Relais terminates
// SRTP per leg), the answer's a=crypto, forged packets dropped, and the 488 refusals of the SRTP policies.
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { after, before, test } from 'node:test';
import { BuiltinMediaEngine, MediaError, parseCrypto, parseRemoteSdp } from '../../../services/media/index.js';
import { SrtpContext } from '../../../services/media/worker/srtp.js';
import { RtpPacket } from '../../../services/media/worker/rtp-packet.js';
import { rtpRange } from '../../helpers/ports.js';
import { RtpPeer } from './rtp-peer.js';

let engine: BuiltinMediaEngine;
const range = rtpRange(40);
const cleanups: (() => unknown)[] = [];
const PHONE_KEY = Buffer.alloc(30, 0x21).toString('base64');

before(async () => {
  engine = new BuiltinMediaEngine({ bind: '127.0.0.1', rtpPortMin: range.min, rtpPortMax: range.max, rtpTimeoutMs: 0 });
  await engine.start();
});
after(async () => {
  for (const c of cleanups) await c();
  await engine.stop();
});

/** A phone socket speaking SRTP with `PHONE_KEY`: sends protected packets, keeps what it can unprotect. */
async function srtpPhone(): Promise<{ sock: dgram.Socket; port: number; got: RtpPacket[]; forged: number }> {
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  const phone = { sock, port: sock.address().port, got: [] as RtpPacket[], forged: 0 };
  cleanups.push(() => sock.close());
  return phone;
}

function savpOffer(port: number, profile = 'RTP/SAVP', crypto = [`1 AES_CM_128_HMAC_SHA1_80 inline:${PHONE_KEY}`]): string {
  return ['v=0', 'o=phone 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', `m=audio ${port} ${profile} 0`, 'a=rtpmap:0 PCMU/8000', ...crypto.map((c) => `a=crypto:${c}`), 'a=sendrecv', ''].join('\r\n');
}

test('an SRTP leg bridged to a plain leg: audio relayed both ways, decrypted and encrypted per leg; forged packets dropped', async () => {
  const phone = await srtpPhone();
  const plain = await RtpPeer.open();
  cleanups.push(() => plain.close());
  const a = await engine.openEndpoint({ callId: 'srtp', remoteSdp: savpOffer(phone.port) });
  const b = await engine.openEndpoint({ callId: 'srtp', remoteSdp: plain.sdp() });
  cleanups.push(() => a.close(), () => b.close());
  assert.equal(a.secure, true);
  assert.equal(b.secure, false);
  const answer = parseRemoteSdp(a.localSdp);
  assert.equal(answer.profile, 'RTP/SAVP');
  assert.equal(answer.crypto.length, 1);
  assert.equal(answer.crypto[0]!.tag, 1);
  assert.equal(answer.crypto[0]!.suite, 'AES_CM_128_HMAC_SHA1_80');
  assert.notEqual(answer.crypto[0]!.key, PHONE_KEY, 'our own key');
  assert.equal(parseRemoteSdp(b.localSdp).crypto.length, 0);
  await a.bridge(b);

  // What the phone receives is decrypted with the key Relais answered with.
  const rx = SrtpContext.fromKeySalt('AES_CM_128_HMAC_SHA1_80', Buffer.from(answer.crypto[0]!.key, 'base64'));
  phone.sock.on('message', (m) => {
    const n = rx.unprotectRtp(m, m.length);
    if (n < 0) phone.forged++;
    else phone.got.push(RtpPacket.parse(m.subarray(0, n)));
  });
  const tx = SrtpContext.fromKeySalt('AES_CM_128_HMAC_SHA1_80', Buffer.from(PHONE_KEY, 'base64'));
  const payload = Buffer.alloc(160, 0x2a);
  for (let i = 0; i < 10; i++) {
    const clear = new RtpPacket(0, 100 + i, 1000 + i * 160, 0xabcdef01, payload, i === 0).serialize();
    phone.sock.send(tx.protectRtp(clear, clear.length), a.local.port, '127.0.0.1');
  }
  await plain.waitFor(() => plain.received.length >= 10, 'ten decrypted packets at the plain phone');
  assert.ok(plain.received.every((r) => r.pkt.payload.equals(payload)), 'the plain leg gets the clear payload');
  // A packet under another key never reaches the plain phone.
  const other = SrtpContext.fromKeySalt('AES_CM_128_HMAC_SHA1_80', Buffer.alloc(30, 9));
  const clear = new RtpPacket(0, 200, 99999, 0xabcdef01, Buffer.alloc(160, 0x77), false).serialize();
  phone.sock.send(other.protectRtp(clear, clear.length), a.local.port, '127.0.0.1');

  const back = Buffer.alloc(160, 0x33);
  for (let i = 0; i < 10; i++) plain.send(b.local.port, 0, back);
  await plain.waitFor(() => phone.got.length >= 10, 'ten SRTP packets at the SRTP phone');
  assert.equal(phone.forged, 0);
  assert.ok(phone.got.every((p) => p.payload.equals(back)));
  assert.ok(!plain.received.some((r) => r.pkt.payload[0] === 0x77), 'the forged packet was dropped');
});

test('offers: mandatory → RTP/SAVP with both suites, optional → RTP/AVP with a=crypto, off → plain; the answer picks a suite', async () => {
  const m = await engine.openEndpoint({ callId: 'o', srtp: 'mandatory' });
  const o = await engine.openEndpoint({ callId: 'o', srtp: 'optional' });
  const f = await engine.openEndpoint({ callId: 'o' });
  cleanups.push(() => m.close(), () => o.close(), () => f.close());
  const mo = parseRemoteSdp(m.localSdp);
  assert.equal(mo.profile, 'RTP/SAVP');
  assert.deepEqual(mo.crypto.map((c) => [c.tag, c.suite]), [[1, 'AES_CM_128_HMAC_SHA1_80'], [2, 'AES_CM_128_HMAC_SHA1_32']]);
  assert.equal(parseRemoteSdp(o.localSdp).profile, 'RTP/AVP');
  assert.equal(parseRemoteSdp(o.localSdp).crypto.length, 2);
  assert.equal(parseRemoteSdp(f.localSdp).crypto.length, 0);
  // The answer to the mandatory offer chooses _32 (tag 2).
  await m.setRemoteSdp(savpOffer(40000, 'RTP/SAVP', [`2 AES_CM_128_HMAC_SHA1_32 inline:${PHONE_KEY}`]));
  assert.equal(m.secure, true);
  // A phone without SRTP answers the optional offer plainly: plain RTP.
  await o.setRemoteSdp(savpOffer(40002, 'RTP/AVP', []));
  assert.equal(o.secure, false);
  // The mandatory one refuses a plain answer.
  const m2 = await engine.openEndpoint({ callId: 'o', srtp: 'mandatory' });
  cleanups.push(() => m2.close());
  await assert.rejects(m2.setRemoteSdp(savpOffer(40004, 'RTP/AVP', [])), (e: unknown) => e instanceof MediaError && e.code === 'media.srtp_required');
});

test('refusals: RTP/SAVP without a usable crypto line, and plain RTP where SRTP is required, are media.srtp_* (488)', async () => {
  await assert.rejects(
    engine.openEndpoint({ callId: 'r', remoteSdp: savpOffer(40006, 'RTP/SAVP', [`1 F8_128_HMAC_SHA1_80 inline:${PHONE_KEY}`]) }),
    (e: unknown) => e instanceof MediaError && e.code === 'media.srtp_unsupported' && e.status === 488,
  );
  await assert.rejects(
    engine.openEndpoint({ callId: 'r', remoteSdp: savpOffer(40008, 'RTP/SAVP', [`1 AES_CM_128_HMAC_SHA1_80 inline:${PHONE_KEY}|2^20|1:4`]) }),
    (e: unknown) => e instanceof MediaError && e.code === 'media.srtp_unsupported',
  );
  await assert.rejects(
    engine.openEndpoint({ callId: 'r', remoteSdp: savpOffer(40010, 'RTP/AVP', []), srtp: 'mandatory' }),
    (e: unknown) => e instanceof MediaError && e.code === 'media.srtp_required',
  );
  // Best effort: RTP/AVP with a=crypto is answered with SRTP in the same profile.
  const be = await engine.openEndpoint({ callId: 'r', remoteSdp: savpOffer(40012, 'RTP/AVP') });
  cleanups.push(() => be.close());
  assert.equal(be.secure, true);
  assert.equal(parseRemoteSdp(be.localSdp).profile, 'RTP/AVP');
  assert.equal(parseCrypto(`1 AES_CM_128_HMAC_SHA1_80 inline:${PHONE_KEY}|2^31`)?.suite, 'AES_CM_128_HMAC_SHA1_80', 'a lifetime is fine');
  assert.equal(parseCrypto('1 AES_CM_128_HMAC_SHA1_80 inline:c2hvcnQ='), undefined, 'a key that is not 30 bytes');
});
