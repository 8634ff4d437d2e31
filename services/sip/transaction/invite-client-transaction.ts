// INVITE client transaction (RFC 3261 §17.1.1, Figure 5; Accepted state from RFC 6026 §7.2).
import { SipRequest, type SipResponse } from '../message/index.js';
import { type Target } from '../transport/index.js';
import { ClientTransactionBase } from './client-transaction.js';
import { type ClientTransactionUser } from './client-transaction-user.js';
import { type TransactionContext } from './transaction.js';

export type InviteClientState = 'Calling' | 'Proceeding' | 'Completed' | 'Accepted' | 'Terminated';

const ALLOWED: Record<InviteClientState, readonly InviteClientState[]> = {
  Calling: ['Proceeding', 'Completed', 'Accepted', 'Terminated'],
  Proceeding: ['Completed', 'Accepted', 'Terminated'],
  Completed: ['Terminated'],
  Accepted: ['Terminated'],
  Terminated: [],
};

export class InviteClientTransaction extends ClientTransactionBase<InviteClientState> {
  readonly kind = 'INVITE client';
  private timerAInterval: number;
  /** The ACK for a non-2xx, as latin1 text (not a pooled Buffer slice: Timer D keeps it 32 s). */
  private ack: string | undefined;

  constructor(key: string, request: SipRequest, target: Target, user: ClientTransactionUser, ctx: TransactionContext) {
    super(key, request, target, user, ctx, 'Calling', ALLOWED);
    this.timerAInterval = ctx.timers.T1;
  }

  start(): void {
    this.send();
    // §17.1.1.2: "If an unreliable transport is being used, the client transaction MUST start timer A with a
    // value of T1 ... For any transport, the client transaction MUST start timer B with a value of 64*T1."
    if (!this.reliable) this.startTimer('timerA', this.timerAInterval, () => this.onTimerA());
    this.startTimer('timerB', 64 * this.ctx.timers.T1, () => this.onTimerB());
  }

  private onTimerA(): void {
    if (this.state !== 'Calling') return;
    // "When timer A fires, the client transaction MUST retransmit the request ... and reset the timer with a
    // value of 2*T1" (doubling each time).
    this.send();
    this.timerAInterval *= 2;
    this.startTimer('timerA', this.timerAInterval, () => this.onTimerA());
  }

  private onTimerB(): void {
    // "If the client transaction is still in the "Calling" state when timer B fires, the client transaction
    // SHOULD inform the TU that a timeout has occurred."
    if (this.state !== 'Calling') return;
    this.transition('Terminated');
    this.user.timeout();
  }

  receiveResponse(res: SipResponse): void {
    const s = res.status;
    switch (this.state) {
      case 'Calling':
      case 'Proceeding':
        if (s < 200) {
          if (this.state === 'Calling') this.transition('Proceeding');
          this.stopTimer('timerA');
          this.user.receiveResponse(res);
        } else if (s < 300) {
          // RFC 6026 §8.4: a 2xx moves the transaction to Accepted; Timer M absorbs 2xx retransmissions' lifetime.
          this.transition('Accepted');
          this.stopTimer('timerA');
          this.stopTimer('timerB');
          this.startEndTimer('timerM', 64 * this.ctx.timers.T1);
          this.user.receiveResponse(res);
          // Accepted passes 2xx retransmissions up (the dialog ACKs them); the INVITE itself is not needed again.
          this.finalDelivered();
        } else {
          // §17.1.1.2: "When in either the "Calling" or "Proceeding" states, reception of a response with status
          // code from 300-699 MUST cause the client transaction to transition to "Completed". The client
          // transaction MUST pass the received response up to the TU, and the client transaction MUST generate an
          // ACK request, even if the transport is reliable"; Timer D = 32 s for unreliable transports, else 0.
          this.transition('Completed');
          this.stopTimer('timerA');
          this.stopTimer('timerB');
          const ack = this.buildAck(res).serialize();
          this.ack = ack.toString('latin1');
          this.send(ack);
          this.startEndTimer('timerD', this.reliable ? 0 : 32_000);
          this.user.receiveResponse(res);
          this.finalDelivered();
        }
        return;
      case 'Completed':
        // "Any retransmissions of the final response that are received while in the "Completed" state MUST cause
        // the ACK to be re-passed to the transport layer for retransmission, but the newly received response MUST
        // NOT be passed up to the TU."
        if (s >= 300 && this.ack !== undefined) this.send(Buffer.from(this.ack, 'latin1'));
        return;
      case 'Accepted':
        if (s >= 200 && s < 300) this.user.receiveResponse(res);
        return;
      case 'Terminated':
        return;
    }
  }

  private buildAck(res: SipResponse): SipRequest {
    return ackForNon2xx(this.request, res);
  }

}

/**
 * §17.1.1.3: the ACK for a non-2xx final response: Request-URI, Call-ID, From, CSeq number and Route of the
 * INVITE, To of the response, and a single Via equal to the INVITE's top Via.
 */
export function ackForNon2xx(inv: SipRequest, res: SipResponse): SipRequest {
  const ack = new SipRequest('ACK', inv.uri);
  ack.headers.push({ name: 'via', value: inv.via().format() });
  ack.headers.push({ name: 'max-forwards', value: '70' });
  ack.headers.push({ name: 'from', value: inv.get('from')! });
  ack.headers.push({ name: 'to', value: res.get('to')! });
  ack.headers.push({ name: 'call-id', value: inv.callId });
  ack.headers.push({ name: 'cseq', value: `${inv.cseq.seq} ACK` });
  for (const r of inv.getAll('route')) ack.headers.push({ name: 'route', value: r });
  return ack;
}
