// The scenario interpreter's QueueGateway on the queue engine: simulated distribute follows the queue's state,
// a callback offer becomes a Scheduled CallBack callback keeping what the caller keyed in.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Store } from '../../../services/storage/index.js';
import { Directory } from '../../../services/directory/index.js';
import { ManualClock, Logger } from '../../../services/shared/index.js';
import { QueueService, queueGateway, type QueueCalls } from '../../../services/queue/index.js';
import type { CallPort } from '../../../services/scenario/index.js';
import { FakeLive } from './fakes.js';

test('gateway: closed queue falls through, an open one ends the (simulated) call; a callback offer is recorded', async () => {
  const clock = new ManualClock();
  const store = Store.open(':memory:');
  const dir = new Directory(store.db, 'relais.test', () => clock.now());
  const q = dir.queues.create({ name: 'support', shortNumber: '900', lostCallRules: { afterAbandon: false, afterTimeout: false, afterNoAgent: false, minWaitSeconds: 10, businessHoursOnly: false, maxAttempts: 3, retryDelayMinutes: 10 } });
  const svc = new QueueService({ db: store.db, queues: dir.queues, clock, logger: new Logger('silent'), live: new FakeLive(), pollMs: 0 });
  await svc.start();
  const gw = queueGateway(svc, {} as QueueCalls);
  const port = {} as CallPort;
  assert.equal(await gw.distribute({ queue: 'support', port, did: '0100', variables: {}, services: [] }), 'ended');
  assert.equal(await gw.distribute({ queue: 'nope', port, did: '0100', variables: {}, services: [] }), 'closed');
  dir.queues.update(q.id, { closed: true });
  svc.reload();
  assert.equal(await gw.distribute({ queue: 'support', port, did: '0100', variables: {}, services: [] }), 'closed');
  assert.equal(await gw.callback({ queue: 'support', delayMinutes: 5, number: '0612345678', did: '0100', variables: { callback_number: '0612345678' }, services: ['billing'] }), 'accepted');
  const cb = svc.callbacks.list()[0]!;
  assert.deepEqual([cb.linkType, cb.source, cb.status, cb.dueAt - clock.now()], ['CallBack', 'offer', 'scheduled', 5 * 60_000]);
  assert.deepEqual(cb.data, { callback_number: '0612345678', services: 'billing', did: '0100' });
  assert.equal(await gw.callback({ queue: 'support', delayMinutes: 0, number: 'anonymous', did: '0100', variables: {}, services: [] }), 'refused');
  await svc.stop();
  store.close();
});
