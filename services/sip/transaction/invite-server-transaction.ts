// INVITE server transaction (RFC 3261 §17.2.1, Figure 7; Accepted state from RFC 6026 §7.1).
import { SipResponse, type SipRequest } from '../message/index.js';
import { type Source } from '../transport/index.js';
import { ServerTransaction } from './server-transaction.js';
import { type TransactionContext } from './transaction.js';

export type InviteServerState = 'Proceeding' | 'Completed' | 'Confirmed' | 'Accepted' | 'Terminated';

const ALLOWED: Record<InviteServerState, readonly InviteServerState[]> = {
  Proceeding: ['Completed', 'Accepted', 'Terminated'],
  Completed: ['Confirmed', 'Terminated'],
  Confirmed: ['Terminated'],
  Accepted: ['Terminated'],
  Terminated: [],
};

export class InviteServerTransaction extends ServerTransaction<InviteServerState> {
  readonly kind = 'INVITE server';
  private timerGInterval: number;

  constructor(key: string, request: SipRequest, source: Source, ctx: TransactionContext) {
    super(key, request, source, ctx, 'Proceeding', ALLOWED);
    this.timerGInterval = ctx.timers.T1;
  }

  start(): void {
    // §17.2.1: "the server transaction MUST generate a 100 (Trying) response unless it knows that the TU will
    // generate a provisional or final response within 200 ms". Relais does not know what the TU (scenarios,
    // queues, trunk routing) will take, so it sends 100 Trying at once: it stops INVITE retransmissions early.
    this.transmit(SipResponse.to(this.request, 100));
  }

  respond(res: SipResponse): void {
    const s = res.status;
    switch (this.state) {
      case 'Proceeding':
        if (s < 200) {
          this.transmit(res);
          return;
        }
        if (s < 300) {
          // Sent, not kept: the UAS core retransmits its 2xx itself, and Accepted never resends (below).
          this.transmitOnce(res);
          this.lastResponse = undefined;
          // RFC 6026 §7.1: "If, while in the "Proceeding" state, the TU passes a 2xx response to the server
          // transaction, the server transaction MUST pass this response to the transport layer for transmission
          // ... and the server transaction MUST then transition to the "Accepted" state" (Timer L = 64*T1).
          this.transition('Accepted');
          // Accepted only absorbs retransmitted INVITEs and passes ACKs up: the request and the TU's failure hook
          // are not needed for Timer L's 32 s.
          this.releaseRequest();
          this.onFailure = undefined;
          this.startEndTimer('timerL', 64 * this.ctx.timers.T1);
          return;
        }
        // §17.2.1: "the server transaction MUST transition to the "Completed" state. For unreliable transports,
        // timer G is set to fire in T1 seconds ... timer H MUST be set to fire in 64*T1 seconds."
        this.transmit(res);
        this.transition('Completed');
        if (!this.reliable) this.startTimer('timerG', this.timerGInterval, () => this.onTimerG());
        this.startTimer('timerH', 64 * this.ctx.timers.T1, () => this.onTimerH());
        return;
      case 'Accepted':
        // The UAS core retransmits its 2xx (§13.3.1.4) through here while the transaction absorbs INVITEs.
        if (s >= 200 && s < 300) this.transmitOnce(res);
        return;
      default:
        return;
    }
  }

  private onTimerG(): void {
    if (this.state !== 'Completed') return;
    this.resend();
    this.timerGInterval = Math.min(2 * this.timerGInterval, this.ctx.timers.T2);
    this.startTimer('timerG', this.timerGInterval, () => this.onTimerG());
  }

  private onTimerH(): void {
    // "If timer H fires while in the "Completed" state, it implies that the ACK was never received. In this case,
    // the server transaction MUST transition to the "Terminated" state, and MUST indicate to the TU that a
    // transaction failure has occurred."
    if (this.state !== 'Completed') return;
    this.transition('Terminated');
    this.onFailure?.('timeout');
  }

  receiveRequest(req: SipRequest): boolean {
    if (req.method === 'ACK') {
      if (this.state === 'Completed') {
        // "If an ACK is received while the server transaction is in the "Completed" state, the server transaction
        // MUST transition to the "Confirmed" state"; Timer I = T4 (unreliable) or 0.
        this.transition('Confirmed');
        this.stopTimer('timerG');
        this.stopTimer('timerH');
        // Confirmed only absorbs retransmitted ACKs for Timer I: the final response is not sent again.
        this.lastResponse = undefined;
        this.startEndTimer('timerI', this.reliable ? 0 : this.ctx.timers.T4);
        return true;
      }
      // An ACK for a 2xx that reuses the INVITE branch belongs to the dialog (TU), not to us.
      return this.state !== 'Accepted';
    }
    // A retransmitted INVITE: resend the most recent provisional (Proceeding) or the final response (Completed);
    // absorbed silently when Accepted (RFC 6026 §7.1).
    if (this.state === 'Proceeding' || this.state === 'Completed') this.resend();
    return true;
  }
}
