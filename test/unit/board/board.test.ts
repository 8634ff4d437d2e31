import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ManualClock, silentLogger } from '../../../services/shared/index.js';
import {
  BOARDS,
  BoardController,
  FactoryReset,
  SimBoard,
  SysfsBoard,
  blinkCode,
  boardFromModel,
  findKeyDevice,
  ledPatterns,
  openBoard,
  parseKeyEvents,
  KEY_RESTART,
  type BoardSnapshot,
  type ButtonAction,
} from '../../../board/index.js';
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

function simController(opts: { snapshot?: () => BoardSnapshot; addresses?: string[]; onReset?: () => void } = {}) {
  const clock = new ManualClock();
  const sim = new SimBoard();
  const resets: number[] = [];
  const controller = new BoardController({
    definition: BOARDS.sim,
    leds: sim,
    button: sim,
    clock,
    logger: silentLogger,
    snapshot: opts.snapshot ?? (() => idle),
    addresses: () => opts.addresses ?? ['192.168.1.42', 'fe80::1'],
    factoryReset: () => {
      resets.push(clock.monotonic());
      opts.onReset?.();
    },
  });
  const actions: ButtonAction[] = [];
  controller.observer.on('button', (a) => actions.push(a));
  return { clock, sim, controller, resets, actions };
}

test('events reach the LEDs: the board module polls the snapshot once a second and turns LEDs off on stop', async () => {
  let snap = idle;
  const { clock, sim, controller } = simController({ snapshot: () => snap });
  await controller.start();
  assert.equal(sim.state.get('power'), 'on');
  assert.equal(sim.state.get('phones'), 'off');
  snap = { ...idle, registeredPhones: 2, ringingCalls: 1 };
  clock.advance(999);
  assert.equal(sim.state.get('phones'), 'off');
  clock.advance(1);
  assert.equal(sim.state.get('phones'), 'on');
  assert.equal(sim.state.get('calls'), 'blink-fast');
  snap = { ...idle, health: 'down', updating: true };
  clock.advance(1000);
  assert.deepEqual(controller.state().leds, { power: 'blink-fast', phones: 'off', calls: 'off', update: 'blink-slow', error: 'on' });
  await controller.stop();
  assert.equal(clock.pendingTimers(), 0);
  assert.ok([...sim.state.values()].every((p) => p === 'off'));
});

test('a short press announces the IP: blink code of the last octet on the update LED, then the status LEDs come back', async () => {
  const { clock, sim, controller, actions } = simController({ addresses: ['192.168.1.42'] });
  const announced: string[][] = [];
  controller.observer.on('ip-announced', (a) => announced.push(a));
  await controller.start();
  sim.setButton(true);
  clock.advance(300);
  sim.setButton(false);
  assert.deepEqual(actions, ['announce-ip']);
  assert.deepEqual(announced, [['192.168.1.42']]);
  assert.equal(controller.state().overlay, 'ip-code');
  assert.equal(sim.state.get('power'), 'off', 'the other LEDs go dark during the code');
  const start = sim.history.length;
  const total = blinkCode(42).reduce((ms, [, d]) => ms + d, 0);
  // Read the code back: flashes between dark gaps (4 then 2), step by step on the clock.
  const digits: number[] = [];
  let flashes = 0;
  let darkMs = 0;
  for (let t = 0; t < total; t += 100) {
    clock.advance(100);
    const lit = sim.state.get('update') === 'on';
    if (lit && darkMs > 0) {
      if (darkMs >= 1000 && flashes) (digits.push(flashes), (flashes = 0));
      flashes++;
    }
    darkMs = lit ? 0 : darkMs + 100;
  }
  if (flashes) digits.push(flashes);
  assert.deepEqual(digits, [4, 2]);
  assert.ok(sim.history.length > start);
  assert.equal(controller.state().overlay, 'none');
  assert.equal(sim.state.get('power'), 'on', 'status patterns are back');
  await controller.stop();
});

test('press durations: bounce and 2-10 s presses do nothing, 10 s shows the confirmation, release confirms the reset', async () => {
  const { clock, sim, controller, actions, resets } = simController();
  await controller.start();
  // Contact bounce.
  sim.setButton(true);
  clock.advance(20);
  sim.setButton(false);
  assert.deepEqual(actions, []);
  // 5 s: cancelled.
  sim.setButton(true);
  clock.advance(5000);
  assert.equal(controller.state().button.phase, 'held');
  assert.equal(controller.state().button.heldMs, 5000);
  sim.setButton(false);
  assert.deepEqual(actions, ['cancelled']);
  // 10 s: confirmation pattern, every LED blinking fast; release → factory reset.
  sim.setButton(true);
  clock.advance(9999);
  assert.equal(controller.state().overlay, 'none');
  clock.advance(1);
  assert.equal(controller.state().overlay, 'reset-confirm');
  assert.ok(Object.values(controller.state().leds).every((p) => p === 'blink-fast'));
  clock.advance(1000); // polling does not override the confirmation pattern
  assert.equal(sim.state.get('power'), 'blink-fast');
  sim.setButton(false);
  await Promise.resolve();
  await Promise.resolve();
  assert.deepEqual(actions, ['cancelled', 'confirming', 'factory-reset']);
  assert.equal(resets.length, 1);
  assert.equal(controller.state().overlay, 'resetting');
  assert.equal(sim.state.get('error'), 'on');
  assert.equal(controller.state().button.lastAction?.action, 'factory-reset');
  await controller.stop();
});

test('a button held past the confirmation window (stuck or jammed) never resets', async () => {
  const { clock, sim, controller, actions, resets } = simController();
  await controller.start();
  sim.setButton(true);
  clock.advance(10_000 + 5000);
  assert.deepEqual(actions, ['confirming', 'cancelled']);
  assert.equal(controller.state().overlay, 'none');
  assert.equal(controller.state().button.phase, 'stuck');
  clock.advance(60_000);
  sim.setButton(false);
  assert.deepEqual(actions, ['confirming', 'cancelled']);
  assert.equal(resets.length, 0);
  await controller.stop();
});

test('factory reset on a temp data dir: data moved aside on the next start, back to first run, backup removed after a good boot', () => {
  const dir = tempDir('factory-');
  fs.writeFileSync(path.join(dir, 'relais.db'), 'database');
  fs.mkdirSync(path.join(dir, 'sounds'));
  fs.writeFileSync(path.join(dir, 'sounds/welcome.wav'), 'audio');
  const reset = new FactoryReset(dir);
  assert.equal(reset.applyPending('x'), undefined, 'nothing happens without a request');
  assert.ok(fs.existsSync(path.join(dir, 'relais.db')));
  reset.request(new Date('2026-12-07T08:00:00Z'));
  assert.ok(reset.pending());
  const backup = reset.applyPending('2026-12-07T08:00:01.000Z')!;
  assert.deepEqual(fs.readdirSync(dir).sort(), ['factory-backup'], 'the data dir is empty: first run');
  assert.equal(fs.readFileSync(path.join(backup, 'relais.db'), 'utf8'), 'database');
  assert.equal(fs.readFileSync(path.join(backup, 'sounds/welcome.wav'), 'utf8'), 'audio');
  assert.equal(reset.pending(), false);
  assert.equal(reset.backups().length, 1);
  fs.writeFileSync(path.join(dir, 'relais.db'), 'fresh');
  assert.equal(reset.confirmGoodBoot(), true);
  assert.deepEqual(fs.readdirSync(dir), ['relais.db']);
  assert.equal(reset.confirmGoodBoot(), false);
});

test('a reset interrupted half-way is finished by the next start', () => {
  const dir = tempDir('factory-');
  for (const f of ['a', 'b', 'c']) fs.writeFileSync(path.join(dir, f), f);
  const reset = new FactoryReset(dir);
  reset.request(new Date());
  // As if power was cut after moving "a": the marker is still there.
  fs.mkdirSync(path.join(dir, 'factory-backup/first'), { recursive: true });
  fs.renameSync(path.join(dir, 'a'), path.join(dir, 'factory-backup/first/a'));
  const second = reset.applyPending('second')!;
  assert.deepEqual(fs.readdirSync(second).sort(), ['b', 'c']);
  assert.deepEqual(fs.readdirSync(dir), ['factory-backup']);
  assert.equal(reset.backups().length, 2);
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

test('board definitions: the device-tree model picks the board; without GPIO the simulated board is used', () => {
  assert.equal(boardFromModel('Raspberry Pi 4 Model B Rev 1.4'), 'rpi4');
  assert.equal(boardFromModel('Raspberry Pi Compute Module 4 Rev 1.0'), 'cm4-hat');
  assert.equal(boardFromModel('QEMU Virtual Machine'), 'sim');
  assert.equal(boardFromModel(undefined), 'sim');
  const rpi = BOARDS.rpi4;
  assert.equal(rpi.button?.keyCode, KEY_RESTART);
  // Lines are distinct per board.
  for (const b of [BOARDS.rpi4, BOARDS['cm4-hat']]) {
    const lines = [...Object.values(b.ledGpios), b.button!.gpio];
    assert.equal(new Set(lines).size, lines.length, `${b.id} uses each GPIO once`);
  }
  const opened = openBoard('auto', { model: 'Raspberry Pi 4 Model B Rev 1.4' });
  assert.equal(opened.definition.id, 'sim', 'no LED class and no gpio-keys device here: simulated');
  assert.ok(opened.sim);
});

test('gpio-keys: input events are parsed (press, release, autorepeat ignored) and the device is found by its key bitmap', () => {
  const ev = (type: number, code: number, value: number): Buffer => {
    const b = Buffer.alloc(24);
    b.writeUInt16LE(type, 16);
    b.writeUInt16LE(code, 18);
    b.writeInt32LE(value, 20);
    return b;
  };
  const buf = Buffer.concat([ev(1, KEY_RESTART, 1), ev(0, 0, 0), ev(1, KEY_RESTART, 2), ev(1, 30, 1), ev(1, KEY_RESTART, 0)]);
  assert.deepEqual(parseKeyEvents(buf, KEY_RESTART, 24), [true, false]);
  // KEY_RESTART = 408 = word 6 (of 64 bits), bit 24.
  const devices = [
    'I: Bus=0019 Vendor=0001 Product=0001 Version=0100\nN: Name="Power Button"\nH: Handlers=kbd event0\nB: KEY=10000000000000 0\n',
    'I: Bus=0019 Vendor=0001 Product=0001 Version=0100\nN: Name="button@11"\nH: Handlers=kbd event3 \nB: KEY=1000000 0 0 0 0 0 0\n',
  ].join('\n');
  assert.equal(findKeyDevice(devices, KEY_RESTART, 64), '/dev/input/event3');
  assert.equal(findKeyDevice(devices, 30, 64), undefined);
});
