// A request as a handler sees it (drachtio-srf's req): the parsed message, where it came from, CANCEL notice.
import { TypedEmitter } from '../../shared/index.js';
import { type SipRequest } from '../message/index.js';
import { type ServerTransaction } from '../transaction/index.js';
import { type Source } from '../transport/index.js';

export type IncomingRequestEvents = {
  /** A CANCEL matched this INVITE (§9.2); the stack answers the INVITE with 487 right after this event. */
  cancel: [cancel: SipRequest];
};

export class IncomingRequest extends TypedEmitter<IncomingRequestEvents> {
  /** True once a CANCEL for this INVITE arrived. */
  canceled = false;
  /** RFC 4028 outcome for an initial INVITE that asked for a session timer (the dialog arms it on 2xx). */
  sessionTimer: { interval: number; weRefresh: boolean } | undefined;

  constructor(
    readonly msg: SipRequest,
    readonly source: Source,
    /** The server transaction (undefined for an ACK); internal to the stack, exposed for diagnostics. */
    readonly tx: ServerTransaction | undefined,
  ) {
    super();
  }

  get method(): string {
    return this.msg.method;
  }

  get uri(): string {
    return this.msg.uri;
  }

  get callId(): string {
    return this.msg.callId;
  }

  get body(): string {
    return this.msg.bodyText;
  }

  get(name: string): string | undefined {
    return this.msg.get(name);
  }
}
