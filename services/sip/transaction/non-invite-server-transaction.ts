// Non-INVITE server transaction (RFC 3261 §17.2.2, Figure 8).
import { type SipRequest, type SipResponse } from '../message/index.js';
import { type Source } from '../transport/index.js';
import { ServerTransaction } from './server-transaction.js';
import { type TransactionContext } from './transaction.js';

export type NonInviteServerState = 'Trying' | 'Proceeding' | 'Completed' | 'Terminated';

const ALLOWED: Record<NonInviteServerState, readonly NonInviteServerState[]> = {
  Trying: ['Proceeding', 'Completed', 'Terminated'],
  Proceeding: ['Completed', 'Terminated'],
  Completed: ['Terminated'],
  Terminated: [],
};

export class NonInviteServerTransaction extends ServerTransaction<NonInviteServerState> {
  readonly kind = 'non-INVITE server';

  constructor(key: string, request: SipRequest, source: Source, ctx: TransactionContext) {
    super(key, request, source, ctx, 'Trying', ALLOWED);
  }

  respond(res: SipResponse): void {
    if (this.state === 'Completed' || this.state === 'Terminated') return;
    if (res.status < 200) {
      this.transmit(res);
      if (this.state === 'Trying') this.transition('Proceeding');
      return;
    }
    // §17.2.2: "When the server transaction enters the "Completed" state, it MUST set Timer J to fire in 64*T1
    // seconds for unreliable transports, and zero seconds for reliable transports."
    const sent = this.transmitOnce(res);
    this.transition('Completed');
    this.releaseRequest();
    this.ctx.onAnswered?.(this);
    if (this.reliable) {
      this.startEndTimer('timerJ', 0);
      return;
    }
    // §8.2.7: "the most common use of a stateless UAS is to respond to an unauthenticated REQUEST with a
    // WWW-Authenticate challenge": nothing kept, a retransmission gets a challenge of its own (docs/sip-services.md).
    if (res.stateless) {
      this.transition('Terminated');
      return;
    }
    // Completed only resends the final response: the layer's response cache does that for Timer J's 64*T1 without
    // keeping this object (see ResponseCache), and the transaction is over for everything else.
    if (this.ctx.retainFinal?.(this.key, sent.bytes, sent.target)) {
      this.transition('Terminated');
      return;
    }
    this.lastResponse = sent.bytes.toString('latin1');
    this.startEndTimer('timerJ', 64 * this.ctx.timers.T1);
  }

  receiveRequest(_req: SipRequest): boolean {
    // "Once in the "Trying" state, any further request retransmissions are discarded"; in Proceeding and
    // Completed the last response is passed to the transport layer again.
    if (this.state === 'Proceeding' || this.state === 'Completed') this.resend();
    return true;
  }
}
