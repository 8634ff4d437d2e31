// The scenario interpreter's QueueGateway on the queue engine: `distribute` puts a live call in its queue (closed →
// the scenario goes on), `callback` records the caller's confirmed CallBack request keeping their place.
import type { CallSetup } from '../call/index.js';
import type { CallbackOffer, DistributeRequest, QueueGateway } from '../scenario/index.js';
import type { QueueCalls } from './queue-calls.js';
import type { QueueService } from './queue-service.js';

export function queueGateway(service: QueueService, calls: QueueCalls): QueueGateway {
  return {
    async distribute(req: DistributeRequest): Promise<'closed' | 'ended'> {
      const q = service.engine.queueByName(req.queue);
      if (!q) return 'closed';
      const setup = (req.port as { setup?: CallSetup }).setup;
      // The simulator's pretend call: closed when the queue is, else the call would end in the queue.
      if (!setup) return service.engine.availability(q.id) === 'closed' ? 'closed' : 'ended';
      return calls.distribute(setup, q.id);
    },
    async callback(offer: CallbackOffer): Promise<'accepted' | 'refused'> {
      const q = offer.queue ? service.engine.queueByName(offer.queue) : service.engine.views()[0] && service.engine.queue(service.engine.views()[0]!.id);
      if (!q) return 'refused';
      try {
        service.createCallback({
          number: offer.number, queueId: q.id, delayMinutes: offer.delayMinutes, linkType: 'CallBack', source: 'offer',
          data: { ...offer.variables, ...(offer.services.length ? { services: offer.services.join(', ') } : {}), did: offer.did },
        });
        return 'accepted';
      } catch {
        return 'refused';
      }
    },
  };
}
