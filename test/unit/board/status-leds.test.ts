import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ManualClock } from '../../../services/shared/index.js';
import { SimBoard, StatusLeds, SysfsBoard, ledPatterns, type BoardSnapshot } from '../../../board/index.js';
import { tempDir } from '../../helpers/relais-process.js';

const idle: BoardSnapshot = { health: 'ok', registeredPhones: 0, activeCalls: 0, ringingCalls: 0, updating: false, error: false };

test('patterns follow the snapshot', () => {
  assert.deepEqual(ledPatterns(idle), { power: 'on', phones: 'off', calls: 'off', update: 'off', error: 'off' });
  const busy = ledPatterns({ ...idle, registeredPhones: 3, activeCalls: 1, ringingCalls: 1, updating: true });
  assert.equal(busy.phones, 'on');
  assert.equal(busy.calls, 'blink-fast');
  assert.equal(busy.update, 'blink-slow');
  const down = ledPatterns({ ...idle, health: 'down' });
  assert.equal(down.power, 'blink-fast');
  assert.equal(down.error, 'on');
});

test('StatusLeds polls with the injected clock and turns LEDs off on stop', async () => {
  const clock = new ManualClock();
  const board = new SimBoard();
  let snap = idle;
  const leds = new StatusLeds(board, clock, () => snap);
  await leds.start();
  assert.equal(board.state.get('phones'), 'off');
  snap = { ...idle, registeredPhones: 2 };
  clock.advance(999);
  assert.equal(board.state.get('phones'), 'off');
  clock.advance(1);
  assert.equal(board.state.get('phones'), 'on');
  await leds.stop();
  assert.equal(clock.pendingTimers(), 0);
});

test('sysfs board writes brightness and timer trigger, and ignores missing LEDs', () => {
  const root = tempDir('leds-');
  fs.mkdirSync(path.join(root, 'ACT'));
  const board = new SysfsBoard({ calls: 'ACT', phones: 'missing' }, root);
  assert.ok(SysfsBoard.accessible({ calls: 'ACT' }, root));
  board.set('calls', 'on');
  assert.equal(fs.readFileSync(path.join(root, 'ACT/brightness'), 'utf8'), '1');
  board.set('calls', 'blink-fast');
  assert.equal(fs.readFileSync(path.join(root, 'ACT/trigger'), 'utf8'), 'timer');
  assert.equal(fs.readFileSync(path.join(root, 'ACT/delay_on'), 'utf8'), '100');
  board.set('phones', 'on');
});
