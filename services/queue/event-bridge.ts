// Queue, agent and callback changes onto the appliance's live event bus (/api/events), with snapshots of the queues'
// live state and the pending callbacks for a console that (re)connects.
import type { EventBus } from '../events/index.js';
import type { QueueService, QueueServiceEvent } from './queue-service.js';

export function publishQueues(bus: EventBus, service: QueueService, userName: (id: number) => string | null): void {
  const queueName = (id: number): string => service.engine.queue(id)?.name ?? String(id);
  service.observer.on('event', (e: QueueServiceEvent) => {
    if (e.type.startsWith('callback.')) {
      if ('callback' in e) bus.publish('callback.changed', { id: e.callback.id, state: e.callback.status });
      return;
    }
    if (!('queueId' in e)) return;
    const { type, at: _at, queueId, ...rest } = e;
    if (type.startsWith('agent.') && 'userId' in e) {
      const state =
        e.type === 'agent.state' ? e.state : e.type === 'agent.login' ? (e.loggedIn ? 'logged_in' : 'logged_out') : e.type === 'agent.pause' ? (e.paused ? 'paused' : 'unpaused') : 'no_answer';
      bus.publish('agent.changed', { user: userName(e.userId) ?? String(e.userId), queue: queueName(queueId), state });
      return;
    }
    bus.publish('queue.changed', { queue: queueName(queueId), detail: { type, ...rest } });
  });
  bus.addSnapshotSource({ key: 'queues', audience: 'queues', read: () => service.engine.views() });
  bus.addSnapshotSource({ key: 'callbacks', audience: 'callbacks', read: () => service.callbacks.pending() });
}
