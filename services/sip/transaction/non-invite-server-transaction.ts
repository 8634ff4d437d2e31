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
    this.transmit(res);
    if (res.status < 200) {
      if (this.state === 'Trying') this.transition('Proceeding');
      return;
    }
    // §17.2.2: "When the server transaction enters the "Completed" state, it MUST set Timer J to fire in 64*T1
    // seconds for unreliable transports, and zero seconds for reliable transports."
    this.transition('Completed');
    this.releaseRequest();
    this.startFixedTimer('timerJ', this.reliable ? 0 : 64 * this.ctx.timers.T1, () => this.transition('Terminated'));
  }

  receiveRequest(_req: SipRequest): boolean {
    // "Once in the "Trying" state, any further request retransmissions are discarded"; in Proceeding and
    // Completed the last response is passed to the transport layer again.
    if (this.state === 'Proceeding' || this.state === 'Completed') this.resend();
    return true;
  }
}
