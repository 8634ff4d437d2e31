// byteRange: the single byte ranges of RFC 9110 §14.1.2 that audio players send, and what is ignored or refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { byteRange } from '../../../services/api/index.js';

test('ranges on a 1000-byte file', () => {
  assert.deepEqual(byteRange('bytes=0-99', 1000), { start: 0, end: 99 });
  assert.deepEqual(byteRange('bytes=500-', 1000), { start: 500, end: 999 });
  assert.deepEqual(byteRange('bytes=-100', 1000), { start: 900, end: 999 });
  assert.deepEqual(byteRange('bytes=-5000', 1000), { start: 0, end: 999 }, 'a suffix longer than the file is the whole file');
  assert.deepEqual(byteRange('bytes=900-5000', 1000), { start: 900, end: 999 }, 'the end is clipped');
  assert.equal(byteRange('bytes=1000-', 1000), 'unsatisfiable');
  assert.equal(byteRange('bytes=-0', 1000), 'unsatisfiable');
  for (const ignored of ['', 'bytes=', 'bytes=-', 'bytes=5-1', 'bytes=0-1,5-9', 'items=0-1', 'bytes=a-b', `bytes=${'9'.repeat(20)}-`]) {
    assert.equal(byteRange(ignored, 1000), undefined, `"${ignored}" → the whole file`);
  }
});
