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

const TOKEN_CHAR = /[A-Za-z0-9!#$%&'*+\-.^_`|~]/;

function isSpace(c: string | undefined): boolean {
  return c === ' ' || c === '\t' || c === '\r' || c === '\n';
}

/**
 * Parses `Digest realm="a", nonce="b", qop=auth` into scheme + params.
 * Throws AuthHeaderParseError naming what is wrong (the caller answers 400 or re-challenges).
 */
export function parseAuthHeader(value: string): ParsedAuthHeader {
  let i = 0;
  const n = value.length;
  while (i < n && isSpace(value[i])) i++;
  const schemeStart = i;
  while (i < n && TOKEN_CHAR.test(value[i]!)) i++;
  const scheme = value.slice(schemeStart, i);
  if (!scheme) throw new AuthHeaderParseError('authorization header has no scheme');
  const params = new Map<string, string>();
  for (;;) {
    while (i < n && (isSpace(value[i]) || value[i] === ',')) i++;
    if (i >= n) break;
    const nameStart = i;
    while (i < n && TOKEN_CHAR.test(value[i]!)) i++;
    const name = value.slice(nameStart, i).toLowerCase();
    if (!name) throw new AuthHeaderParseError(`unexpected character "${value[i]}" at offset ${i} of auth header`);
    while (i < n && isSpace(value[i])) i++;
    if (value[i] !== '=') throw new AuthHeaderParseError(`auth parameter "${name}" has no value`);
    i++;
    while (i < n && isSpace(value[i])) i++;
    let v: string;
    if (value[i] === '"') {
      i++;
      let out = '';
      let closed = false;
      while (i < n) {
        const c = value[i]!;
        if (c === '\\' && i + 1 < n) {
          out += value[i + 1];
          i += 2;
          continue;
        }
        if (c === '"') {
          closed = true;
          i++;
          break;
        }
        out += c;
        i++;
      }
      if (!closed) throw new AuthHeaderParseError(`auth parameter "${name}" has an unterminated quoted string`);
      v = out;
    } else {
      const vStart = i;
      // Tokens; some phones send unquoted values with '/' or ':' (e.g. uri=sip:x), accept anything up to ',' or space.
      while (i < n && value[i] !== ',' && !isSpace(value[i])) i++;
      v = value.slice(vStart, i);
    }
    if (params.has(name)) throw new AuthHeaderParseError(`auth parameter "${name}" appears twice`);
    params.set(name, v);
  }
  return { scheme, params };
}

function quote(v: string): string {
  return '"' + v.replace(/(["\\])/g, '\\$1') + '"';
}

/** Formats `Scheme a="x", b=y`: names in `unquoted` are written as tokens (algorithm, qop in credentials, nc, stale). */
export function formatAuthHeader(scheme: string, params: ReadonlyArray<readonly [string, string]>, unquoted: ReadonlySet<string>): string {
  return scheme + ' ' + params.map(([k, v]) => `${k}=${unquoted.has(k) ? v : quote(v)}`).join(', ');
}
