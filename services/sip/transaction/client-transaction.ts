// Common part of the two client transactions: the request bytes, the flow they go out on, transport failures.
import { type SipRequest, type SipResponse } from '../message/index.js';
import { type Source, type Target } from '../transport/index.js';
import { type ClientTransactionUser } from './client-transaction-user.js';
import { Transaction, type TransactionContext } from './transaction.js';

export abstract class ClientTransactionBase<S extends string> extends Transaction<S> {
  /**
   * The request as sent, for retransmissions until a final response arrives; dropped then (finalDelivered). A small
   * Buffer is a slice of an 8 KiB pool slab, and Timer M (32 s after a 2xx) keeping it kept the whole slab.
   */
  private bytes: Buffer | undefined;
  protected readonly reliable: boolean;
  /** The flow the request went out on (the TCP connection), reused for retransmissions, ACK and CANCEL. */
  flow: Source | undefined;

  protected constructor(
    key: string,
    request: SipRequest,
    readonly target: Target,
    protected user: ClientTransactionUser,
    ctx: TransactionContext,
    initial: S,
    allowed: Record<S, readonly S[]>,
  ) {
    super(key, request, ctx, initial, allowed);
    this.bytes = request.serialize();
    this.reliable = ctx.transport.isReliable(target.transport);
  }

  /**
   * A final response ended the request's retransmissions and reached the TU: only what the wait after it needs is
   * kept, neither the request, its bytes, nor the TU's request and response (with the datagram and pool slab under
   * each: at 400 calls/s, 11,000 of each stayed alive through Timer M; docs/performance.md, "Session 9").
   */
  protected finalDelivered(): void {
    this.releaseRequest();
    this.bytes = undefined;
    this.user = this.user.afterFinal?.() ?? this.user;
  }

  abstract start(): void;
  abstract receiveResponse(res: SipResponse): void;

  /** Hands bytes to the transport; a failure ends the transaction and is reported to the TU as such (§8.1.3.1). */
  protected send(buf: Buffer | undefined = this.bytes): void {
    if (!buf) return;
    this.ctx.transport.sendRaw(buf, this.flow ?? this.target).then(
      (flow) => {
        this.flow ??= flow;
      },
      (err: Error) => {
        if (this.state === ('Terminated' as S)) return;
        this.transition('Terminated' as S);
        this.user.transportError(err);
      },
    );
  }
}
