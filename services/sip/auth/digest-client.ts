// Answers Digest challenges as a client (trunk registration, outgoing calls): RFC 2617 §3.2.2, RFC 8760.
import { randomBytes } from 'node:crypto';
import { formatAuthHeader, parseAuthHeader } from './digest-params.js';
import { computeHa1, computeResponse, parseAlgorithm, type DigestAlgorithm } from './digest-hash.js';

export interface DigestClientCredentials {
  username: string;
  password: string;
  /** When set, only challenges of this realm are answered. */
  realm?: string | undefined;
}

export interface ParsedChallenge {
  realm: string;
  nonce: string;
  algorithm: DigestAlgorithm;
  qop: string[];
  opaque: string | undefined;
  stale: boolean;
}

export interface AuthorizeInput {
  /** Values of every WWW-Authenticate (401) or Proxy-Authenticate (407) header of the response. */
  challenges: readonly string[];
  method: string;
  uri: string;
}

const CREDENTIALS_UNQUOTED = new Set(['algorithm', 'qop', 'nc']);
const PREFERENCE: Record<DigestAlgorithm, number> = { 'SHA-256': 2, MD5: 1 };

/** Parses one challenge header; undefined when it is not a Digest challenge we can answer. */
export function parseChallenge(value: string): ParsedChallenge | undefined {
  let parsed;
  try {
    parsed = parseAuthHeader(value);
  } catch {
    return undefined;
  }
  if (parsed.scheme.toLowerCase() !== 'digest') return undefined;
  const realm = parsed.params.get('realm');
  const nonce = parsed.params.get('nonce');
  const algorithm = parseAlgorithm(parsed.params.get('algorithm'));
  if (realm === undefined || nonce === undefined || !algorithm) return undefined;
  const qop = (parsed.params.get('qop') ?? '')
    .split(',')
    .map((q) => q.trim().toLowerCase())
    .filter(Boolean);
  return {
    realm,
    nonce,
    algorithm,
    qop,
    opaque: parsed.params.get('opaque'),
    stale: (parsed.params.get('stale') ?? '').toLowerCase() === 'true',
  };
}

/**
 * Keeps the nonce-count per nonce so that a re-used nonce (RFC 2617 §3.2.2: "the nc-value is the hexadecimal
 * count of the number of requests ... that the client has sent with the nonce value") counts up.
 */
export class DigestClient {
  private lastNonce = '';
  private nc = 0;

  constructor(private readonly credentials: DigestClientCredentials) {}

  /** The Authorization value answering the strongest challenge we support, or undefined if none fits. */
  authorize(input: AuthorizeInput): string | undefined {
    let best: ParsedChallenge | undefined;
    for (const value of input.challenges) {
      const c = parseChallenge(value);
      if (!c) continue;
      if (this.credentials.realm !== undefined && c.realm !== this.credentials.realm) continue;
      if (c.qop.length > 0 && !c.qop.includes('auth')) continue;
      if (!best || PREFERENCE[c.algorithm] > PREFERENCE[best.algorithm]) best = c;
    }
    if (!best) return undefined;
    return this.answer(best, input.method, input.uri);
  }

  /** Builds the credentials for one parsed challenge (cnonce random unless given, for test vectors). */
  answer(c: ParsedChallenge, method: string, uri: string, cnonceOverride?: string): string {
    const { username, password } = this.credentials;
    const ha1 = computeHa1(c.algorithm, username, c.realm, password);
    const params: [string, string][] = [
      ['username', username],
      ['realm', c.realm],
      ['nonce', c.nonce],
      ['uri', uri],
    ];
    if (c.qop.includes('auth')) {
      if (c.nonce !== this.lastNonce) {
        this.lastNonce = c.nonce;
        this.nc = 0;
      }
      this.nc++;
      const nc = this.nc.toString(16).padStart(8, '0');
      const cnonce = cnonceOverride ?? randomBytes(8).toString('hex');
      const response = computeResponse({ algorithm: c.algorithm, ha1, method, uri, nonce: c.nonce, qop: 'auth', nc, cnonce });
      params.push(['response', response], ['algorithm', c.algorithm], ['cnonce', cnonce], ['qop', 'auth'], ['nc', nc]);
    } else {
      const response = computeResponse({ algorithm: c.algorithm, ha1, method, uri, nonce: c.nonce });
      params.push(['response', response], ['algorithm', c.algorithm]);
    }
    if (c.opaque !== undefined) params.push(['opaque', c.opaque]);
    return formatAuthHeader('Digest', params, CREDENTIALS_UNQUOTED);
  }
}
