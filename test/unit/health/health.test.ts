import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HealthCheck, SystemdNotifier, cachedProbe, diskProbe, moduleProbe, storeWritableProbe, temperatureProbe, throttlingProbe } from '../../../services/health/index.js';
import { ManualClock, SystemClock, silentLogger } from '../../../services/shared/index.js';
import { Store } from '../../../services/storage/index.js';
import { startNotifySocket } from '../../helpers/notify-socket.js';

test('the check combines probes and modules: worst status wins, a throwing probe counts as down, reports are reused for maxAge', async () => {
  const clock = new ManualClock();
  let temp: number | null = 50;
  let runs = 0;
  const check = new HealthCheck({
    clock,
    modules: () => ({ api: { status: 'ok' } }),
    probes: {
      sip: moduleProbe('SIP listening', () => ({ status: 'ok', detail: { port: 5060 } })),
      temperature: temperatureProbe(async () => (runs++, temp)),
      broken: () => {
        throw new Error('boom');
      },
    },
  });
  const first = await check.run();
  assert.equal(first.status, 'down');
  assert.deepEqual(Object.keys(first.checks), ['sip', 'temperature', 'broken'], 'declared order');
  assert.match(first.checks.broken!.message, /boom/);
  assert.deepEqual(first.checks.sip, { status: 'ok', message: 'SIP listening: ok', detail: { port: 5060 } });
  assert.equal((await check.run()).checkedAt, first.checkedAt, 'reused within 2 s');
  assert.equal(runs, 1);
  clock.advance(2000);
  temp = 82;
  const second = await check.run();
  assert.equal(runs, 2);
  assert.equal(second.checks.temperature!.status, 'degraded');
  assert.equal(check.latest(), second);
});

test('probes: store writable, disk space limits, temperature, Pi throttling flags', async () => {
  const clock = new ManualClock();
  const store = Store.open(':memory:');
  const writable = storeWritableProbe(() => store.db, clock);
  assert.equal((await writable()).status, 'ok');
  assert.equal((store.db.prepare('SELECT checked_at FROM health_probe').get() as { checked_at: number }).checked_at, clock.now());
  store.close();
  assert.equal((await writable()).status, 'down');

  const disk = (bavail: number) => diskProbe('/data', undefined, async () => ({ bsize: 4096, blocks: 1_000_000, bavail }));
  assert.equal((await disk(500_000)()).status, 'ok');
  assert.equal((await disk(50_000)()).status, 'degraded', '5 % free');
  assert.equal((await disk(10_000)()).status, 'down', '40 MB free');
  assert.equal((await diskProbe('/no/such/dir')()).status, 'down');

  assert.equal((await temperatureProbe(async () => null)()).status, 'ok');
  assert.equal((await temperatureProbe(async () => 86)()).status, 'down');

  assert.equal((await throttlingProbe(async () => undefined)()).status, 'ok');
  const past = await throttlingProbe(async () => 0x50000)();
  assert.equal(past.status, 'ok');
  assert.deepEqual(past.detail?.sinceBoot, ['under-voltage', 'throttled']);
  const now = await throttlingProbe(async () => 0x50005)();
  assert.equal(now.status, 'degraded');
  assert.match(now.message, /under-voltage, throttled now/);
});

test('sd_notify through a fake NOTIFY_SOCKET: READY=1 with a status, WATCHDOG=1 at half of WatchdogSec, EXTEND_TIMEOUT_USEC, STOPPING=1', async () => {
  const sock = await startNotifySocket();
  try {
    const notifier = new SystemdNotifier({
      clock: new SystemClock(),
      logger: silentLogger,
      env: { ...process.env, NOTIFY_SOCKET: sock.path, WATCHDOG_USEC: '400000', WATCHDOG_PID: String(process.pid) },
    });
    assert.equal(notifier.pingEveryMs, 200);
    await notifier.ready('SIP on 127.0.0.1:5060');
    assert.match(await sock.next(/READY=1/), /READY=1 STATUS=SIP on 127\.0\.0\.1:5060/);
    await sock.next(/WATCHDOG=1/);
    const pings = () => sock.messages.filter((m) => /(^| )WATCHDOG=1( |$)/.test(m)).length;
    const before = pings();
    await new Promise<void>((resolve, reject) => {
      const deadline = Date.now() + 10_000;
      const t = setInterval(() => {
        if (pings() >= before + 2) (clearInterval(t), resolve());
        else if (Date.now() > deadline) (clearInterval(t), reject(new Error(`no further pings: ${JSON.stringify(sock.messages)}`)));
      }, 50);
    });
    await notifier.extendStart(600_000, 'copying the database');
    assert.match(await sock.next(/EXTEND_TIMEOUT_USEC/), /EXTEND_TIMEOUT_USEC=600000000 STATUS=copying the database/);
    await notifier.stopping();
    await sock.next(/STOPPING=1/);
  } finally {
    sock.close();
  }
});

test('without NOTIFY_SOCKET the notifier does nothing; a watchdog meant for another pid is not ours', async () => {
  const sent: string[][] = [];
  const send = async (a: string[]) => void sent.push(a);
  const off = new SystemdNotifier({ clock: new ManualClock(), logger: silentLogger, env: {}, send });
  await off.ready('x');
  await off.extendStart(1000, 'x');
  assert.equal(off.enabled, false);
  assert.deepEqual(sent, []);
  const other = new SystemdNotifier({ clock: new ManualClock(), logger: silentLogger, env: { NOTIFY_SOCKET: '/x', WATCHDOG_USEC: '1000000', WATCHDOG_PID: '1' }, pid: 2, send });
  assert.equal(other.pingEveryMs, undefined);
});

test('the console hears about health changes: system.alert on each change of the overall status', async () => {
  const { EventBus, publishHealth } = await import('../../../services/events/index.js');
  const clock = new ManualClock();
  let temp = 50;
  const check = new HealthCheck({ clock, modules: () => ({}), probes: { temperature: temperatureProbe(async () => temp) } });
  const bus = new EventBus({ clock });
  publishHealth(bus, check);
  const alerts: unknown[] = [];
  bus.subscribe((e) => e.type === 'system.alert' && alerts.push(e.data));
  await check.run({ fresh: true });
  assert.deepEqual(alerts, [], 'a healthy start is no news');
  temp = 83;
  await check.run({ fresh: true });
  await check.run({ fresh: true });
  temp = 40;
  await check.run({ fresh: true });
  assert.deepEqual(alerts, [
    { level: 'warning', code: 'health.degraded', message: 'temperature: 83 °C, too hot' },
    { level: 'info', code: 'health.ok', message: 'health: ok' },
  ]);
  assert.equal((bus.snapshot(() => true).healthCheck as { status: string }).status, 'ok');
});

test('a probe that hangs counts as degraded after the timeout; slow probes are cached', async () => {
  const clock = new ManualClock();
  let calls = 0;
  const check = new HealthCheck({
    clock,
    modules: () => ({}),
    probeTimeoutMs: 3000,
    probes: { hang: () => new Promise(() => {}), slow: cachedProbe(async () => (calls++, { status: 'ok', message: 'slow: ok' }), clock, 30_000) },
  });
  const pending = check.run();
  await new Promise((r) => setImmediate(r));
  clock.advance(3000);
  const report = await pending;
  assert.deepEqual(report.checks.hang, { status: 'degraded', message: 'hang: no answer within 3 s' });
  assert.equal(report.status, 'degraded');
  assert.equal(clock.pendingTimers(), 0);
  const again = check.run({ fresh: true });
  await new Promise((r) => setImmediate(r));
  clock.advance(3000);
  await again;
  assert.equal(calls, 1, 'the cached probe ran once within 30 s');
});
