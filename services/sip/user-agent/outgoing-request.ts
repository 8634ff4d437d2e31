// Adapts a client transaction to a promise of the final response; provisionals and late 2xx go to callbacks.
import { SipResponse, type SipRequest } from '../message/index.js';
import { type ClientTransactionUser } from '../transaction/index.js';

export class OutgoingRequest implements ClientTransactionUser {
  readonly final: Promise<SipResponse>;
  private resolve!: (res: SipResponse) => void;
  private done = false;
  /** Provisional responses, in order. */
  onProvisional: ((res: SipResponse) => void) | undefined;
  /** A 2xx after the first final response (INVITE forking or retransmission: the ACK must be resent). */
  onLate2xx: ((res: SipResponse) => void) | undefined;

  constructor(readonly request: SipRequest) {
    this.final = new Promise((r) => (this.resolve = r));
  }

  get completed(): boolean {
    return this.done;
  }

  receiveResponse(res: SipResponse): void {
    if (res.status < 200) {
      if (!this.done) this.onProvisional?.(res);
      return;
    }
    if (this.done) {
      if (res.status < 300) this.onLate2xx?.(res);
      return;
    }
    this.done = true;
    // No provisional comes after a final: let go of the callback (and of what it holds, such as the call) while
    // the transaction lives on for its own timers.
    this.onProvisional = undefined;
    this.resolve(res);
  }

  /**
   * For the transaction's wait after the final response (Timer M's 32 s after a 2xx): the late-2xx hook alone. This
   * object holds the request and, through `final`, the response, which the wait does not need.
   */
  afterFinal(): ClientTransactionUser {
    return this.onLate2xx ? new LateOnly(this.onLate2xx) : NOTHING_LATE;
  }

  timeout(): void {
    // §8.1.3.1: "If a timeout occurs ... the UAC core MUST treat this as if a 408 (Request Timeout) response had
    // been received."
    this.synthesize(408, 'Request Timeout');
  }

  transportError(err: Error): void {
    // "If a fatal transport error is reported ... the UAC core MUST treat this as a 503 (Service Unavailable)".
    this.synthesize(503, `Service Unavailable (${err.message.replace(/[\r\n]/g, ' ').slice(0, 80)})`);
  }

  private synthesize(status: number, reason: string): void {
    if (this.done) return;
    this.done = true;
    this.onProvisional = undefined;
    this.resolve(SipResponse.to(this.request, status, reason));
  }
}

/** A transaction user that only passes late 2xx to a hook (what a client transaction keeps after its final). */
class LateOnly implements ClientTransactionUser {
  constructor(private readonly late: ((res: SipResponse) => void) | undefined) {}
  receiveResponse(res: SipResponse): void {
    if (res.status >= 200 && res.status < 300) this.late?.(res);
  }
  timeout(): void {}
  transportError(): void {}
}

const NOTHING_LATE = new LateOnly(undefined);
