// Play sequences rendered frame by frame: exact lengths, item boundaries inside a frame, loops, silence.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Player } from '../../../services/media/worker/player.js';

const ramp = (n: number, base: number): Int16Array => Int16Array.from({ length: n }, (_, i) => base + i);

function renderAll(p: Player, frame: number, maxFrames = 1000): number[] {
  const out: number[] = [];
  const buf = new Int16Array(frame);
  for (let k = 0; k < maxFrames && !p.finished; k++) {
    const more = p.render(buf, frame);
    out.push(...buf);
    if (!more) break;
  }
  return out;
}

test('a sequence plays every sample once, items joined inside a frame, silence padded at the end', () => {
  const p = new Player(1, [{ data: ramp(250, 1000), total: 250 }, { data: null, total: 30 }, { data: ramp(100, 5000), total: 100 }], false, false);
  const out = renderAll(p, 160);
  assert.equal(out.length, 480);
  assert.deepEqual(out.slice(0, 250), [...ramp(250, 1000)]);
  assert.ok(out.slice(250, 280).every((s) => s === 0));
  assert.deepEqual(out.slice(280, 380), [...ramp(100, 5000)]);
  assert.ok(out.slice(380).every((s) => s === 0));
  assert.equal(p.finished, true);
});

test('a short cycle repeats cyclically for a longer total (tones)', () => {
  const p = new Player(1, [{ data: ramp(3, 1), total: 8 }], false, false);
  assert.deepEqual(renderAll(p, 8), [1, 2, 3, 1, 2, 3, 1, 2]);
});

test('loop restarts the sequence until stopped; an all-empty loop ends', () => {
  const p = new Player(1, [{ data: ramp(100, 0), total: 100 }], true, false);
  const out = renderAll(p, 160, 5);
  assert.equal(out.length, 800);
  assert.equal(out[100], 0);
  assert.equal(out[799], 99);
  assert.equal(p.finished, false);
  const empty = new Player(2, [{ data: null, total: 0 }], true, false);
  assert.equal(empty.render(new Int16Array(160), 160), false);
});
