// Common part of the two server transactions: where responses go and how they are (re)sent.
import { type SipRequest, type SipResponse } from '../message/index.js';
import { type Source, type Target } from '../transport/index.js';
import { Transaction, type TransactionContext } from './transaction.js';

export abstract class ServerTransaction<S extends string = string> extends Transaction<S> {
  protected lastResponse: Buffer | undefined;
  protected responseTarget: Target | undefined;
  /** Status of the last response sent (0 before any). */
  lastStatus = 0;
  /** Set by the TU: Timer H fired without an ACK, or a transport error ended the transaction. */
  onFailure: ((why: 'timeout' | 'transport') => void) | undefined;
  protected readonly reliable: boolean;

  protected constructor(
    key: string,
    request: SipRequest,
    readonly source: Source,
    ctx: TransactionContext,
    initial: S,
    allowed: Record<S, readonly S[]>,
  ) {
    super(key, request, ctx, initial, allowed);
    this.reliable = ctx.transport.isReliable(source.transport);
  }

  /** Sends a response through this transaction (the TU's only way to answer). */
  abstract respond(res: SipResponse): void;

  /** A retransmission of the request (or an ACK) matched this transaction; true when absorbed here. */
  abstract receiveRequest(req: SipRequest): boolean;

  protected transmit(res: SipResponse): void {
    this.lastStatus = res.status;
    this.lastResponse = res.serialize();
    this.responseTarget = this.ctx.transport.responseTarget(res, this.source);
    this.resend();
  }

  protected resend(): void {
    if (!this.lastResponse || !this.responseTarget) return;
    this.ctx.transport.sendRaw(this.lastResponse, this.responseTarget).catch((err: Error) => {
      this.ctx.log.debug('response send failed', { error: err.message });
      if (this.state !== ('Terminated' as S)) {
        this.transition('Terminated' as S);
        this.onFailure?.('transport');
      }
    });
  }

  get isTerminated(): boolean {
    return this.state === ('Terminated' as S);
  }
}
