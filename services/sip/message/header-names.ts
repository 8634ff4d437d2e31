// Header names: compact forms (RFC 3261 §7.3.3 and extensions), canonical spelling, which headers are comma lists.

const COMPACT: Record<string, string> = {
  i: 'call-id',
  m: 'contact',
  e: 'content-encoding',
  l: 'content-length',
  c: 'content-type',
  f: 'from',
  s: 'subject',
  k: 'supported',
  t: 'to',
  v: 'via',
  o: 'event',
  r: 'refer-to',
  b: 'referred-by',
  u: 'allow-events',
  x: 'session-expires',
  a: 'accept-contact',
  j: 'reject-contact',
  d: 'request-disposition',
  y: 'identity',
  n: 'identity-info',
};

const CANONICAL: Record<string, string> = {
  'call-id': 'Call-ID',
  cseq: 'CSeq',
  'www-authenticate': 'WWW-Authenticate',
  'mime-version': 'MIME-Version',
  'sip-etag': 'SIP-ETag',
  'sip-if-match': 'SIP-If-Match',
  'rack': 'RAck',
  'rseq': 'RSeq',
  'min-se': 'Min-SE',
};

/** Headers whose value is a comma-separated list (§7.3.1): several values may share one line. */
const LIST_HEADERS = new Set([
  'via', 'contact', 'route', 'record-route', 'path', 'service-route', 'allow', 'supported', 'require',
  'proxy-require', 'unsupported', 'accept', 'accept-encoding', 'accept-language', 'allow-events',
  'content-encoding', 'content-language', 'in-reply-to', 'warning', 'call-info', 'alert-info', 'error-info',
  'p-asserted-identity', 'p-preferred-identity', 'history-info', 'accept-contact', 'reject-contact',
]);

/** Lower-case long name for any spelling (compact or long, any case). */
export function normalizeHeaderName(name: string): string {
  const lower = name.toLowerCase();
  if (lower.length === 1) return COMPACT[lower] ?? lower;
  return lower;
}

let cached = 0;

/** The conventional spelling used when serializing ("call-id" → "Call-ID", "x-foo" → "X-Foo"). */
export function canonicalHeaderName(lower: string): string {
  const c = CANONICAL[lower];
  if (c) return c;
  let out = '';
  let up = true;
  for (let i = 0; i < lower.length; i++) {
    const ch = lower[i]!;
    out += up ? ch.toUpperCase() : ch;
    up = ch === '-';
  }
  // Header names come from peers: cache a bounded number so random ones cannot grow the table.
  if (cached++ < 512) CANONICAL[lower] = out;
  return out;
}

export function isListHeader(lower: string): boolean {
  return LIST_HEADERS.has(lower);
}
