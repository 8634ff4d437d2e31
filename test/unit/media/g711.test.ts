// G.711 tables: reference values, round trip within the laws' quantisation, PCMU<->PCMA maps.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  ALAW_DECODE, ALAW_TO_ULAW, ULAW_DECODE, ULAW_TO_ALAW, encodeAlawSample, encodeUlawSample, ULAW_SILENCE, ALAW_SILENCE,
} from '../../../services/media/worker/g711.js';

test('reference points of both laws', () => {
  assert.equal(ULAW_DECODE[0xff], 0);
  assert.equal(ULAW_DECODE[0x7f], 0);
  assert.equal(ULAW_DECODE[0x00], -32124);
  assert.equal(ULAW_DECODE[0x80], 32124);
  assert.equal(ALAW_DECODE[0xd5], 8);
  assert.equal(ALAW_DECODE[0x55], -8);
  assert.equal(ALAW_DECODE[0xaa], 32256);
  assert.equal(ALAW_DECODE[0x2a], -32256);
  assert.equal(encodeUlawSample(0), ULAW_SILENCE);
  assert.equal(encodeAlawSample(0), ALAW_SILENCE);
});

test('encode(decode(x)) is the identity on every code word', () => {
  for (let i = 0; i < 256; i++) {
    const u = ULAW_DECODE[i]!;
    // µ-law has two zeros (0x7f and 0xff): both decode to 0, which encodes to 0xff.
    if (u !== 0) assert.equal(encodeUlawSample(u), i, `µ-law ${i}`);
    assert.equal(encodeAlawSample(ALAW_DECODE[i]!), i, `A-law ${i}`);
  }
});

test('quantisation error stays within the segment step', () => {
  for (let s = -32000; s <= 32000; s += 37) {
    const u = ULAW_DECODE[encodeUlawSample(s)]!;
    const a = ALAW_DECODE[encodeAlawSample(s)]!;
    const tol = Math.max(16, Math.abs(s) / 16);
    assert.ok(Math.abs(u - s) <= tol, `µ-law ${s} -> ${u}`);
    assert.ok(Math.abs(a - s) <= tol, `A-law ${s} -> ${a}`);
  }
});

test('transcoding maps keep the value within one step', () => {
  for (let i = 0; i < 256; i++) {
    const v = ULAW_DECODE[i]!;
    const via = ALAW_DECODE[ULAW_TO_ALAW[i]!]!;
    assert.ok(Math.abs(via - v) <= Math.max(16, Math.abs(v) / 16), `µ ${i}: ${v} vs ${via}`);
    const w = ALAW_DECODE[i]!;
    const back = ULAW_DECODE[ALAW_TO_ULAW[i]!]!;
    assert.ok(Math.abs(back - w) <= Math.max(16, Math.abs(w) / 16), `A ${i}: ${w} vs ${back}`);
  }
});
