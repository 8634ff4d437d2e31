// SIP transactions (RFC 3261 §17 with RFC 6026): four explicit state machines and the layer that matches them.
export { DEFAULT_TIMERS, type TimerConfig } from './timers.js';
export { FixedTimer, FixedTimerQueue, FixedTimers, type FixedTimerOwner } from './fixed-timers.js';
export { ResponseCache, type CachedResponse, type ResponseCacheStats } from './response-cache.js';
export { type ClientTransactionUser } from './client-transaction-user.js';
export { InviteClientTransaction, ackForNon2xx, type InviteClientState } from './invite-client-transaction.js';
export { NonInviteClientTransaction, type NonInviteClientState } from './non-invite-client-transaction.js';
export { ServerTransaction } from './server-transaction.js';
export { InviteServerTransaction, type InviteServerState } from './invite-server-transaction.js';
export { NonInviteServerTransaction, type NonInviteServerState } from './non-invite-server-transaction.js';
export {
  TransactionLayer,
  newBranch,
  serverKey,
  type ClientTransaction,
  type RequestHandler,
  type StrayResponseHandler,
  type TransactionLayerCounters,
} from './transaction-layer.js';
