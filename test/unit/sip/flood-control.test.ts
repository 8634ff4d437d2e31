// FloodControl: token bucket per source before parsing, tiers (box exempt, phones 10x), a shared budget for
// unknown sources, and a report once a normal source has sent twice its rate for a second.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../../services/shared/index.js';
import { FloodControl, type FloodTier } from '../../../services/sip/index.js';

function control(tiers: Record<string, FloodTier> = {}, opts: { globalRate?: number } = {}) {
  const clock = new ManualClock();
  const floods: string[] = [];
  const fc = new FloodControl({ clock, ratePerSource: 100, tierOf: (a) => tiers[a] ?? 'normal', onFlood: (a) => floods.push(a), ...opts });
  const send = (address: string, n: number): number => {
    let admitted = 0;
    for (let i = 0; i < n; i++) if (fc.admit(address)) admitted++;
    return admitted;
  };
  return { clock, fc, floods, send };
}

test('flood control: a normal source gets its burst at once, then its rate; the box itself is never limited', () => {
  const { clock, fc, send } = control({ '127.0.0.1': 'exempt' });
  assert.equal(send('192.0.2.1', 1000), 200, 'burst = 2 x rate');
  clock.advance(500);
  assert.equal(send('192.0.2.1', 1000), 50, 'half a second of rate');
  assert.equal(send('127.0.0.1', 100_000), 100_000);
  assert.equal(fc.counters.dropped, 1750);
});

test('flood control: registered phones (trusted) get ten times the budget and are never reported', () => {
  const { fc, floods, send } = control({ '198.51.100.7': 'trusted' });
  assert.equal(send('198.51.100.7', 5000), 2000);
  assert.deepEqual(floods, []);
  assert.equal(fc.counters.floods, 0);
});

test('flood control: twice the rate sustained for a second is reported once per second', () => {
  const { clock, floods, send } = control();
  // 20 000 messages per second in 1 ms steps: the bucket empties at once, 100 further drops make the report.
  for (let ms = 0; ms < 2000; ms++) {
    send('203.0.113.66', 20);
    clock.advance(1);
  }
  assert.deepEqual(floods, ['203.0.113.66', '203.0.113.66']);
});

test('flood control: the shared budget of unknown sources is spent before anyone is over their own', () => {
  const { fc, send } = control({ '198.51.100.7': 'trusted' }, { globalRate: 300 });
  let admitted = 0;
  for (let i = 0; i < 10; i++) admitted += send(`192.0.2.${i}`, 100);
  assert.equal(admitted, 300);
  assert.equal(fc.counters.shed, 700);
  assert.equal(send('198.51.100.7', 10), 10, 'trusted sources do not draw on it');
  fc.forget('192.0.2.0');
  assert.equal(fc.tracked, 10);
});

test('flood control: rate 0 is off', () => {
  const fc = new FloodControl({ clock: new ManualClock(), ratePerSource: 0, tierOf: () => 'normal' });
  assert.equal(fc.enabled, false);
});
