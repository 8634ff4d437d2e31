// RFC 3261 §25.1 character classes and the small scanners every header parser shares.
import { SipParseError } from './sip-parse-error.js';

// token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~")
const TOKEN = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  if (/[A-Za-z0-9\-.!%*_+`'~]/.test(ch)) TOKEN[c] = 1;
}

export function isTokenChar(code: number): boolean {
  return code < 128 && TOKEN[code] === 1;
}

export function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) if (!isTokenChar(s.charCodeAt(i))) return false;
  return true;
}

export function isWs(code: number): boolean {
  return code === 32 || code === 9 || code === 13 || code === 10;
}

export function skipWs(s: string, i: number): number {
  while (i < s.length && isWs(s.charCodeAt(i))) i++;
  return i;
}

/** Reads a quoted-string starting at s[i] === '"'; returns the unescaped text and the index after the closing quote. */
export function readQuoted(s: string, i: number, what: string): { text: string; end: number } {
  let out = '';
  let j = i + 1;
  for (;;) {
    if (j >= s.length) throw new SipParseError(`unterminated quoted string in ${what}`);
    const c = s.charCodeAt(j);
    if (c === 34) return { text: out, end: j + 1 };
    if (c === 92) {
      // quoted-pair = "\" (%x00-09 / %x0B-0C / %x0E-7F)
      if (j + 1 >= s.length) throw new SipParseError(`unterminated quoted string in ${what}`);
      out += s[j + 1];
      j += 2;
      continue;
    }
    out += s[j];
    j++;
  }
}

export function quote(s: string): string {
  return '"' + s.replace(/["\\]/g, (m) => '\\' + m) + '"';
}

/**
 * Splits a header value on top-level commas (RFC 3261 §7.3.1), ignoring commas inside quoted strings and <...>.
 * An empty value is an empty list; an empty element between commas (",,") is an error.
 */
export function splitList(value: string, what: string): string[] {
  if (value.indexOf(',') < 0) {
    // An empty list is legal for several headers ("Supported:" with no option tags, as baresip sends).
    const v = value.trim();
    return v === '' ? [] : [v];
  }
  const out: string[] = [];
  let start = 0;
  let inQuote = false;
  let inAngle = false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (inQuote) {
      if (c === 92) i++;
      else if (c === 34) inQuote = false;
    } else if (c === 34) inQuote = true;
    else if (c === 60) inAngle = true;
    else if (c === 62) inAngle = false;
    else if (c === 44 && !inAngle) {
      const part = value.slice(start, i).trim();
      if (part === '') throw new SipParseError(`empty element in ${what} list`);
      out.push(part);
      start = i + 1;
    }
  }
  if (inQuote) throw new SipParseError(`unterminated quoted string in ${what}`);
  const last = value.slice(start).trim();
  if (last === '') throw new SipParseError(`empty element in ${what} list`);
  out.push(last);
  return out;
}

/** Parses a decimal integer field with optional leading zeros; rejects signs, junk and values above max. */
export function parseDecimal(s: string, max: number, what: string): number {
  const t = s.trim();
  if (t.length === 0 || t.length > 20) throw new SipParseError(`${what} is not a number: "${t.slice(0, 30)}"`);
  let n = 0;
  for (let i = 0; i < t.length; i++) {
    const c = t.charCodeAt(i) - 48;
    if (c < 0 || c > 9) throw new SipParseError(`${what} is not a number: "${t.slice(0, 30)}"`);
    n = n * 10 + c;
  }
  if (n > max) throw new SipParseError(`${what} ${t.slice(0, 30)} is larger than ${max}`);
  return n;
}

/**
 * A copy of `s` that does not point into the message it was read from. V8 keeps a substring as a slice of its
 * parent: a Call-ID, nonce or key held for minutes would keep the whole header block of its message alive (and the
 * garbage collector copying it). Strings shorter than 13 characters are copies already.
 */
export function detach(s: string): string {
  // Prepending makes a cons string; slicing it flattens that into a new sequential string first, so the result
  // (a copy, or a slice of the fresh copy) no longer refers to `s` or to what `s` was cut from.
  return s.length < 13 ? s : (' ' + s).slice(1);
}
