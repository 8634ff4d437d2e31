// name-addr / addr-spec values of From, To, Contact, Route, Record-Route, Refer-To (RFC 3261 §20.10, §25.1).
import { SipParseError } from './sip-parse-error.js';
import { formatParams, parseHeaderParams, type Params } from './params.js';
import { SipUri } from './sip-uri.js';
import { isTokenChar, isWs, quote, readQuoted, skipWs } from './syntax.js';

export class NameAddr {
  displayName: string | undefined;
  uri: SipUri;
  /** Header parameters (after the URI), e.g. tag, expires, q. */
  params: Params;

  constructor(uri: SipUri, displayName?: string, params: Params = {}) {
    this.uri = uri;
    this.displayName = displayName;
    this.params = params;
  }

  get tag(): string | undefined {
    return this.params['tag'] ?? undefined;
  }

  set tag(v: string | undefined) {
    if (v === undefined) delete this.params['tag'];
    else this.params['tag'] = v;
  }

  static parse(text: string, what = 'address'): NameAddr {
    const s = text.trim();
    let i = 0;
    let displayName: string | undefined;
    if (s.charCodeAt(0) === 34) {
      const q = readQuoted(s, 0, what);
      displayName = q.text;
      i = skipWs(s, q.end);
      if (s.charCodeAt(i) !== 60) throw new SipParseError(`${what}: display name must be followed by <URI>`);
    } else {
      const lt = s.indexOf('<');
      if (lt >= 0) {
        // display-name = *(token LWS) / quoted-string
        const dn = s.slice(0, lt).trim();
        for (let k = 0; k < dn.length; k++) {
          const c = dn.charCodeAt(k);
          if (!isTokenChar(c) && !isWs(c)) throw new SipParseError(`${what}: display name "${dn.slice(0, 40)}" must be quoted`);
        }
        if (dn !== '') displayName = dn.replace(/\s+/g, ' ');
        i = lt;
      } else {
        // addr-spec without <>: the URI ends at the first ";" and may not carry ",", "?" or ";" itself (§20.10).
        const semi = s.indexOf(';');
        const uriText = semi < 0 ? s : s.slice(0, semi).trimEnd();
        if (uriText.indexOf('?') >= 0) throw new SipParseError(`${what}: a URI with headers must be enclosed in <>`);
        if (uriText === '') throw new SipParseError(`${what} is empty`);
        const uri = SipUri.parse(uriText);
        return new NameAddr(uri, undefined, semi < 0 ? {} : parseHeaderParams(s, semi, what));
      }
    }
    const gt = s.indexOf('>', i);
    if (gt < 0) throw new SipParseError(`${what}: missing ">"`);
    const inner = s.slice(i + 1, gt);
    if (inner.length === 0 || isWs(inner.charCodeAt(0)) || isWs(inner.charCodeAt(inner.length - 1))) {
      throw new SipParseError(`${what}: no spaces allowed inside <URI>`);
    }
    const uri = SipUri.parse(inner);
    return new NameAddr(uri, displayName, parseHeaderParams(s, gt + 1, what));
  }

  clone(): NameAddr {
    return new NameAddr(this.uri.clone(), this.displayName, { ...this.params });
  }

  format(): string {
    const dn = this.displayName !== undefined && this.displayName !== '' ? quote(this.displayName) + ' ' : '';
    return `${dn}<${this.uri.format()}>${formatParams(this.params)}`;
  }

  toString(): string {
    return this.format();
  }
}
