// The answer side of an incoming request (drachtio-srf's res): send(status, reason, {headers, body}).
import { type Logger } from '../../shared/index.js';
import { SipResponse, sipToken, type HeaderInit } from '../message/index.js';
import { type ServerTransaction } from '../transaction/index.js';
import { type TransportKind } from '../transport/index.js';
import { type IncomingRequest } from './incoming-request.js';

export interface SendOptions {
  headers?: HeaderInit;
  body?: Buffer | string;
  contentType?: string;
  /** A final response sent as a stateless UAS would (RFC 3261 §8.2.7): not kept for retransmissions of the request. */
  stateless?: boolean;
}

/** What a ServerResponse needs from the stack. */
export interface ResponseHost {
  readonly log: Logger;
  /** Our Contact header value for a flow on `transport` (user part optional). */
  contactFor(transport: TransportKind, user?: string): string;
  readonly userAgent: string;
}

const DIALOG_METHODS = new Set(['INVITE', 'SUBSCRIBE', 'REFER', 'NOTIFY', 'UPDATE']);

export class ServerResponse {
  /** The To tag every response of this request carries (provisionals and final share it, §8.2.6.2). */
  readonly toTag: string;
  /** True once a final (≥ 200) response went out. */
  sent = false;
  /** Status of the last response sent (0 before any). */
  status = 0;
  /** The last response sent. */
  last: SipResponse | undefined;
  /** Hooks run after each response is handed to the transaction (the dialog layer watches 2xx here). */
  readonly afterSend: Array<(res: SipResponse) => void> = [];
  /** Headers the stack adds to a 2xx, whoever sends it (Session-Expires and Require: timer, RFC 4028 §9). */
  readonly on2xx: Array<[string, string]> = [];

  constructor(
    private readonly host: ResponseHost,
    readonly req: IncomingRequest,
    private readonly tx: ServerTransaction | undefined,
  ) {
    this.toTag = req.msg.to().tag ?? sipToken(6);
  }

  /**
   * Sends a response through the server transaction. A second final response is ignored (logged at debug):
   * the first final wins, as on the wire.
   */
  send(status: number, reason?: string | SendOptions, opts: SendOptions = {}): SipResponse | undefined {
    // drachtio-srf style send(status, {headers, body}) as well as send(status, reason, {...}).
    if (typeof reason === 'object') {
      opts = reason;
      reason = undefined;
    }
    if (this.sent) {
      this.host.log.debug('response ignored: a final response was already sent', { status, callId: this.req.callId });
      return undefined;
    }
    if (!this.tx) return undefined;
    if (!Number.isInteger(status) || status < 100 || status > 699) throw new RangeError(`SIP status ${status} is not 100-699`);
    const req = this.req.msg;
    const res = SipResponse.to(req, status, reason, this.toTag);
    if (status > 100 && status < 300 && DIALOG_METHODS.has(req.method)) {
      // §12.1.1: "The UAS MUST copy all Record-Route header field values from the request into the response";
      // the Contact of the response names us as the remote target of the dialog.
      for (const rr of req.getAll('record-route')) res.append('record-route', rr);
      const hasContact = opts.headers && (Array.isArray(opts.headers) ? opts.headers.some(([k]) => /^(contact|m)$/i.test(k)) : Object.keys(opts.headers).some((k) => /^(contact|m)$/i.test(k)));
      if (!hasContact) res.append('contact', this.host.contactFor(this.req.source.transport, safeUser(req)));
    }
    res.append('server', this.host.userAgent);
    res.addHeaders(opts.headers);
    if (status >= 200 && status < 300) for (const [k, v] of this.on2xx) res.append(k, v);
    if (opts.body !== undefined) res.setBody(opts.body, opts.contentType ?? (res.contentType ? undefined : 'application/sdp'));
    this.status = status;
    this.last = res;
    if (status >= 200) this.sent = true;
    if (opts.stateless && status >= 200) res.stateless = true;
    this.tx.respond(res);
    for (const h of this.afterSend) h(res);
    return res;
  }
}

function safeUser(req: IncomingRequest['msg']): string | undefined {
  try {
    const u = req.ruri.user;
    return u && /^[A-Za-z0-9+*#._-]+$/.test(u) ? u : undefined;
  } catch {
    return undefined;
  }
}
