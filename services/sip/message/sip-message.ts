// SIP requests and responses (RFC 3261 §7): ordered headers with case-insensitive access, typed views parsed lazily.
import { canonicalHeaderName, isListHeader, normalizeHeaderName } from './header-names.js';
import { NameAddr } from './name-addr.js';
import { reasonPhrase } from './reason-phrases.js';
import { SipParseError } from './sip-parse-error.js';
import { SipUri } from './sip-uri.js';
import { parseCSeq, type CSeq } from './cseq.js';
import { isToken, parseDecimal, splitList } from './syntax.js';
import { Via } from './via.js';

/** One header line as received or set: lower-case long name and its raw value (folding already undone). */
export interface HeaderField {
  name: string;
  value: string;
}

/** Header input accepted by constructors and send(): a record or ordered pairs; arrays give several lines. */
export type HeaderInit = Record<string, string | number | string[] | undefined> | Array<[string, string | number]>;

export abstract class SipMessage {
  readonly headers: HeaderField[] = [];
  body: Buffer = EMPTY;
  private cache: {
    vias?: Via[];
    from?: NameAddr;
    to?: NameAddr;
    cseq?: CSeq;
    contacts?: NameAddr[];
  } = {};

  abstract get isRequest(): boolean;
  abstract startLine(): string;

  // ---- raw header access -------------------------------------------------------------------------------------

  has(name: string): boolean {
    const n = normalizeHeaderName(name);
    for (const h of this.headers) if (h.name === n) return true;
    return false;
  }

  /** The first value (for list headers, the first comma-separated element). */
  get(name: string): string | undefined {
    const n = normalizeHeaderName(name);
    for (const h of this.headers) {
      if (h.name === n) return isListHeader(n) ? (splitList(h.value, canonicalHeaderName(n))[0] ?? '') : h.value;
    }
    return undefined;
  }

  /** Every value in order; list headers are split on top-level commas, quotes and <> respected. */
  getAll(name: string): string[] {
    const n = normalizeHeaderName(name);
    const list = isListHeader(n);
    const out: string[] = [];
    for (const h of this.headers) {
      if (h.name !== n) continue;
      if (list) for (const v of splitList(h.value, canonicalHeaderName(n))) out.push(v);
      else out.push(h.value);
    }
    return out;
  }

  /** Replaces every line of `name` with the given value(s), keeping the position of the first one. */
  set(name: string, value: string | number | string[]): this {
    const n = checkedName(name);
    const headers = this.headers;
    let at = -1;
    for (let i = 0; i < headers.length; i++) {
      if (headers[i]!.name === n) {
        at = i;
        break;
      }
    }
    if (at < 0 && !Array.isArray(value)) {
      // The usual case when building a message: a header not there yet.
      headers.push({ name: n, value: checkedValue(n, String(value)) });
    } else {
      const values = Array.isArray(value) ? value.map((v) => checkedValue(n, v)) : [checkedValue(n, String(value))];
      this.removeNormalized(n);
      if (at < 0 || at > headers.length) at = headers.length;
      headers.splice(at, 0, ...values.map((v) => ({ name: n, value: v })));
    }
    this.invalidate(n);
    return this;
  }

  /**
   * Drops the parsed view a change of header `n` makes stale, and only that one: a response gets its Contact and
   * WWW-Authenticate after shareViasOf(), and routing it must not parse the Via again.
   */
  private invalidate(n: string): void {
    const c = this.cache;
    if (n === 'via') c.vias = undefined;
    else if (n === 'from') c.from = undefined;
    else if (n === 'to') c.to = undefined;
    else if (n === 'cseq') c.cseq = undefined;
    else if (n === 'contact') c.contacts = undefined;
  }

  /**
   * Takes the parsed Via list of `other` (a response built from its request has the same Via lines): the top Via
   * is then not parsed a second time to route the response.
   */
  shareViasOf(other: SipMessage): this {
    const v = other.cache.vias;
    if (v) this.cache.vias = v;
    return this;
  }

  append(name: string, value: string | number): this {
    const n = checkedName(name);
    this.headers.push({ name: n, value: checkedValue(n, String(value)) });
    this.invalidate(n);
    return this;
  }

  /** Adds a line before every other line of the same header (Via, Record-Route are prepended by proxies). */
  prepend(name: string, value: string): this {
    const n = checkedName(name);
    const at = this.headers.findIndex((h) => h.name === n);
    this.headers.splice(at < 0 ? this.headers.length : at, 0, { name: n, value: checkedValue(n, value) });
    this.cache = {};
    return this;
  }

  remove(name: string): this {
    this.removeNormalized(normalizeHeaderName(name));
    this.cache = {};
    return this;
  }

  private removeNormalized(n: string): void {
    for (let i = this.headers.length - 1; i >= 0; i--) if (this.headers[i]!.name === n) this.headers.splice(i, 1);
  }

  /** Adds headers from a record or pair list (arrays in a record give one line each). */
  addHeaders(init: HeaderInit | undefined): this {
    if (!init) return this;
    if (Array.isArray(init)) {
      for (const [k, v] of init) this.append(k, v);
    } else {
      for (const k of Object.keys(init)) {
        const v = init[k];
        if (v === undefined) continue;
        this.set(k, Array.isArray(v) ? v : String(v));
      }
    }
    return this;
  }

  // ---- typed views ---------------------------------------------------------------------------------------------

  /** The top Via (the one naming the previous hop). */
  via(): Via {
    const v = this.vias()[0];
    if (!v) throw new SipParseError('missing Via header');
    return v;
  }

  /** Rewrites the top Via in place (received/rport on arrival, §18.2.1 and RFC 3581 §4), other Vias untouched. */
  setTopVia(via: Via): this {
    const i = this.headers.findIndex((h) => h.name === 'via');
    if (i < 0) {
      this.headers.push({ name: 'via', value: via.format() });
    } else {
      const h = this.headers[i]!;
      const parts = h.value.indexOf(',') < 0 ? [h.value] : splitList(h.value, 'Via');
      parts[0] = via.format();
      h.value = parts.join(', ');
    }
    this.cache = {};
    return this;
  }

  vias(): Via[] {
    return (this.cache.vias ??= this.getAll('via').map((v) => Via.parse(v)));
  }

  from(): NameAddr {
    return (this.cache.from ??= this.single('from', 'From'));
  }

  to(): NameAddr {
    return (this.cache.to ??= this.single('to', 'To'));
  }

  private single(n: string, what: string): NameAddr {
    let found: string | undefined;
    for (const h of this.headers) {
      if (h.name !== n) continue;
      if (found !== undefined) throw new SipParseError(`more than one ${what} header`);
      found = h.value;
    }
    if (found === undefined) throw new SipParseError(`missing ${what} header`);
    return NameAddr.parse(found, what);
  }

  get callId(): string {
    const v = this.get('call-id');
    if (v === undefined || v === '') throw new SipParseError('missing Call-ID header');
    return v;
  }

  get cseq(): CSeq {
    if (this.cache.cseq) return this.cache.cseq;
    const v = this.get('cseq');
    if (v === undefined) throw new SipParseError('missing CSeq header');
    return (this.cache.cseq = parseCSeq(v));
  }

  /** Contact addresses; empty for "Contact: *" (see isContactWildcard) or when absent. */
  contacts(): NameAddr[] {
    if (this.cache.contacts) return this.cache.contacts;
    const out: NameAddr[] = [];
    for (const v of this.getAll('contact')) {
      if (v === '*') continue;
      out.push(NameAddr.parse(v, 'Contact'));
    }
    return (this.cache.contacts = out);
  }

  /** "Contact: *" (RFC 3261 §10.2.2: remove all bindings, only with Expires: 0). */
  isContactWildcard(): boolean {
    const all = this.getAll('contact');
    return all.length === 1 && all[0] === '*';
  }

  routes(): NameAddr[] {
    return this.getAll('route').map((v) => NameAddr.parse(v, 'Route'));
  }

  recordRoutes(): NameAddr[] {
    return this.getAll('record-route').map((v) => NameAddr.parse(v, 'Record-Route'));
  }

  /** The Expires header in seconds, if present (values above 2^32-1 are rejected as malformed). */
  get expires(): number | undefined {
    const v = this.get('expires');
    return v === undefined ? undefined : parseDecimal(v, 2 ** 32 - 1, 'Expires');
  }

  get maxForwards(): number | undefined {
    const v = this.get('max-forwards');
    return v === undefined ? undefined : parseDecimal(v, 255, 'Max-Forwards');
  }

  get contentType(): string | undefined {
    return this.get('content-type');
  }

  get bodyText(): string {
    return this.body.toString('utf8');
  }

  /** Sets the body and its Content-Type (Content-Length is computed on serialize). */
  setBody(body: Buffer | string, contentType?: string): this {
    this.body = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    if (contentType) this.set('content-type', contentType);
    else if (this.body.length === 0) this.remove('content-type');
    return this;
  }

  // ---- wire format -------------------------------------------------------------------------------------------

  /** Bytes on the wire; Content-Length always matches the body. */
  serialize(): Buffer {
    let head = this.startLine() + '\r\n';
    for (const h of this.headers) {
      if (h.name === 'content-length') continue;
      head += canonicalHeaderName(h.name) + ': ' + h.value + '\r\n';
    }
    head += 'Content-Length: ' + this.body.length + '\r\n\r\n';
    if (this.body.length === 0) return Buffer.from(head, 'utf8');
    return Buffer.concat([Buffer.from(head, 'utf8'), this.body]);
  }

  toString(): string {
    return this.serialize().toString('utf8');
  }

  protected copyHeadersFrom(other: SipMessage): void {
    for (const h of other.headers) this.headers.push({ name: h.name, value: h.value });
    this.body = other.body;
  }
}

const EMPTY = Buffer.alloc(0);

/** Header names set by code must be tokens: anything else would corrupt the message on the wire. */
function checkedName(name: string): string {
  if (!isToken(name)) throw new RangeError(`SIP header name "${name.slice(0, 40)}" is not a token`);
  return normalizeHeaderName(name);
}

/** A CR or LF in a value set by code would end the header early (header injection): refuse it. */
function checkedValue(name: string, value: string): string {
  if (value.indexOf('\r') >= 0 || value.indexOf('\n') >= 0) throw new RangeError(`SIP header ${name} value contains CR/LF`);
  return value;
}

export interface SipRequestInit {
  method: string;
  uri: string | SipUri;
  headers?: HeaderInit;
  body?: Buffer | string;
  contentType?: string;
}

export class SipRequest extends SipMessage {
  method: string;
  private uriText: string;
  private parsedUri: SipUri | undefined;

  constructor(method: string, uri: string | SipUri) {
    super();
    this.method = method;
    this.uriText = typeof uri === 'string' ? uri : uri.format();
    this.parsedUri = typeof uri === 'string' ? undefined : uri;
  }

  static create(init: SipRequestInit): SipRequest {
    const r = new SipRequest(init.method, init.uri);
    r.addHeaders(init.headers);
    if (init.body !== undefined) r.setBody(init.body, init.contentType);
    return r;
  }

  get isRequest(): boolean {
    return true;
  }

  /** The Request-URI as written. */
  get uri(): string {
    return this.uriText;
  }

  set uri(v: string) {
    this.uriText = v;
    this.parsedUri = undefined;
  }

  /** The Request-URI parsed (throws SipParseError when it is not a URI). */
  get ruri(): SipUri {
    return (this.parsedUri ??= SipUri.parse(this.uriText));
  }

  set ruri(u: SipUri) {
    this.parsedUri = u;
    this.uriText = u.format();
  }

  startLine(): string {
    return `${this.method} ${this.uriText} SIP/2.0`;
  }

  clone(): SipRequest {
    const r = new SipRequest(this.method, this.uriText);
    r.copyHeadersFrom(this);
    return r;
  }
}

export class SipResponse extends SipMessage {
  status: number;
  reason: string;
  /**
   * Sent by a stateless UAS (RFC 3261 §8.2.7): the server transaction ends with it instead of keeping it for Timer J,
   * so a retransmission of the request is handled as new. Only for a challenge to a request without credentials.
   */
  stateless = false;

  constructor(status: number, reason?: string) {
    super();
    this.status = status;
    this.reason = reason ?? reasonPhrase(status);
  }

  /**
   * A response to `req` per RFC 3261 §8.2.6.2: Via (all, in order), From, To, Call-ID, CSeq and Timestamp copied;
   * `toTag` added to To when the request had none.
   */
  static to(req: SipRequest, status: number, reason?: string, toTag?: string): SipResponse {
    const res = new SipResponse(status, reason);
    const addTag = toTag !== undefined && status > 100 && req.to().tag === undefined;
    for (const h of req.headers) {
      const n = h.name;
      if (n === 'to' && addTag) {
        // To-params follow the address (name-addr or addr-spec alike, §20.39), so the tag goes at the end.
        res.headers.push({ name: n, value: `${h.value};tag=${toTag}` });
      } else if (n === 'via' || n === 'from' || n === 'to' || n === 'call-id' || n === 'cseq' || n === 'timestamp') {
        res.headers.push({ name: n, value: h.value });
      }
    }
    return res.shareViasOf(req);
  }

  get isRequest(): boolean {
    return false;
  }

  startLine(): string {
    return `SIP/2.0 ${this.status} ${this.reason}`;
  }

  clone(): SipResponse {
    const r = new SipResponse(this.status, this.reason);
    r.copyHeadersFrom(this);
    return r;
  }
}

export function isRequest(m: SipMessage): m is SipRequest {
  return m.isRequest;
}
