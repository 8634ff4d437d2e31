// Common part of the two client transactions: the request bytes, the flow they go out on, transport failures.
import { type SipRequest, type SipResponse } from '../message/index.js';
import { type Source, type Target } from '../transport/index.js';
import { type ClientTransactionUser } from './client-transaction-user.js';
import { Transaction, type TransactionContext } from './transaction.js';

export abstract class ClientTransactionBase<S extends string> extends Transaction<S> {
  protected readonly bytes: Buffer;
  protected readonly reliable: boolean;
  /** The flow the request went out on (the TCP connection), reused for retransmissions, ACK and CANCEL. */
  flow: Source | undefined;

  protected constructor(
    key: string,
    request: SipRequest,
    readonly target: Target,
    protected readonly user: ClientTransactionUser,
    ctx: TransactionContext,
    initial: S,
    allowed: Record<S, readonly S[]>,
  ) {
    super(key, request, ctx, initial, allowed);
    this.bytes = request.serialize();
    this.reliable = ctx.transport.isReliable(target.transport);
  }

  abstract start(): void;
  abstract receiveResponse(res: SipResponse): void;

  /** Hands bytes to the transport; a failure ends the transaction and is reported to the TU as such (§8.1.3.1). */
  protected send(buf: Buffer = this.bytes): void {
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
