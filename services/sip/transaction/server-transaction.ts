// Common part of the two server transactions: where responses go and how they are (re)sent.
import { type SipRequest, type SipResponse } from '../message/index.js';
import { type Source, type Target } from '../transport/index.js';
import { Transaction, type TransactionContext } from './transaction.js';

export abstract class ServerTransaction<S extends string = string> extends Transaction<S> {
  /**
   * The last response as sent, kept for retransmissions as a one-byte string (latin1: every byte as is). Not the
   * Buffer: a small Buffer is a slice of an 8 KiB pool slab, and Timer J keeping it 32 s would keep the whole slab.
   */
  protected lastResponse: string | undefined;
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

  /** Sends a response and keeps it here for retransmissions. */
  protected transmit(res: SipResponse): void {
    this.lastResponse = this.transmitOnce(res).bytes.toString('latin1');
  }

  /**
   * Sends a response without keeping it; returns its bytes and destination (a final response that the layer's
   * response cache keeps instead).
   */
  protected transmitOnce(res: SipResponse): { bytes: Buffer; target: Target } {
    this.lastStatus = res.status;
    const bytes = res.serialize();
    const target = this.ctx.transport.responseTarget(res, this.source);
    this.responseTarget = target;
    this.send(bytes);
    return { bytes, target };
  }

  protected resend(): void {
    if (this.lastResponse !== undefined) this.send(Buffer.from(this.lastResponse, 'latin1'));
  }

  private send(bytes: Buffer): void {
    if (!this.responseTarget) return;
    this.ctx.transport.sendRaw(bytes, this.responseTarget).catch((err: Error) => {
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
