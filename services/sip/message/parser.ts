// Bytes → SipRequest/SipResponse (RFC 3261 §7, §18.3): start line, folded headers, Content-Length, sanity checks.
import { normalizeHeaderName } from './header-names.js';
import { SipParseError } from './sip-parse-error.js';
import { SipRequest, SipResponse, type SipMessage } from './sip-message.js';
import { isToken, isTokenChar, parseDecimal } from './syntax.js';

const CRLFCRLF = Buffer.from('\r\n\r\n');
const LFLF = Buffer.from('\n\n');
/**
 * Largest body accepted (64 KiB: SDP, dialog-info and multipart bodies of a PBX are a few KiB); anything bigger is
 * not a signalling message, and on TCP it bounds what one connection can make us buffer.
 */
export const MAX_BODY = 1 << 16;
/** Largest header block (start line and headers) and most header lines: 513 Message Too Large beyond. */
export const MAX_HEADER_BYTES = 1 << 16;
export const MAX_HEADERS = 256;

function skipLeadingCrlf(buf: Buffer, start: number): number {
  // §7.5: implementations SHOULD ignore any CRLF appearing before the start-line.
  let i = start;
  while (i < buf.length && (buf[i] === 13 || buf[i] === 10)) i++;
  return i;
}

/** Where the header block ends: index of the empty line and the index of the first body byte, or undefined. */
function findHeaderEnd(buf: Buffer, start: number): { headEnd: number; bodyStart: number } | undefined {
  const crlf = buf.indexOf(CRLFCRLF, start);
  // A bare-LF empty line counts only if it comes first: look for it before the CRLFCRLF (or anywhere if none),
  // without a second pass over the body.
  const lf = crlf < 0 ? buf.indexOf(LFLF, start) : crlf > start ? buf.subarray(0, crlf + 1).indexOf(LFLF, start) : -1;
  if (lf >= 0) return { headEnd: lf, bodyStart: lf + 2 };
  if (crlf >= 0) return { headEnd: crlf, bodyStart: crlf + 4 };
  return undefined;
}

/**
 * Parses one message from a datagram (or from one framed stream message).
 * §18.3: over UDP a missing Content-Length means "the rest of the datagram"; a Content-Length larger than the
 * bytes received is an error (400), extra bytes after the body are discarded.
 */
export function parseMessage(buf: Buffer): SipMessage {
  const start = skipLeadingCrlf(buf, 0);
  if (start >= buf.length) throw new SipParseError('empty message');
  const end = findHeaderEnd(buf, start);
  let head: string;
  let bodyStart: number;
  if (end) {
    head = buf.toString('utf8', start, end.headEnd);
    bodyStart = end.bodyStart;
  } else {
    // Tolerate a message whose header block ends with a single CRLF at the very end of the datagram.
    let e = buf.length;
    if (buf[e - 1] === 10) e--;
    if (buf[e - 1] === 13) e--;
    if (e === buf.length) throw new SipParseError('no empty line after the headers');
    head = buf.toString('utf8', start, e);
    bodyStart = buf.length;
  }
  if (head.length > MAX_HEADER_BYTES) throw new SipParseError(`header block larger than ${MAX_HEADER_BYTES / 1024} KiB`, 513);
  let eol = head.indexOf('\n');
  if (eol < 0) eol = head.length;
  const msg = parseStartLine(head.slice(0, eol > 0 && head.charCodeAt(eol - 1) === 13 ? eol - 1 : eol));
  parseHeaderBlock(msg, head, eol + 1);

  // Content-Length (§20.14): several differing values are ambiguous framing, hence an error.
  let contentLength: number | undefined;
  for (const h of msg.headers) {
    if (h.name !== 'content-length') continue;
    const n = parseDecimal(h.value, 2 ** 31 - 1, 'Content-Length');
    if (contentLength !== undefined && n !== contentLength) throw new SipParseError('conflicting Content-Length headers');
    contentLength = n;
  }
  const available = buf.length - bodyStart;
  if (contentLength === undefined) contentLength = available;
  else if (contentLength > available) {
    throw new SipParseError(`Content-Length ${contentLength} is larger than the ${available} body bytes received`);
  }
  if (contentLength > MAX_BODY) throw new SipParseError(`body of ${contentLength} bytes is larger than ${MAX_BODY / 1024} KiB`, 513);
  if (contentLength > 0) msg.body = buf.subarray(bodyStart, bodyStart + contentLength);
  validate(msg);
  return msg;
}

function parseStartLine(line: string, strictVersion = true): SipMessage {
  if (line.startsWith('SIP/')) {
    // Status-Line = SIP-Version SP Status-Code SP Reason-Phrase
    const sp1 = line.indexOf(' ');
    if (sp1 < 0) throw new SipParseError('status line has no status code');
    if (strictVersion) checkVersion(line.slice(0, sp1));
    const codeEnd = line.indexOf(' ', sp1 + 1);
    const code = line.slice(sp1 + 1, codeEnd < 0 ? line.length : codeEnd);
    if (code.length !== 3 || !/^[1-6][0-9][0-9]$/.test(code)) throw new SipParseError(`status code "${code.slice(0, 20)}" is not three digits`);
    const reason = codeEnd < 0 ? '' : line.slice(codeEnd + 1);
    return new SipResponse(Number(code), reason);
  }
  // Request-Line = Method SP Request-URI SP SIP-Version (exactly one SP each, §7.1)
  const sp1 = line.indexOf(' ');
  const sp2 = sp1 < 0 ? -1 : line.indexOf(' ', sp1 + 1);
  if (sp1 <= 0 || sp2 < 0 || line.indexOf(' ', sp2 + 1) >= 0) {
    throw new SipParseError('request line is not "METHOD URI SIP/2.0" separated by single spaces');
  }
  const method = line.slice(0, sp1);
  if (!isToken(method)) throw new SipParseError(`method "${method.slice(0, 30)}" is not a token`);
  const uri = line.slice(sp1 + 1, sp2);
  if (uri === '' || uri.charCodeAt(0) === 60) throw new SipParseError('Request-URI must not be empty or enclosed in <>');
  if (strictVersion) checkVersion(line.slice(sp2 + 1));
  return new SipRequest(method, uri);
}

function checkVersion(v: string): void {
  if (v === 'SIP/2.0') return;
  if (/^SIP\/\d+\.\d+$/i.test(v)) {
    if (v.toUpperCase() === 'SIP/2.0') return;
    throw new SipParseError(`SIP version ${v.slice(4)} is not supported`, 505);
  }
  throw new SipParseError(`"${v.slice(0, 30)}" is not a SIP version`);
}

/**
 * The header lines of `head` from `pos` on (lines end in CRLF or a bare LF), straight from the one string: no array
 * of lines, one slice per name and per value.
 */
function parseHeaderBlock(msg: SipMessage, head: string, pos: number): void {
  let last: { name: string; value: string } | undefined;
  const n = head.length;
  // Next CR at or after the current line (found once per CR, so the scan stays linear on bare-LF messages).
  let cr = head.indexOf('\r', pos);
  while (pos < n) {
    let eol = head.indexOf('\n', pos);
    if (eol < 0) eol = n;
    let end = eol > pos && head.charCodeAt(eol - 1) === 13 ? eol - 1 : eol;
    const start = pos;
    pos = eol + 1;
    if (cr >= 0 && cr < start) cr = head.indexOf('\r', start);
    // §7.3.1: CR only as part of a line end. A bare CR inside a value would end up in a header we send back.
    if (cr >= 0 && cr < end) throw new SipParseError('header line contains a bare CR');
    if (end === start) continue;
    const c0 = head.charCodeAt(start);
    if (c0 === 32 || c0 === 9) {
      // §7.3.1: a line starting with whitespace continues the previous header value (folding).
      if (!last) throw new SipParseError('continuation line before the first header');
      last.value = (last.value + ' ' + head.slice(start, end).trim()).trim();
      continue;
    }
    const colon = head.indexOf(':', start);
    if (colon <= start || colon >= end) throw new SipParseError(`header line "${head.slice(start, Math.min(end, start + 40))}" has no name or colon`);
    let ne = colon;
    while (ne > start && (head.charCodeAt(ne - 1) === 32 || head.charCodeAt(ne - 1) === 9)) ne--;
    if (ne === start) throw new SipParseError(`header line "${head.slice(start, Math.min(end, start + 40))}" has no name`);
    for (let k = start; k < ne; k++) {
      if (!isTokenChar(head.charCodeAt(k))) throw new SipParseError(`header name "${head.slice(start, Math.min(ne, start + 40))}" is not a token`);
    }
    let vs = colon + 1;
    while (vs < end && isWsCode(head.charCodeAt(vs))) vs++;
    while (end > vs && isWsCode(head.charCodeAt(end - 1))) end--;
    last = { name: normalizeHeaderName(head.slice(start, ne)), value: head.slice(vs, end) };
    if (msg.headers.length >= MAX_HEADERS) throw new SipParseError(`more than ${MAX_HEADERS} header lines`, 513);
    msg.headers.push(last);
  }
}

/** What String.prototype.trim() removes, for the characters a header line can hold. */
function isWsCode(c: number): boolean {
  return c === 32 || c === 9 || c === 13 || c === 10 || c === 0x0b || c === 0x0c || c === 0xa0 || c === 0xfeff || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0x1680;
}

/**
 * Checks the headers every transaction and dialog relies on, so that a message that passes parseMessage never
 * throws later when its Via, From, To, Call-ID or CSeq is read (§8.1.1: the mandatory headers).
 */
function validate(msg: SipMessage): void {
  let callIds = 0;
  let cseqs = 0;
  let maxf = 0;
  for (const h of msg.headers) {
    if (h.name === 'call-id') callIds++;
    else if (h.name === 'cseq') cseqs++;
    else if (h.name === 'max-forwards') maxf++;
    else if (h.name === 'date' && !h.value.trimEnd().endsWith('GMT')) throw new SipParseError('Date must be in GMT (RFC 1123 form)');
  }
  if (callIds === 0) throw new SipParseError('missing Call-ID header');
  if (callIds > 1 || cseqs > 1 || maxf > 1) throw new SipParseError('single-value header (Call-ID, CSeq or Max-Forwards) appears more than once');
  const callId = msg.callId;
  if (/\s/.test(callId)) throw new SipParseError('Call-ID contains whitespace');
  const cseq = msg.cseq;
  msg.from();
  msg.to();
  if (msg.vias().length === 0) throw new SipParseError('missing Via header');
  msg.maxForwards;
  if (msg instanceof SipRequest) {
    const ruri = msg.ruri;
    if (ruri.isSip && ruri.hasHeaders()) throw new SipParseError('Request-URI must not carry URI headers');
    if (cseq.method !== msg.method) throw new SipParseError(`CSeq method ${cseq.method} does not match ${msg.method}`);
    msg.contacts();
  }
}

export type FrameResult =
  | { kind: 'message'; length: number }
  | { kind: 'keepalive'; length: number }
  | { kind: 'incomplete' };

/**
 * Stream framing (§18.3): how many bytes at `offset` make one message. Content-Length is mandatory on streams;
 * bare CRLFs between messages are keep-alives (RFC 5626 §3.5.1) and are consumed.
 */
export function frameStream(buf: Buffer, offset: number): FrameResult {
  const start = skipLeadingCrlf(buf, offset);
  if (start > offset) return { kind: 'keepalive', length: start - offset };
  const end = findHeaderEnd(buf, start);
  if (!end) {
    if (buf.length - start > MAX_HEADER_BYTES) throw new SipParseError(`header block larger than ${MAX_HEADER_BYTES / 1024} KiB`, 513);
    return { kind: 'incomplete' };
  }
  const head = buf.toString('latin1', start, end.headEnd);
  let cl: number | undefined;
  let pos = 0;
  while (pos < head.length) {
    let nl = head.indexOf('\n', pos);
    if (nl < 0) nl = head.length;
    const line = head.slice(pos, nl);
    pos = nl + 1;
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    if (name === 'content-length' || name === 'l') {
      cl = parseDecimal(line.slice(colon + 1), MAX_BODY, 'Content-Length');
      break;
    }
  }
  if (cl === undefined) throw new SipParseError('missing Content-Length on a stream transport');
  const total = end.bodyStart + cl - offset;
  if (buf.length - offset < total) return { kind: 'incomplete' };
  return { kind: 'message', length: total };
}

/**
 * Best effort for error replies: the start line and header lines of a message that failed parseMessage, without
 * the checks, or undefined when even that is impossible. Never throws.
 */
export function parseLenient(buf: Buffer): SipMessage | undefined {
  try {
    const start = skipLeadingCrlf(buf, 0);
    const end = findHeaderEnd(buf, start);
    const head = buf.toString('utf8', start, end ? end.headEnd : buf.length);
    const lines = head.split(/\r?\n/);
    // Any version: a request of SIP/7.0 is answered 505 (RFC 4475 §3.3.14), which needs its headers.
    const msg = parseStartLine(lines[0]!, false);
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i]!;
      const c0 = line.charCodeAt(0);
      const last = msg.headers[msg.headers.length - 1];
      if ((c0 === 32 || c0 === 9) && last) {
        last.value = (last.value + ' ' + line.trim()).trim();
        continue;
      }
      const colon = line.indexOf(':');
      if (colon <= 0) continue;
      msg.headers.push({ name: normalizeHeaderName(line.slice(0, colon).trim()), value: line.slice(colon + 1).trim() });
    }
    return msg;
  } catch {
    return undefined;
  }
}
