// Non-INVITE client transaction (RFC 3261 §17.1.2, Figure 6).
import { type SipRequest, type SipResponse } from '../message/index.js';
import { type Target } from '../transport/index.js';
import { ClientTransactionBase } from './client-transaction.js';
import { type ClientTransactionUser } from './client-transaction-user.js';
import { type TransactionContext } from './transaction.js';

export type NonInviteClientState = 'Trying' | 'Proceeding' | 'Completed' | 'Terminated';

const ALLOWED: Record<NonInviteClientState, readonly NonInviteClientState[]> = {
  Trying: ['Proceeding', 'Completed', 'Terminated'],
  Proceeding: ['Completed', 'Terminated'],
  Completed: ['Terminated'],
  Terminated: [],
};

export class NonInviteClientTransaction extends ClientTransactionBase<NonInviteClientState> {
  readonly kind = 'non-INVITE client';
  private timerEInterval: number;

  constructor(key: string, request: SipRequest, target: Target, user: ClientTransactionUser, ctx: TransactionContext) {
    super(key, request, target, user, ctx, 'Trying', ALLOWED);
    this.timerEInterval = ctx.timers.T1;
  }

  start(): void {
    this.send();
    // §17.1.2.2: "The "Trying" state is entered when the TU initiates a new client transaction with a request.
    // When entering this state, the client transaction SHOULD set timer F to fire in 64*T1 seconds. ... If an
    // unreliable transport is in use, the client transaction MUST set timer E to fire in T1 seconds."
    this.startTimer('timerF', 64 * this.ctx.timers.T1, () => this.onTimerF());
    if (!this.reliable) this.startTimer('timerE', this.timerEInterval, () => this.onTimerE());
  }

  private onTimerE(): void {
    if (this.state !== 'Trying' && this.state !== 'Proceeding') return;
    // "If timer E fires while still in this state, the timer is reset, but this time with a value of
    // MIN(2*T1, T2)" ... "If Timer E fires while in the "Proceeding" state, the request MUST be passed to the
    // transport layer for retransmission, and Timer E MUST be reset with a value of T2 seconds."
    this.send();
    this.timerEInterval = this.state === 'Proceeding' ? this.ctx.timers.T2 : Math.min(2 * this.timerEInterval, this.ctx.timers.T2);
    this.startTimer('timerE', this.timerEInterval, () => this.onTimerE());
  }

  private onTimerF(): void {
    if (this.state !== 'Trying' && this.state !== 'Proceeding') return;
    this.transition('Terminated');
    this.user.timeout();
  }

  receiveResponse(res: SipResponse): void {
    if (this.state === 'Completed' || this.state === 'Terminated') return;
    if (res.status < 200) {
      if (this.state === 'Trying') this.transition('Proceeding');
      this.user.receiveResponse(res);
      return;
    }
    // "Once the client transaction enters the "Completed" state, it MUST set Timer K to fire in T4 seconds for
    // unreliable transports, and zero seconds for reliable transports."
    this.transition('Completed');
    this.stopTimer('timerE');
    this.stopTimer('timerF');
    this.startEndTimer('timerK', this.reliable ? 0 : this.ctx.timers.T4);
    this.user.receiveResponse(res);
    this.finalDelivered();
  }
}
