// What a client transaction reports to its transaction user (the UAC core or a dialog).
import { type SipResponse } from '../message/index.js';

export interface ClientTransactionUser {
  /** Every response the TU must see (§17.1.1.2, §17.1.2.2; with RFC 6026 all 2xx of an INVITE). */
  receiveResponse(res: SipResponse): void;
  /** Timer B or F fired: the TU treats it as 408 (§8.1.3.1). */
  timeout(): void;
  /** The transport failed: the TU treats it as 503 (§8.1.3.1). */
  transportError(err: Error): void;
  /**
   * What the transaction keeps once the final response is delivered, for the wait that follows (Accepted: 32 s of
   * late 2xx; Completed). Absent: the TU itself. A TU that holds the request and its response hands over less.
   */
  afterFinal?(): ClientTransactionUser;
}
