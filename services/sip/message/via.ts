// Via header values (RFC 3261 §20.42, §18.2, RFC 3581 rport/received): sent-protocol, sent-by, parameters.
import { SipParseError } from './sip-parse-error.js';
import { formatParams, parseHeaderParams, type Params } from './params.js';
import { isTokenChar, skipWs } from './syntax.js';

/** The magic cookie that marks an RFC 3261 branch (§8.1.1.7). */
export const BRANCH_COOKIE = 'z9hG4bK';

export class Via {
  /** "SIP/2.0" */
  protocol: string;
  /** Upper-case transport: UDP, TCP, TLS, SCTP, WS, WSS or an extension token. */
  transport: string;
  host: string;
  port: number | undefined;
  params: Params;

  constructor(transport: string, host: string, port?: number, params: Params = {}, protocol = 'SIP/2.0') {
    this.protocol = protocol;
    this.transport = transport.toUpperCase();
    this.host = host;
    this.port = port;
    this.params = params;
  }

  get branch(): string | undefined {
    return this.params['branch'] ?? undefined;
  }

  /** The rport parameter: null when present without a value (a client asking for it), a number once filled. */
  get rport(): number | null | undefined {
    if (!('rport' in this.params)) return undefined;
    const v = this.params['rport'];
    return v === null || v === undefined ? null : Number(v);
  }

  get received(): string | undefined {
    return this.params['received'] ?? undefined;
  }

  static parse(text: string): Via {
    const s = text;
    let i = skipWs(s, 0);
    const tokens: string[] = [];
    // sent-protocol = protocol-name SLASH protocol-version SLASH transport, LWS allowed around the slashes.
    for (let n = 0; n < 3; n++) {
      i = skipWs(s, i);
      const start = i;
      while (i < s.length && isTokenChar(s.charCodeAt(i))) i++;
      if (i === start) throw new SipParseError(`Via "${text.trim().slice(0, 60)}" has no valid sent-protocol`);
      tokens.push(s.slice(start, i));
      i = skipWs(s, i);
      if (n < 2) {
        if (s.charCodeAt(i) !== 47) throw new SipParseError(`Via "${text.trim().slice(0, 60)}" has no valid sent-protocol`);
        i++;
      }
    }
    const protocol = `${tokens[0]!.toUpperCase()}/${tokens[1]}`;
    if (tokens[0]!.toUpperCase() !== 'SIP') throw new SipParseError(`Via protocol "${tokens[0]}" is not SIP`);
    if (tokens[1] !== '2.0') throw new SipParseError(`Via protocol version ${tokens[1]} is not supported`, 505);
    i = skipWs(s, i);
    const hostStart = i;
    if (s.charCodeAt(i) === 91) {
      const close = s.indexOf(']', i);
      if (close < 0) throw new SipParseError('Via sent-by has an unterminated IPv6 reference');
      i = close + 1;
    } else {
      while (i < s.length) {
        const c = s.charCodeAt(i);
        if ((c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 45 || c === 46) i++;
        else break;
      }
    }
    const host = s.slice(hostStart, i);
    if (host === '') throw new SipParseError(`Via "${text.trim().slice(0, 60)}" has no sent-by host`);
    let port: number | undefined;
    i = skipWs(s, i);
    if (s.charCodeAt(i) === 58) {
      i = skipWs(s, i + 1);
      const ps = i;
      while (i < s.length && s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57) i++;
      port = Number(s.slice(ps, i));
      if (i === ps || i - ps > 5 || port > 65535) throw new SipParseError(`Via sent-by port is invalid`);
    }
    const params = parseHeaderParams(s, i, 'Via');
    return new Via(tokens[2]!, host, port, params, protocol);
  }

  format(): string {
    return `${this.protocol}/${this.transport} ${this.host}${this.port !== undefined ? ':' + this.port : ''}${formatParams(this.params)}`;
  }

  toString(): string {
    return this.format();
  }
}
