// The one error the message layer throws: says what is wrong, and which status a UAS should answer with.
import { RelaisError } from '../../shared/index.js';

export class SipParseError extends RelaisError {
  /** Reason text usable verbatim as a 400 reason phrase (no CR/LF). */
  readonly reason: string;
  /** Status a UAS answers with when a response is possible (400 unless the version is unknown: 505). */
  readonly sipStatus: number;

  constructor(reason: string, sipStatus = 400) {
    const clean = reason.replace(/[\r\n]+/g, ' ').slice(0, 200);
    super('sip.parse', `malformed SIP message: ${clean}`);
    this.name = 'SipParseError';
    this.reason = clean;
    this.sipStatus = sipStatus;
  }
}
