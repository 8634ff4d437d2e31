// The relay's fast path module: the native forwarder loads in this build, its slot layout matches, addresses convert.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SLOT_WORDS, ipv4ToUint32, loadRtpForward, uint32ToIpv4 } from '../../../services/media/worker/fast-path.js';

test('the native forwarder is built (scripts/build) and has the slot layout this code expects', () => {
  const fw = loadRtpForward();
  assert.notEqual(typeof fw, 'string', String(fw));
  assert.equal((fw as { slotWords: number }).slotWords, SLOT_WORDS);
});

test('IPv4 addresses to and from the slot: dotted quads only', () => {
  assert.equal(ipv4ToUint32('127.0.0.1'), 0x7f000001);
  assert.equal(ipv4ToUint32('255.255.255.255'), 0xffffffff);
  assert.equal(uint32ToIpv4(0xc0a80105), '192.168.1.5');
  assert.equal(uint32ToIpv4(ipv4ToUint32('10.20.30.40')), '10.20.30.40');
  for (const bad of ['::1', '1.2.3', '1.2.3.256', '1.2..4', 'a.b.c.d', '', '1.2.3.4.5', '-1.2.3.4']) assert.equal(ipv4ToUint32(bad), -1, bad);
});
