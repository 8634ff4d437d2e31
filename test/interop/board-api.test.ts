import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startRelais, type RelaisProcess } from '../helpers/relais-process.js';
import WebSocket from 'ws';
import { ADMIN, assertError, basic, call, jsonInit } from './api-support.js';

let relais: RelaisProcess;
const auth = basic(ADMIN);

before(async () => {
  relais = await startRelais();
});
after(async () => {
  await relais.stop();
});

async function board(): Promise<Record<string, unknown> & { overlay: string; leds: Record<string, string>; button: { phase: string; lastAction?: { action: string } } }> {
  const r = await call(`${relais.url}/api/system/board`, { headers: { authorization: auth } });
  assert.equal(r.status, 200, JSON.stringify(r.json));
  return r.json as never;
}

/** Polls the board state (bounded) until it matches. */
async function waitBoard(pred: (b: Awaited<ReturnType<typeof board>>) => boolean, what: string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const b = await board();
    if (pred(b)) return;
    if (Date.now() > deadline) assert.fail(`${what}: ${JSON.stringify(b)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('GET /api/system/board: administrators see the simulated board, its LEDs and its button; others do not', async () => {
  assertError(await call(`${relais.url}/api/system/board`), 401, 'auth.required');
  const b = await board();
  assert.equal(b.board, 'sim');
  assert.equal(b.simulated, true);
  assert.deepEqual(Object.keys(b.leds).sort(), ['calls', 'error', 'phones', 'power', 'update']);
  assert.equal(b.button.phase, 'idle');
  const health = await call(`${relais.url}/healthz`, { headers: { authorization: auth } });
  assert.equal(health.status, 200);
  assert.equal((health.json.checks as Record<string, { status: string }>).store?.status, 'ok');
  assertError(await call(`${relais.url}/api/system/board/button`, jsonInit('POST', { action: 'hold' }, auth)), 400, 'api.field_invalid', 'action');
});

test('a short press on the simulated button announces the IP (blink code on the LEDs, events on /api/events)', async () => {
  // The console's event stream: the board in the snapshot, then button and LED events (administrators).
  const ws = new WebSocket(`ws://127.0.0.1:${relais.httpPort}/api/events`, { headers: { authorization: auth } });
  const messages: { type: string; data?: Record<string, unknown>; snapshot?: Record<string, unknown> }[] = [];
  ws.on('message', (d) => messages.push(JSON.parse(d.toString()) as never));
  await new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject)));
  assert.equal((await call(`${relais.url}/api/system/board/button`, jsonInit('POST', { action: 'press' }, auth))).status, 200);
  // A person's short press lasts a few hundred ms (shorter than 50 ms is contact bounce).
  await new Promise((r) => setTimeout(r, 300));
  const released = await call(`${relais.url}/api/system/board/button`, jsonInit('POST', { action: 'release' }, auth));
  assert.equal(released.status, 200);
  await waitBoard((b) => b.button.lastAction?.action === 'announce-ip', 'announce-ip recorded');
  assert.match(relais.output(), /reset button: console address/);
  const deadline = Date.now() + 10_000;
  while (!messages.some((m) => m.type === 'board.led' && m.data?.led === 'update' && m.data?.pattern === 'on')) {
    if (Date.now() > deadline) assert.fail(`no blink code on /api/events: ${JSON.stringify(messages.map((m) => m.type))}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal((messages[0]?.snapshot?.board as { board?: string } | undefined)?.board, 'sim');
  assert.ok(messages.some((m) => m.type === 'board.button' && m.data?.action === 'announce-ip'));
  assert.ok(messages.some((m) => m.type === 'board.button' && m.data?.action === 'ip-announced' && Array.isArray(m.data?.addresses)));
  ws.close();
});

test('a 10 s press and release resets the box to first run; the backup of the old data goes after the first good boot', async () => {
  fs.writeFileSync(path.join(relais.dataDir, 'before-reset.txt'), 'office data');
  await call(`${relais.url}/api/system/board/button`, jsonInit('POST', { action: 'press' }, auth));
  await waitBoard((b) => b.overlay === 'reset-confirm', 'confirmation pattern after 10 s', 15_000);
  assert.ok(Object.values((await board()).leds).every((p) => p === 'blink-fast'));
  await call(`${relais.url}/api/system/board/button`, jsonInit('POST', { action: 'release' }, auth));
  // Relais restarts in the same process into first run: the marker file is gone, and so is the backup once healthy.
  const deadline = Date.now() + 30_000;
  for (;;) {
    const gone = !fs.existsSync(path.join(relais.dataDir, 'before-reset.txt'));
    const backup = fs.existsSync(path.join(relais.dataDir, 'factory-backup'));
    if (gone && !backup && relais.output().includes('first boot is healthy')) break;
    if (Date.now() > deadline) assert.fail(`no reset within 30 s:\n${relais.output().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.equal(relais.child.exitCode, null, 'the process stayed up');
  const b = await board();
  assert.equal(b.overlay, 'none');
  assert.ok(fs.existsSync(path.join(relais.dataDir, 'relais.db')), 'a fresh database');
});
