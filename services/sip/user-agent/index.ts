// User-agent core: SipStack (Module) with middleware, out-of-dialog requests, createUas/createUac/createB2bua.
export {
  SipStack,
  buildCancel,
  type SipStackOptions,
  type RequestHandlerFn,
  type NextFunction,
  type Credentials,
  type RequestOptions,
  type UacOptions,
  type UasOptions,
  type B2buaOptions,
  type B2buaTarget,
  type B2buaResult,
} from './sip-stack.js';
export { forkInvite, type ForkBranch, type ForkOptions, type ForkOutcome } from './fork.js';
export { IncomingRequest, type IncomingRequestEvents } from './incoming-request.js';
export { ServerResponse, type SendOptions } from './server-response.js';
/** The promise adapter over a client transaction (exported for transaction-level tests). */
export { OutgoingRequest as OutgoingRequestForTests } from './outgoing-request.js';
