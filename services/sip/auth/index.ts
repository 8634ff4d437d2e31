// Digest authentication (RFC 2617 MD5, RFC 8760 SHA-256): server challenges/verification and client answers.
export { parseAuthHeader, formatAuthHeader, AuthHeaderParseError, type ParsedAuthHeader } from './digest-params.js';
export {
  digestHash,
  computeHa1,
  computeResponse,
  parseAlgorithm,
  algorithmsOf,
  type DigestAlgorithm,
  type AlgorithmChoice,
  type ResponseInput,
} from './digest-hash.js';
export { NonceService, type NonceCheck, type NonceServiceOptions } from './nonce-service.js';
export {
  DigestServer,
  type DigestAccount,
  type DigestFailure,
  type DigestVerdict,
  type VerifyInput,
  type DigestServerOptions,
} from './digest-server.js';
export { AuthGuard, isScannerAgent, type AuthGuardOptions, type AuthGuardEvents, type Ban, type BanView, type BanReason, type AddressClass } from './auth-guard.js';
export { BanRepository, type SecurityEvent } from './ban-repository.js';
export { BanKeeper, type BanKeeperOptions } from './ban-keeper.js';
export { DigestClient, parseChallenge, type DigestClientCredentials, type ParsedChallenge, type AuthorizeInput } from './digest-client.js';
