// Digest authentication of requests (RFC 3261 §22.4, RFC 2617, RFC 8760): challenges and credential checks.
import type { Clock } from '../../shared/index.js';
import { AuthHeaderParseError, formatAuthHeader, parseAuthHeader } from './digest-params.js';
import { algorithmsOf, computeResponse, digestHash, parseAlgorithm, type AlgorithmChoice, type DigestAlgorithm } from './digest-hash.js';
import { detach } from '../message/index.js';
import { NonceService } from './nonce-service.js';

/** What the server needs to know about a user: stored HA1s for its realm, and which algorithms it may use. */
export interface DigestAccount {
  ha1Md5?: string | undefined;
  ha1Sha256?: string | undefined;
  algorithms: AlgorithmChoice;
}

export type DigestFailure =
  | 'missing' // no credentials for our realm: first challenge
  | 'malformed' // credentials that cannot be parsed or lack a parameter
  | 'unknown-user'
  | 'algorithm' // an algorithm the account does not allow
  | 'uri-mismatch' // digest uri differs from the request URI
  | 'wrong-password' // response does not match
  | 'stale' // right password, nonce too old or forgotten → re-challenge with stale=true
  | 'replay' // nonce-count reused
  | 'locked'; // right or wrong, this extension is locked at this address for now (AuthGuard): answered as a wrong password

export type DigestVerdict =
  | { ok: true; username: string; algorithm: DigestAlgorithm }
  | { ok: false; reason: DigestFailure; detail: string; username?: string | undefined; stale: boolean };

export interface VerifyInput {
  /** Values of every Authorization (or Proxy-Authorization) header of the request. */
  authorization: readonly string[];
  method: string;
  /** The Request-URI as it appeared on the request line; checked against the digest uri with strictUri. */
  requestUri?: string | undefined;
  /** Account lookup by digest username; undefined = unknown user. */
  account: (username: string) => DigestAccount | undefined;
  /** The client's address: nonces issued to it are only good from it (pass the same to challenge()). */
  source?: string | undefined;
}

export interface DigestServerOptions {
  realm: string;
  clock: Clock;
  secret?: Buffer;
  nonceLifetimeMs?: number;
  maxTrackedNonces?: number;
  /** Accept RFC 2069-style credentials without qop (old phones). Default true. */
  allowNoQop?: boolean;
  /**
   * Refuse credentials whose digest uri is not the Request-URI (RFC 2617 §3.2.2.5). Default false: SIPp (without
   * -auth_uri) and several desk phones put the server's address there; the response still covers the uri they used.
   */
  strictUri?: boolean;
}

const CHALLENGE_UNQUOTED = new Set(['algorithm', 'stale']);

/** Stand-in HA1s hashed for unknown users (see verify). */
const DUMMY_HA1: Record<DigestAlgorithm, string> = { MD5: digestHash('MD5', 'relais:unknown'), 'SHA-256': digestHash('SHA-256', 'relais:unknown') };

/**
 * `expected` is lower-case hex (our hash); the client's `given` may be in either case. Constant time in the
 * content (every character is compared, no early exit); a `given` of another length is compared against `expected`
 * itself so that it costs the same. Compared as strings: two Buffers and a call into C++ per check cost more than
 * the comparison.
 */
function safeEqualHex(expected: string, given: string): boolean {
  const g = given.length === expected.length ? given.toLowerCase() : expected;
  let diff = given.length === expected.length ? 0 : 1;
  for (let i = 0; i < expected.length; i++) diff |= expected.charCodeAt(i) ^ g.charCodeAt(i);
  return diff === 0;
}

/** Strips a SIP URI down for a tolerant comparison (some phones differ in case or port notation). */
function sameUri(a: string, b: string): boolean {
  return a === b || a.toLowerCase() === b.toLowerCase();
}

export class DigestServer {
  readonly realm: string;
  readonly nonces: NonceService;
  private readonly allowNoQop: boolean;
  private readonly strictUri: boolean;
  private readonly ha2Cache = new Map<string, string>();

  constructor(opts: DigestServerOptions) {
    this.realm = opts.realm;
    this.nonces = new NonceService({
      clock: opts.clock,
      ...(opts.secret ? { secret: opts.secret } : {}),
      ...(opts.nonceLifetimeMs !== undefined ? { lifetimeMs: opts.nonceLifetimeMs } : {}),
      ...(opts.maxTrackedNonces !== undefined ? { maxTracked: opts.maxTrackedNonces } : {}),
    });
    this.allowNoQop = opts.allowNoQop ?? true;
    this.strictUri = opts.strictUri ?? false;
  }

  /** Which algorithms to offer someone claiming `username` (set by the registrar; MD5 until then). */
  private choiceFor: (username: string | undefined) => AlgorithmChoice = () => 'MD5';

  setChoiceProvider(choiceFor: (username: string | undefined) => AlgorithmChoice): void {
    this.choiceFor = choiceFor;
  }

  /**
   * The challenge for a request claiming `username` (To user of a REGISTER, From user of an INVITE or SUBSCRIBE):
   * the algorithms of that extension, and for a name that is no extension the algorithms of a real one picked by
   * the name, so that the answer does not tell which names exist.
   */
  challengeFor(username: string | undefined, stale = false, source?: string): string[] {
    return this.challenge(this.choiceFor(username), stale, source);
  }

  /**
   * WWW-Authenticate values for a 401 (or Proxy-Authenticate for a 407), one per algorithm, preferred first
   * (RFC 8760 §2.4). One nonce serves all of them.
   */
  challenge(choice: AlgorithmChoice = 'MD5', stale = false, source?: string): string[] {
    const nonce = this.nonces.issue(source);
    return algorithmsOf(choice).map((algorithm) => {
      const params: [string, string][] = [
        ['realm', this.realm],
        ['nonce', nonce],
        ['algorithm', algorithm],
        ['qop', 'auth'],
      ];
      if (stale) params.push(['stale', 'true']);
      return formatAuthHeader('Digest', params, CHALLENGE_UNQUOTED);
    });
  }

  /**
   * RFC 3261 §22.4: the server checks the credentials whose realm is its own. The password check comes before
   * the nonce check so that stale=true is only ever said to a client that knows the password (RFC 2617 §3.2.1).
   */
  verify(input: VerifyInput): DigestVerdict {
    let params: Map<string, string> | undefined;
    for (const value of input.authorization) {
      let parsed;
      try {
        parsed = parseAuthHeader(value);
      } catch (err) {
        if (err instanceof AuthHeaderParseError) return this.fail('malformed', err.message);
        throw err;
      }
      if (parsed.scheme.toLowerCase() !== 'digest') continue;
      if (parsed.params.get('realm') !== this.realm) continue;
      params = parsed.params;
      break;
    }
    if (!params) return this.fail('missing', `no Digest credentials for realm "${this.realm}"`);
    const username = params.get('username');
    const nonce = params.get('nonce');
    const uri = params.get('uri');
    const response = params.get('response');
    if (username === undefined || nonce === undefined || uri === undefined || response === undefined) {
      return this.fail('malformed', 'Digest credentials need username, nonce, uri and response');
    }
    const algorithm = parseAlgorithm(params.get('algorithm'));
    if (!algorithm) return this.fail('algorithm', `unsupported digest algorithm "${params.get('algorithm')}"`, username);
    const qop = params.get('qop');
    const nc = params.get('nc');
    const cnonce = params.get('cnonce');
    if (qop !== undefined) {
      if (qop.toLowerCase() !== 'auth') return this.fail('malformed', `qop "${qop}" was not offered (only auth)`, username);
      if (nc === undefined || cnonce === undefined) return this.fail('malformed', 'qop=auth needs nc and cnonce', username);
    } else if (!this.allowNoQop) {
      return this.fail('malformed', 'credentials without qop are not accepted', username);
    }
    if (this.strictUri && input.requestUri !== undefined && !sameUri(uri, input.requestUri)) {
      return this.fail('uri-mismatch', `digest uri "${uri}" is not the Request-URI "${input.requestUri}"`, username);
    }
    const account = input.account(username);
    if (!account) {
      // The same work as for a wrong password, so the time taken does not tell which names exist.
      safeEqualHex(computeResponse({ algorithm, ha1: DUMMY_HA1[algorithm], method: input.method, uri, nonce, qop, nc, cnonce, ha2: this.ha2(algorithm, input.method, uri) }), response);
      return this.fail('unknown-user', `no account "${username}"`, username);
    }
    if (!algorithmsOf(account.algorithms).includes(algorithm)) {
      return this.fail('algorithm', `account "${username}" does not use ${algorithm}`, username);
    }
    const ha1 = algorithm === 'MD5' ? account.ha1Md5 : account.ha1Sha256;
    if (!ha1) return this.fail('algorithm', `account "${username}" has no ${algorithm} hash`, username);
    const expected = computeResponse({ algorithm, ha1, method: input.method, uri, nonce, qop, nc, cnonce, ha2: this.ha2(algorithm, input.method, uri) });
    if (!safeEqualHex(expected, response)) return this.fail('wrong-password', `wrong digest response for "${username}"`, username);
    const check = this.nonces.check(nonce, qop === undefined ? undefined : nc, input.source);
    switch (check.status) {
      case 'ok':
        return { ok: true, username, algorithm };
      case 'replay':
        // stale=true: a phone that reuses a count by mistake retries with a fresh nonce; a replayer gains nothing.
        return { ok: false, reason: 'replay', detail: `nonce count ${nc} reused for "${username}"`, username, stale: true };
      case 'stale':
      case 'foreign':
        return { ok: false, reason: 'stale', detail: `nonce expired or unknown for "${username}"`, username, stale: true };
    }
  }

  /**
   * H(A2) = H(method ":" digest-uri): the same few values over and over (every phone registers with the same
   * method and domain), so remembered; bounded, since the uri comes from the request.
   */
  private ha2(algorithm: DigestAlgorithm, method: string, uri: string): string {
    const key = `${algorithm} ${method} ${uri}`;
    let h = this.ha2Cache.get(key);
    if (h === undefined) {
      h = digestHash(algorithm, `${method}:${uri}`);
      if (this.ha2Cache.size >= 256) this.ha2Cache.clear();
      this.ha2Cache.set(detach(key), h);
    }
    return h;
  }

  private fail(reason: DigestFailure, detail: string, username?: string): DigestVerdict {
    return { ok: false, reason, detail, username, stale: false };
  }
}
