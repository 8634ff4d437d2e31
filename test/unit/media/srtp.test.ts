// SRTP/SRTCP (services/media/worker/srtp.ts) against the RFC 3711 Appendix B test vectors, then round trips, tampering,
// replay and sequence-number wrap.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SrtpContext, aesCmXor, deriveSessionKeys } from '../../../services/media/worker/srtp.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

test('RFC 3711 B.2: the AES-CM keystream for the given session key and salt', () => {
  const key = hex('2B7E151628AED2A6ABF7158809CF4F3C');
  const iv = hex('F0F1F2F3F4F5F6F7F8F9FAFBFCFD0000');
  const ks = Buffer.alloc(16 * 0xff02);
  aesCmXor(key, iv, ks);
  const block = (n: number): string => ks.subarray(n * 16, n * 16 + 16).toString('hex').toUpperCase();
  assert.equal(block(0), 'E03EAD0935C95E80E166B16DD92B4EB4');
  assert.equal(block(1), 'D23513162B02D0F72A43A2FE4A5F97AB');
  assert.equal(block(2), '41E95B3BB0A2E8DD477901E4FCA894C0');
  // Counters ...FEFF, ...FF00 and ...FF01: blocks 0xFEFF to 0xFF01 of the same stream.
  assert.equal(block(0xfeff), 'EC8CDF7398607CB0F2D21675EA9EA1E4');
  assert.equal(block(0xff00), '362B7C3C6773516318A077D7FC5073AE');
  assert.equal(block(0xff01), '6A2CC3787889374FBEB4C81B17BA6C44');
});

test('RFC 3711 B.3: key derivation of the session encryption key, salt and authentication key', () => {
  const k = deriveSessionKeys(hex('E1F97A0D3E018BE0D64FA32C06DE4139'), hex('0EC675AD498AFEEBB6960B3AABE6'), false);
  assert.equal(k.encryption.toString('hex').toUpperCase(), 'C61E7A93744F39EE10734AFE3FF7A087');
  assert.equal(k.salt.toString('hex').toUpperCase(), '30CBBC08863D8C85D49DB34A9AE1');
  assert.equal(k.auth.toString('hex').toUpperCase(), 'CEBE321F6FF7716B6FD4AB49AF256A156D38BAA4');
});

const KEY_A = Buffer.from('E1F97A0D3E018BE0D64FA32C06DE41390EC675AD498AFEEBB6960B3AABE6', 'hex');

function rtp(seq: number, payload: Buffer, ssrc = 0x11223344): Buffer {
  const b = Buffer.alloc(12 + payload.length);
  b[0] = 0x80;
  b[1] = 0;
  b.writeUInt16BE(seq, 2);
  b.writeUInt32BE(seq * 160, 4);
  b.writeUInt32BE(ssrc, 8);
  payload.copy(b, 12);
  return b;
}

for (const suite of ['AES_CM_128_HMAC_SHA1_80', 'AES_CM_128_HMAC_SHA1_32'] as const) {
  test(`${suite}: RTP round trip across a sequence-number wrap; tampered and replayed packets refused`, () => {
    const tx = SrtpContext.fromKeySalt(suite, KEY_A);
    const rx = SrtpContext.fromKeySalt(suite, KEY_A);
    const payload = Buffer.alloc(160, 0x55);
    for (const seq of [65533, 65534, 65535, 0, 1, 2]) {
      const clear = rtp(seq, payload);
      const sealed = tx.protectRtp(clear, clear.length);
      assert.equal(sealed.length, clear.length + (suite.endsWith('80') ? 10 : 4));
      assert.notDeepEqual(sealed.subarray(12, clear.length), payload, 'payload encrypted');
      assert.deepEqual(sealed.subarray(0, 12), clear.subarray(0, 12), 'header in clear');
      const copy = Buffer.from(sealed);
      const n = rx.unprotectRtp(copy, copy.length);
      assert.equal(n, clear.length, `seq ${seq}: ${rx.lastFailure}`);
      assert.deepEqual(copy.subarray(0, n), clear);
      // The same packet again is a replay.
      assert.equal(rx.unprotectRtp(Buffer.from(sealed), sealed.length), -1);
      assert.equal(rx.lastFailure, 'replay');
    }
    const forged = tx.protectRtp(rtp(3, payload), 172);
    forged[20]! ^= 1;
    assert.equal(rx.unprotectRtp(forged, forged.length), -1);
    assert.equal(rx.lastFailure, 'auth');
    // Another key is not accepted either.
    const other = SrtpContext.fromKeySalt(suite, Buffer.alloc(30, 7)).protectRtp(rtp(4, payload), 172);
    assert.equal(rx.unprotectRtp(other, other.length), -1);
    // Late but inside the window: accepted once.
    const late = [tx.protectRtp(rtp(5, payload), 172), tx.protectRtp(rtp(6, payload), 172)];
    assert.equal(rx.unprotectRtp(late[1]!, late[1]!.length), 172);
    assert.equal(rx.unprotectRtp(late[0]!, late[0]!.length), 172);
  });
}

test('SRTCP: round trip with the E flag and index, 80-bit tag for both suites, tampering refused', () => {
  const tx = SrtpContext.fromKeySalt('AES_CM_128_HMAC_SHA1_32', KEY_A);
  const rx = SrtpContext.fromKeySalt('AES_CM_128_HMAC_SHA1_32', KEY_A);
  const rr = Buffer.from('81c90007' + '11223344' + 'aabbccdd' + '00000001' + '00000064' + '00000000' + '00000000' + '00000000', 'hex');
  for (let i = 0; i < 3; i++) {
    const sealed = tx.protectRtcp(rr, rr.length);
    assert.equal(sealed.length, rr.length + 4 + 10);
    assert.equal(sealed.readUInt32BE(rr.length), (0x80000000 | i) >>> 0, 'E flag and index');
    const copy = Buffer.from(sealed);
    assert.equal(rx.unprotectRtcp(copy, copy.length), rr.length);
    assert.deepEqual(copy.subarray(0, rr.length), rr);
  }
  const bad = tx.protectRtcp(rr, rr.length);
  bad[9]! ^= 0x80;
  assert.equal(rx.unprotectRtcp(bad, bad.length), -1);
  assert.equal(rx.lastFailure, 'auth');
});
