// CSeq header value (RFC 3261 §20.16): a 32-bit sequence number below 2^31 and the request method.
import { SipParseError } from './sip-parse-error.js';
import { isToken, parseDecimal } from './syntax.js';

export interface CSeq {
  seq: number;
  method: string;
}

export const CSEQ_MAX = 2 ** 31 - 1;

export function parseCSeq(text: string): CSeq {
  const s = text.trim();
  let i = 0;
  while (i < s.length && s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57) i++;
  const method = s.slice(i).trim();
  if (i === 0 || !isToken(method)) throw new SipParseError(`CSeq "${s.slice(0, 60)}" is not "number METHOD"`);
  return { seq: parseDecimal(s.slice(0, i), CSEQ_MAX, 'CSeq number'), method };
}

export function formatCSeq(c: CSeq): string {
  return `${c.seq} ${c.method}`;
}
