// The scenario interpreter's QueueGateway on the queue engine: `distribute` puts a live call in its queue (closed →
// the scenario goes on), `callback` records the caller's confirmed CallBack request keeping their place.
import type { CallSetup } from '../call/index.js';
import type { CallbackOffer, DistributeRequest, QueueGateway } from '../scenario/index.js';
import type { QueueCalls } from './queue-calls.js';
import type { QueueService } from './queue-service.js';
import type { QueueConfig } from './model.js';

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
      const q = offerQueue(offer);
      if (!q) return 'refused';
      const call = liveCall(offer);
      try {
        service.createCallback({
          number: offer.number, queueId: q.id, delayMinutes: offer.delayMinutes, linkType: 'CallBack', source: 'offer',
          ...(call ? { originCallId: call.id } : {}),
          data: { ...offer.variables, ...(offer.services.length ? { services: offer.services.join(', ') } : {}), did: offer.did },
        });
        return 'accepted';
      } catch {
        return 'refused';
      }
    },
    offerAbandoned(offer: CallbackOffer): void {
      const q = offerQueue(offer);
      const call = liveCall(offer);
      // The simulator's pretend call leaves nothing behind.
      if (!q || !call) return;
      service.offerAbandoned(q.id, offer.number, call.id, call.startedAt);
    },
  };

  /** The offer's queue, or the site's first one when the action names none. */
  function offerQueue(offer: CallbackOffer): QueueConfig | undefined {
    if (offer.queue) return service.engine.queueByName(offer.queue);
    const first = service.engine.views()[0];
    return first && service.engine.queue(first.id);
  }
}

function liveCall(offer: CallbackOffer): { id: string; startedAt: number } | undefined {
  return (offer.port as { setup?: CallSetup } | undefined)?.setup?.call;
}
