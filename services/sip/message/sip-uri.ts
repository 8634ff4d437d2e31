// SIP/SIPS/tel URIs (RFC 3261 §19.1, §25.1; RFC 3966): parse and format, with other schemes kept opaque.
import { SipParseError } from './sip-parse-error.js';
import { type Params } from './params.js';

const HOST_CHAR = new Uint8Array(128);
for (let c = 0; c < 128; c++) if (/[A-Za-z0-9\-.]/.test(String.fromCharCode(c))) HOST_CHAR[c] = 1;

// Characters a user part may carry unescaped: unreserved / user-unreserved (§25.1).
const USER_SAFE = /[^A-Za-z0-9\-_.!~*'()&=+$,;?/]/g;
// Characters a header value (hvalue) may carry unescaped: unreserved / hnv-unreserved.
const HVALUE_SAFE = /[^A-Za-z0-9\-_.!~*'()[\]/?:+$]/g;

function percentDecode(s: string): string {
  if (s.indexOf('%') < 0) return s;
  try {
    return decodeURIComponent(s);
  } catch {
    // Not valid UTF-8 once decoded (e.g. %FF): decode byte by byte as Latin-1 instead.
    return s.replace(/%([0-9A-Fa-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
  }
}

function percentEncode(s: string, unsafe: RegExp): string {
  return s.replace(unsafe, (ch) => {
    const bytes = Buffer.from(ch, 'utf8');
    let out = '';
    for (const b of bytes) out += '%' + (b < 16 ? '0' : '') + b.toString(16).toUpperCase();
    return out;
  });
}

const NO_INIT: Partial<SipUri> = Object.freeze({});

export class SipUri {
  /** Lower-case scheme: 'sip', 'sips', 'tel' or any other (then only `opaque` is meaningful). */
  scheme: string;
  /** Percent-decoded user part (the number for tel:). */
  user: string | undefined;
  password: string | undefined;
  /** Host name, IPv4 address or bracketed IPv6 reference ("[::1]"), as written. */
  host: string;
  port: number | undefined;
  params: Params;
  /** URI headers after "?", percent-decoded (e.g. Replaces in a Refer-To). */
  headers: Record<string, string>;
  /** Everything after "scheme:" for schemes this stack does not interpret. */
  opaque: string | undefined;

  constructor(init: Partial<Pick<SipUri, 'scheme' | 'user' | 'password' | 'host' | 'port' | 'params' | 'headers' | 'opaque'>> = NO_INIT) {
    this.scheme = init.scheme ?? 'sip';
    this.user = init.user;
    this.password = init.password;
    this.host = init.host ?? '';
    this.port = init.port;
    this.params = init.params ?? {};
    this.headers = init.headers ?? {};
    this.opaque = init.opaque;
  }

  static parse(text: string): SipUri {
    const colon = text.indexOf(':');
    if (colon <= 0) throw new SipParseError(`URI "${text.slice(0, 60)}" has no scheme`);
    const scheme = text.slice(0, colon).toLowerCase();
    for (let i = 0; i < scheme.length; i++) {
      const c = scheme.charCodeAt(i);
      // scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
      const ok = (c >= 97 && c <= 122) || (i > 0 && ((c >= 48 && c <= 57) || c === 43 || c === 45 || c === 46));
      if (!ok) throw new SipParseError(`URI "${text.slice(0, 60)}" has an invalid scheme`);
    }
    for (let i = colon + 1; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c <= 32 || c === 60 || c === 62 || c === 34 || c === 127) {
        throw new SipParseError(`URI "${text.slice(0, 60)}" contains a space or a character that must be escaped`);
      }
    }
    const rest = text.slice(colon + 1);
    if (scheme === 'sip' || scheme === 'sips') return SipUri.parseSip(scheme, rest, text);
    if (scheme === 'tel') {
      const semi = rest.indexOf(';');
      const number = semi < 0 ? rest : rest.slice(0, semi);
      if (number === '') throw new SipParseError(`tel URI "${text.slice(0, 60)}" has no number`);
      return new SipUri({ scheme, user: percentDecode(number), params: semi < 0 ? {} : parseUriParams(rest.slice(semi), text) });
    }
    if (rest === '') throw new SipParseError(`URI "${text.slice(0, 60)}" is empty after the scheme`);
    return new SipUri({ scheme, opaque: rest });
  }

  private static parseSip(scheme: string, rest: string, text: string): SipUri {
    const uri = new SipUri();
    uri.scheme = scheme;
    let hostStart = 0;
    const at = rest.indexOf('@');
    if (at >= 0) {
      const userinfo = rest.slice(0, at);
      const pc = userinfo.indexOf(':');
      const user = pc < 0 ? userinfo : userinfo.slice(0, pc);
      if (user === '') throw new SipParseError(`SIP URI "${text.slice(0, 60)}" has an empty user part`);
      uri.user = percentDecode(user);
      if (pc >= 0) uri.password = percentDecode(userinfo.slice(pc + 1));
      hostStart = at + 1;
    }
    let i = hostStart;
    if (rest.charCodeAt(i) === 91) {
      const close = rest.indexOf(']', i);
      if (close < 0) throw new SipParseError(`SIP URI "${text.slice(0, 60)}" has an unterminated IPv6 reference`);
      const inner = rest.slice(i + 1, close);
      if (!/^[0-9A-Fa-f:.]+$/.test(inner) || inner.indexOf(':') < 0) {
        throw new SipParseError(`SIP URI "${text.slice(0, 60)}" has an invalid IPv6 reference`);
      }
      i = close + 1;
    } else {
      while (i < rest.length && HOST_CHAR[rest.charCodeAt(i)] === 1) i++;
    }
    uri.host = rest.slice(hostStart, i);
    if (uri.host === '') throw new SipParseError(`SIP URI "${text.slice(0, 60)}" has no host`);
    if (i < rest.length && rest.charCodeAt(i) === 58) {
      const ps = ++i;
      while (i < rest.length && rest.charCodeAt(i) >= 48 && rest.charCodeAt(i) <= 57) i++;
      const port = Number(rest.slice(ps, i));
      if (i === ps || i - ps > 5 || port > 65535) {
        throw new SipParseError(`SIP URI "${text.slice(0, 60)}" has an invalid port`);
      }
      uri.port = port;
    }
    const q = rest.indexOf('?', i);
    const paramEnd = q < 0 ? rest.length : q;
    if (i < paramEnd) {
      if (rest.charCodeAt(i) !== 59) throw new SipParseError(`SIP URI "${text.slice(0, 60)}" has an invalid host`);
      uri.params = parseUriParams(rest.slice(i, paramEnd), text);
    }
    if (q >= 0) {
      for (const pair of rest.slice(q + 1).split('&')) {
        const eq = pair.indexOf('=');
        if (eq <= 0) throw new SipParseError(`SIP URI "${text.slice(0, 60)}" has an invalid header part`);
        uri.headers[percentDecode(pair.slice(0, eq))] = percentDecode(pair.slice(eq + 1));
      }
    }
    return uri;
  }

  /** Whether this URI names a SIP entity (sip: or sips:). */
  get isSip(): boolean {
    return this.scheme === 'sip' || this.scheme === 'sips';
  }

  /** The `transport` URI parameter, lower-case, if any. */
  get transport(): string | undefined {
    const t = this.params['transport'];
    return t ? t.toLowerCase() : undefined;
  }

  hasHeaders(): boolean {
    for (const _ in this.headers) return true;
    return false;
  }

  clone(): SipUri {
    return new SipUri({ ...this, params: { ...this.params }, headers: { ...this.headers } });
  }

  format(): string {
    if (this.opaque !== undefined) return `${this.scheme}:${this.opaque}`;
    let out = this.scheme + ':';
    if (this.scheme === 'tel') {
      out += this.user ?? '';
    } else {
      if (this.user !== undefined) {
        out += percentEncode(this.user, USER_SAFE);
        if (this.password !== undefined) out += ':' + percentEncode(this.password, USER_SAFE);
        out += '@';
      }
      out += this.host;
      if (this.port !== undefined) out += ':' + this.port;
    }
    for (const k in this.params) {
      const v = this.params[k];
      out += v === null || v === undefined ? `;${k}` : `;${k}=${v}`;
    }
    let sep = '?';
    for (const k in this.headers) {
      out += sep + percentEncode(k, HVALUE_SAFE) + '=' + percentEncode(this.headers[k]!, HVALUE_SAFE);
      sep = '&';
    }
    return out;
  }

  toString(): string {
    return this.format();
  }
}

function parseUriParams(s: string, text: string): Params {
  const params: Params = {};
  // s starts with ';'
  const parts = s.slice(1).split(';');
  for (const part of parts) {
    if (part === '') throw new SipParseError(`URI "${text.slice(0, 60)}" has an empty parameter`);
    const eq = part.indexOf('=');
    if (eq === 0) throw new SipParseError(`URI "${text.slice(0, 60)}" has a parameter without a name`);
    if (eq < 0) params[part.toLowerCase()] = null;
    else params[part.slice(0, eq).toLowerCase()] = part.slice(eq + 1);
  }
  return params;
}
