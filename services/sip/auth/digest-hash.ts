// Digest computations of RFC 2617 §3.2.2 (MD5) and RFC 7616 §3.4.1 / RFC 8760 (SHA-256): HA1, HA2, response.
import crypto, { createHash } from 'node:crypto';

export type DigestAlgorithm = 'MD5' | 'SHA-256';

/** Per-extension choice: which challenges to offer. MD5 alone is the default because SIPp 3.6 and baresip 1.0 only read MD5. */
export type AlgorithmChoice = 'MD5' | 'SHA-256' | 'both';

const NODE_HASH: Record<DigestAlgorithm, string> = { MD5: 'md5', 'SHA-256': 'sha256' };

/** One-shot crypto.hash (Node ≥ 20.12) is twice as fast as createHash for these short inputs; fall back on older Node. */
const oneShot = (crypto as { hash?: (algorithm: string, data: string, encoding: 'hex') => string }).hash;

export function digestHash(algorithm: DigestAlgorithm, data: string): string {
  if (oneShot) return oneShot(NODE_HASH[algorithm], data, 'hex');
  return createHash(NODE_HASH[algorithm]).update(data, 'utf8').digest('hex');
}

/** Parses the algorithm parameter; RFC 2617: absent means MD5. Returns undefined for anything unsupported (incl. -sess). */
export function parseAlgorithm(value: string | undefined): DigestAlgorithm | undefined {
  if (value === undefined) return 'MD5';
  const v = value.toUpperCase();
  if (v === 'MD5') return 'MD5';
  if (v === 'SHA-256') return 'SHA-256';
  return undefined;
}

/** The algorithms a choice allows, most preferred first (RFC 8760 §2.4: the UAS lists its preferred challenge first). */
export function algorithmsOf(choice: AlgorithmChoice): readonly DigestAlgorithm[] {
  return choice === 'both' ? ['SHA-256', 'MD5'] : [choice];
}

/** HA1 = H(username ":" realm ":" password) — what the directory stores instead of using the secret each time. */
export function computeHa1(algorithm: DigestAlgorithm, username: string, realm: string, password: string): string {
  return digestHash(algorithm, `${username}:${realm}:${password}`);
}

export interface ResponseInput {
  algorithm: DigestAlgorithm;
  ha1: string;
  method: string;
  uri: string;
  nonce: string;
  /** 'auth' or absent (RFC 2069 compatibility). auth-int is not offered by Relais. */
  qop?: string | undefined;
  nc?: string | undefined;
  cnonce?: string | undefined;
  /** H(A2), when the caller has it already (it depends only on method and uri). */
  ha2?: string | undefined;
}

/**
 * RFC 2617 §3.2.2.1:
 *   If the "qop" value is "auth" or "auth-int":
 *      request-digest = <"> < KD ( H(A1), unq(nonce-value) ":" nc-value ":" unq(cnonce-value) ":" unq(qop-value) ":" H(A2) ) <">
 *   If the "qop" directive is not present:
 *      request-digest = <"> < KD ( H(A1), unq(nonce-value) ":" H(A2) ) > <">
 *   A2 = Method ":" digest-uri-value
 */
export function computeResponse(input: ResponseInput): string {
  const ha2 = input.ha2 ?? digestHash(input.algorithm, `${input.method}:${input.uri}`);
  if (input.qop) {
    return digestHash(input.algorithm, `${input.ha1}:${input.nonce}:${input.nc ?? ''}:${input.cnonce ?? ''}:${input.qop}:${ha2}`);
  }
  return digestHash(input.algorithm, `${input.ha1}:${input.nonce}:${ha2}`);
}
