// A SIP failure as an exception: final non-2xx status of an outgoing INVITE/request, or a status a handler throws.
import { reasonPhrase, type SipResponse } from '../message/index.js';

export class SipError extends Error {
  readonly status: number;
  readonly reason: string;
  /** The response that caused it, when one arrived (408/503 synthesized on timeout/transport failure have one too). */
  readonly res: SipResponse | undefined;

  constructor(status: number, reason?: string, res?: SipResponse) {
    const r = reason ?? reasonPhrase(status);
    super(`SIP ${status} ${r}`);
    this.name = 'SipError';
    this.status = status;
    this.reason = r;
    this.res = res;
  }
}
