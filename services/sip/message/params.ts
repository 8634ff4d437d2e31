// Generic parameters (RFC 3261 §25.1 generic-param): ";name[=value]" lists on URIs and header values.
import { SipParseError } from './sip-parse-error.js';
import { isTokenChar, isWs, readQuoted, skipWs } from './syntax.js';

/** Parameter names are case-insensitive and stored lower-case; a value of null means "present without a value". */
export type Params = Record<string, string | null>;

/**
 * Parses header parameters from s[i] (which must be ';' or the end). Values are tokens, quoted strings
 * (kept with their quotes so they format back unchanged) or bracketed IPv6 references.
 */
export function parseHeaderParams(s: string, i: number, what: string): Params {
  const params: Params = {};
  for (;;) {
    i = skipWs(s, i);
    if (i >= s.length) return params;
    if (s.charCodeAt(i) !== 59) throw new SipParseError(`unexpected "${s[i]}" in ${what} parameters`);
    i = skipWs(s, i + 1);
    const nameStart = i;
    while (i < s.length && isTokenChar(s.charCodeAt(i))) i++;
    if (i === nameStart) throw new SipParseError(`empty parameter in ${what}`);
    const name = s.slice(nameStart, i).toLowerCase();
    i = skipWs(s, i);
    if (i < s.length && s.charCodeAt(i) === 61) {
      i = skipWs(s, i + 1);
      if (s.charCodeAt(i) === 34) {
        const q = readQuoted(s, i, what);
        params[name] = s.slice(i, q.end);
        i = q.end;
      } else if (s.charCodeAt(i) === 91) {
        const close = s.indexOf(']', i);
        if (close < 0) throw new SipParseError(`unterminated IPv6 reference in ${what}`);
        params[name] = s.slice(i, close + 1);
        i = close + 1;
      } else {
        const vStart = i;
        while (i < s.length && isTokenChar(s.charCodeAt(i))) i++;
        if (i === vStart) throw new SipParseError(`parameter "${name}" in ${what} has an empty value`);
        params[name] = s.slice(vStart, i);
      }
    } else {
      params[name] = null;
    }
    if (i < s.length && !isWs(s.charCodeAt(i)) && s.charCodeAt(i) !== 59) {
      throw new SipParseError(`unexpected "${s[i]}" in ${what} parameters`);
    }
  }
}

export function formatParams(params: Params): string {
  let out = '';
  for (const k in params) {
    const v = params[k];
    out += v === null || v === undefined ? `;${k}` : `;${k}=${v}`;
  }
  return out;
}

/** A parameter value without the quotes of a quoted-string. */
export function unquoteParam(v: string | null | undefined): string | undefined {
  if (v === null || v === undefined) return undefined;
  if (v.length >= 2 && v.charCodeAt(0) === 34 && v.charCodeAt(v.length - 1) === 34) {
    return v.slice(1, -1).replace(/\\(.)/g, '$1');
  }
  return v;
}
