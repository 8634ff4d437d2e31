// Parses and formats the auth-param lists of WWW-Authenticate / Authorization headers (RFC 3261 §25.1, RFC 7235 §2.1).

export interface ParsedAuthHeader {
  /** Scheme as written, e.g. "Digest". */
  scheme: string;
  /** Parameter names lower-cased; values unquoted and unescaped. */
  params: Map<string, string>;
}

export class AuthHeaderParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AuthHeaderParseError';
  }
}

// token characters of RFC 7230 §3.2.6, as a lookup table (this parser runs twice per REGISTER).
const TOKEN = new Uint8Array(128);
for (const ch of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#$%&'*+-.^_`|~") TOKEN[ch.charCodeAt(0)] = 1;

function isTokenCode(c: number): boolean {
  return c < 128 && TOKEN[c] === 1;
}

function isSpaceCode(c: number): boolean {
  return c === 32 || c === 9 || c === 13 || c === 10;
}

/**
 * Parses `Digest realm="a", nonce="b", qop=auth` into scheme + params.
 * Throws AuthHeaderParseError naming what is wrong (the caller answers 400 or re-challenges).
 */
export function parseAuthHeader(value: string): ParsedAuthHeader {
  let i = 0;
  const n = value.length;
  while (i < n && isSpaceCode(value.charCodeAt(i))) i++;
  const schemeStart = i;
  while (i < n && isTokenCode(value.charCodeAt(i))) i++;
  const scheme = value.slice(schemeStart, i);
  if (!scheme) throw new AuthHeaderParseError('authorization header has no scheme');
  const params = new Map<string, string>();
  for (;;) {
    let c = value.charCodeAt(i);
    while (i < n && (isSpaceCode(c) || c === 44)) c = value.charCodeAt(++i);
    if (i >= n) break;
    const nameStart = i;
    while (i < n && isTokenCode(value.charCodeAt(i))) i++;
    const name = value.slice(nameStart, i).toLowerCase();
    if (!name) throw new AuthHeaderParseError(`unexpected character "${value[i]}" at offset ${i} of auth header`);
    while (i < n && isSpaceCode(value.charCodeAt(i))) i++;
    if (value.charCodeAt(i) !== 61) throw new AuthHeaderParseError(`auth parameter "${name}" has no value`);
    i++;
    while (i < n && isSpaceCode(value.charCodeAt(i))) i++;
    let v: string;
    if (value.charCodeAt(i) === 34) {
      const close = value.indexOf('"', i + 1);
      const escape = value.indexOf('\\', i + 1);
      if (close >= 0 && (escape < 0 || escape > close)) {
        // The usual case: no quoted-pair inside, one slice.
        v = value.slice(i + 1, close);
        i = close + 1;
      } else {
        i++;
        let out = '';
        let closed = false;
        while (i < n) {
          const ch = value.charCodeAt(i);
          if (ch === 92 && i + 1 < n) {
            out += value[i + 1];
            i += 2;
            continue;
          }
          if (ch === 34) {
            closed = true;
            i++;
            break;
          }
          out += value[i];
          i++;
        }
        if (!closed) throw new AuthHeaderParseError(`auth parameter "${name}" has an unterminated quoted string`);
        v = out;
      }
    } else {
      const vStart = i;
      // Tokens; some phones send unquoted values with '/' or ':' (e.g. uri=sip:x), accept anything up to ',' or space.
      while (i < n) {
        const ch = value.charCodeAt(i);
        if (ch === 44 || isSpaceCode(ch)) break;
        i++;
      }
      v = value.slice(vStart, i);
    }
    if (params.has(name)) throw new AuthHeaderParseError(`auth parameter "${name}" appears twice`);
    params.set(name, v);
  }
  return { scheme, params };
}

function quote(v: string): string {
  if (v.indexOf('"') < 0 && v.indexOf('\\') < 0) return '"' + v + '"';
  return '"' + v.replace(/(["\\])/g, '\\$1') + '"';
}

/** Formats `Scheme a="x", b=y`: names in `unquoted` are written as tokens (algorithm, qop in credentials, nc, stale). */
export function formatAuthHeader(scheme: string, params: ReadonlyArray<readonly [string, string]>, unquoted: ReadonlySet<string>): string {
  return scheme + ' ' + params.map(([k, v]) => `${k}=${unquoted.has(k) ? v : quote(v)}`).join(', ');
}
