import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newTimeOrderedId } from '../../../services/shared/index.js';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

test('newTimeOrderedId: a version 7 UUID (RFC 9562) carrying the time in ms in its first 48 bits', () => {
  const ms = Date.UTC(2026, 11, 7, 15, 20, 0, 123);
  const id = newTimeOrderedId(ms);
  assert.match(id, UUID_V7);
  assert.equal(parseInt(id.slice(0, 8) + id.slice(9, 13), 16), ms);
});

test('newTimeOrderedId: ids of later ms sort after earlier ones; ids of one ms differ', () => {
  const t = Date.UTC(2026, 11, 7);
  const ids = Array.from({ length: 1000 }, (_, i) => newTimeOrderedId(t + Math.floor(i / 10)));
  for (let i = 10; i < ids.length; i += 10) assert.ok(ids[i - 10]! < ids[i]!, `${ids[i - 10]} before ${ids[i]}`);
  assert.equal(new Set(ids).size, ids.length);
  for (const id of ids) assert.match(id, UUID_V7);
});

test('newTimeOrderedId: a time outside 48 bits is clamped, never a malformed id', () => {
  assert.match(newTimeOrderedId(-5), UUID_V7);
  assert.match(newTimeOrderedId(2 ** 50), UUID_V7);
  assert.match(newTimeOrderedId(1.5), UUID_V7);
});
