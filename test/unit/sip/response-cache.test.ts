// ResponseCache: the Completed state of finished non-INVITE server transactions over UDP, as bytes in a bounded ring.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../../services/shared/index.js';
import { ResponseCache, type Target } from '../../../services/sip/index.js';

const T: Target = { transport: 'udp', address: '192.0.2.10', port: 5062 };
const res = (n: number, size = 300): Buffer => Buffer.from(`SIP/2.0 200 OK\r\nX-N: ${n}\r\n`.padEnd(size, 'x'));

test('response cache: gives back the exact bytes and target until the time is up, then forgets', () => {
  const clock = new ManualClock();
  const cache = new ResponseCache(clock, 32_000, 64 * 1024);
  assert.equal(cache.put('k1', res(1), T), true);
  clock.advance(10_000);
  assert.equal(cache.put('k2', res(2), { transport: 'tcp', address: '2001:db8::7', port: 65535 }), true);
  const hit = cache.get('k1')!;
  assert.deepEqual(hit.target, T);
  assert.equal(hit.bytes.toString(), res(1).toString());
  assert.deepEqual(cache.get('k2')!.target, { transport: 'tcp', address: '2001:db8::7', port: 65535 });
  assert.equal(cache.get('nope'), undefined);
  clock.advance(21_999);
  assert.ok(cache.has('k1'), 'kept until exactly ttl');
  clock.advance(1);
  assert.equal(cache.has('k1'), false);
  assert.ok(cache.has('k2'));
  clock.advance(10_000);
  assert.deepEqual(cache.stats(), { entries: 0, bytes: 0, capacity: 64 * 1024, evictedEarly: 0 });
});

test('response cache: a flood larger than the ring drops the oldest first, memory stays bounded, wrap-around is sound', () => {
  const clock = new ManualClock();
  const cache = new ResponseCache(clock, 32_000, 16 * 1024);
  for (let i = 0; i < 2000; i++) {
    // Sizes vary so that entries straddle the end of the ring in every way.
    assert.equal(cache.put(`key-${i}`, res(i, 200 + ((i * 37) % 300)), { ...T, port: 1000 + i }), true);
    if (i % 7 === 0) clock.advance(1);
  }
  const s = cache.stats();
  assert.ok(s.bytes <= 16 * 1024 && s.entries > 10, `bounded: ${JSON.stringify(s)}`);
  assert.equal(s.evictedEarly, 2000 - s.entries);
  // The newest entries are all there, intact; the oldest are gone.
  for (let i = 2000 - s.entries; i < 2000; i++) {
    const hit = cache.get(`key-${i}`)!;
    assert.ok(hit, `key-${i} kept`);
    assert.equal(hit.target.port, 1000 + i);
    assert.equal(hit.bytes.toString(), res(i, 200 + ((i * 37) % 300)).toString());
  }
  assert.equal(cache.get('key-0'), undefined);
  clock.advance(32_000);
  assert.equal(cache.stats().entries, 0);
});

test('response cache: an entry too large for the ring is refused (the transaction keeps it itself)', () => {
  const cache = new ResponseCache(new ManualClock(), 32_000, 8 * 1024);
  assert.equal(cache.put('big', Buffer.alloc(2000), T), false);
  assert.equal(cache.stats().entries, 0);
  // The same key stored again replaces the first answer.
  cache.put('k', res(1), T);
  cache.put('k', res(2), T);
  assert.equal(cache.get('k')!.bytes.toString(), res(2).toString());
});

test('response cache: against a model, with colliding keys, repeated keys and evictions, it never answers with another key\'s bytes', () => {
  const clock = new ManualClock();
  const cache = new ResponseCache(clock, 32_000, 64 * 1024);
  const latest = new Map<string, string>();
  const recent: Array<{ key: string; len: number }> = [];
  let seed = 7;
  const rand = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed % n;
  };
  for (let i = 0; i < 20_000; i++) {
    // 3 000 distinct keys in a 1 024-slot table: long probe runs, and many keys put again while still kept.
    const key = `z9hG4bK${rand(3000)}|10.0.0.${rand(4)}:5060|REGISTER`;
    const body = `SIP/2.0 200 OK ${i} ${'x'.repeat(rand(200))}`;
    assert.equal(cache.put(key, Buffer.from(body), T), true);
    latest.set(key, body);
    recent.push({ key, len: body.length + key.length + 40 });
    if (rand(10) === 0) clock.advance(rand(40));
    if (i % 97 === 0) {
      for (const [k, v] of latest) {
        const hit = cache.get(k);
        if (hit) assert.equal(hit.bytes.toString(), v, `${k}: its own latest bytes`);
      }
      // What was put in the last few kilobytes and is within its time must be there.
      let room = 16 * 1024;
      for (let j = recent.length - 1; j >= 0 && room > 0; j--) {
        room -= recent[j]!.len;
        if (clock.monotonic() < 32_000) assert.ok(cache.has(recent[j]!.key), `${recent[j]!.key} was put ${recent.length - 1 - j} puts ago`);
      }
    }
  }
  clock.advance(40_000);
  for (const k of latest.keys()) assert.equal(cache.has(k), false);
  assert.equal(cache.stats().entries, 0);
});

test('response cache: a key with characters outside latin1 is not kept (it could not be found again from the ring)', () => {
  const cache = new ResponseCache(new ManualClock(), 32_000, 64 * 1024);
  assert.equal(cache.put('z9hG4bK€|h:1|MESSAGE', Buffer.from('SIP/2.0 200 OK'), T), false);
  assert.equal(cache.get('z9hG4bK€|h:1|MESSAGE'), undefined);
  assert.equal(cache.stats().entries, 0);
});
