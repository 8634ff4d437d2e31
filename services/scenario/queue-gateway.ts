// The seam between the interpreter and the queue engine: `distribute` and `callback` actions go through it.
import type { CallPort } from './call-port.js';

export interface DistributeRequest {
  queue: string;
  port: CallPort;
  /** The inbound number (DID) the call came in on. */
  did: string;
  /** What the caller keyed in so far (collect_digits), e.g. callback_number. */
  variables: Record<string, string>;
  /** The menu options (services) chosen so far. */
  services: string[];
}

export interface CallbackOffer {
  /** Queue whose place the caller keeps (absent: the site's first queue, the engine decides). */
  queue?: string | undefined;
  /** Minutes before the callback may be dialled (0 = as soon as possible). */
  delayMinutes: number;
  /** Number to call back: the collected `callback_number` when keyed in, else the caller's. */
  number: string;
  did: string;
  variables: Record<string, string>;
  services: string[];
  /** The live call (LivePort) when there is one: its id links the callback or lost call to it. */
  port?: CallPort | undefined;
}

/**
 * Implemented by the queue engine (docs/calls.md "Scenario interpreter"). `distribute` resolves 'closed' when the
 * queue is closed (the scenario goes on with its next action) or 'ended' once the call ended in the queue
 * (answered by an agent, or the queue's timeout/closure handling took it). `callback` records the offer and
 * resolves with what the caller should hear ('accepted' or 'refused' — e.g. no such queue).
 */
export interface QueueGateway {
  distribute(req: DistributeRequest): Promise<'closed' | 'ended'>;
  callback(offer: CallbackOffer): Promise<'accepted' | 'refused'>;
  /**
   * The caller hung up in the offer's confirmation dialog (services/scenario/callback-dialog.ts): a lost call of the
   * queue, which its automatic rules may turn into a LostCall callback to `number` (the caller ID).
   */
  offerAbandoned?(offer: CallbackOffer): void;
}

/** Until the queue engine is installed: every queue is closed; callback offers are only recorded in the path. */
export class NoQueues implements QueueGateway {
  async distribute(): Promise<'closed'> {
    return 'closed';
  }

  async callback(): Promise<'accepted'> {
    return 'accepted';
  }
}
