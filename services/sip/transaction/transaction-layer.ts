// Transaction layer (RFC 3261 §17): matches messages to transactions, creates server transactions, sends requests.
import { type Clock, type Logger } from '../../shared/index.js';
import { BRANCH_COOKIE, SipRequest, SipResponse, Via, detach, sipToken, type SipMessage } from '../message/index.js';
import { type Source, type Target, type TransportLayer } from '../transport/index.js';
import { type ClientTransactionUser } from './client-transaction-user.js';
import { InviteClientTransaction } from './invite-client-transaction.js';
import { InviteServerTransaction } from './invite-server-transaction.js';
import { NonInviteClientTransaction } from './non-invite-client-transaction.js';
import { NonInviteServerTransaction } from './non-invite-server-transaction.js';
import { type ServerTransaction } from './server-transaction.js';
import { DEFAULT_TIMERS, type TimerConfig } from './timers.js';
import { FixedTimers } from './fixed-timers.js';
import { ResponseCache } from './response-cache.js';
import { type Transaction, type TransactionContext } from './transaction.js';

export type ClientTransaction = InviteClientTransaction | NonInviteClientTransaction;

/**
 * A new request for the TU. `tx` is undefined only for an ACK that matched no transaction (the ACK of a 2xx,
 * which belongs to a dialog, §17.1.1.3/§13.2.2.4).
 */
export type RequestHandler = (req: SipRequest, source: Source, tx: ServerTransaction | undefined) => void;
/** A response that matched no client transaction (a 2xx retransmitted after the transaction ended). */
export type StrayResponseHandler = (res: SipResponse, source: Source) => void;

export function newBranch(): string {
  return BRANCH_COOKIE + sipToken(8);
}

/** §17.2.3 matching key for server transactions; ACK matches the INVITE it acknowledges. */
export function serverKey(req: SipRequest, methodOverride?: string): string {
  const via = req.via();
  const method = methodOverride ?? (req.method === 'ACK' ? 'INVITE' : req.method);
  const sentBy = `${via.host}:${via.port ?? ''}`;
  const branch = via.branch;
  if (branch && branch.startsWith(BRANCH_COOKIE) && branch.length > BRANCH_COOKIE.length) {
    return `${branch}|${sentBy}|${method}`;
  }
  // RFC 2543 peers (§17.2.3 second half): no usable branch, fall back on dialog and CSeq identifiers.
  return `2543|${req.callId}|${req.cseq.seq}|${req.from().tag ?? ''}|${req.uri}|${sentBy}|${method}`;
}

/** §17.1.3: a response matches the client transaction whose branch and CSeq method it carries. */
function clientKey(branch: string, method: string): string {
  return `${branch}|${method}`;
}

export interface TransactionLayerCounters {
  serverCreated: number;
  clientCreated: number;
  retransmissionsAbsorbed: number;
  merged482: number;
  strayResponses: number;
}

export class TransactionLayer {
  private readonly client = new Map<string, ClientTransaction>();
  private readonly server = new Map<string, ServerTransaction>();
  /** §8.2.2.2 merged-request detection: (From tag, Call-ID, CSeq) of requests without To tag → server key. */
  private readonly merge = new Map<string, string>();
  private readonly ctx: TransactionContext;
  /** Final responses of finished non-INVITE server transactions over UDP, for Timer J (§17.2.2). */
  private readonly finals: ResponseCache;
  private requestHandler: RequestHandler = () => {};
  private strayHandler: StrayResponseHandler = () => {};
  readonly counters: TransactionLayerCounters = { serverCreated: 0, clientCreated: 0, retransmissionsAbsorbed: 0, merged482: 0, strayResponses: 0 };

  constructor(
    readonly transport: TransportLayer,
    clock: Clock,
    log: Logger,
    timers: TimerConfig = DEFAULT_TIMERS,
    /** Size of the ring keeping finished non-INVITE responses for Timer J (default 32 MiB; bounds memory under floods). */
    responseCacheBytes = 32 * 1024 * 1024,
  ) {
    this.ctx = {
      transport,
      clock,
      log,
      timers,
      onTerminated: (tx) => this.forget(tx),
      onAnswered: (tx) => this.forgetMergeKey(tx),
      retainFinal: (key, bytes, target) => this.finals.put(key, bytes, target),
      fixedTimers: new FixedTimers(clock),
    };
    this.finals = new ResponseCache(clock, 64 * timers.T1, responseCacheBytes);
    transport.onReceive((msg, source) => this.receive(msg, source));
  }

  get timers(): TimerConfig {
    return this.ctx.timers;
  }

  /** The shared queues of fixed-length timers (the TU's own 64*T1 watch uses them too). */
  get fixedTimers(): FixedTimers {
    return this.ctx.fixedTimers!;
  }

  onRequest(handler: RequestHandler): void {
    this.requestHandler = handler;
  }

  onStrayResponse(handler: StrayResponseHandler): void {
    this.strayHandler = handler;
  }

  private forget(tx: Transaction<string>): void {
    if (this.client.get(tx.key) === tx) this.client.delete(tx.key);
    if (this.server.get(tx.key) === tx) {
      this.server.delete(tx.key);
      this.forgetMergeKey(tx);
    }
  }

  /**
   * §8.2.2.2 compares a request with *ongoing* transactions. A non-INVITE transaction that has sent its final
   * response is over for its TU (it only absorbs retransmissions, which match by branch), so its merge entry goes
   * then rather than after Timer J's 32 s.
   */
  private forgetMergeKey(tx: Transaction<string>): void {
    const mk = tx.mergeKey;
    if (mk === undefined) return;
    tx.mergeKey = undefined;
    if (this.merge.get(mk) === tx.key) this.merge.delete(mk);
  }

  receive(msg: SipMessage, source: Source): void {
    if (msg instanceof SipResponse) {
      const branch = msg.via().branch ?? '';
      const tx = this.client.get(clientKey(branch, msg.cseq.method));
      if (tx) tx.receiveResponse(msg);
      else {
        this.counters.strayResponses++;
        this.strayHandler(msg, source);
      }
      return;
    }
    const req = msg as SipRequest;
    const key = detach(serverKey(req));
    const existing = this.server.get(key);
    if (existing) {
      if (existing.receiveRequest(req)) {
        this.counters.retransmissionsAbsorbed++;
        return;
      }
      // An ACK for a 2xx that reused the INVITE's branch: the dialog's business.
      this.requestHandler(req, source, undefined);
      return;
    }
    if (req.method === 'ACK') {
      this.requestHandler(req, source, undefined);
      return;
    }
    if (req.method !== 'INVITE') {
      // A retransmission of a request whose transaction has answered: Completed, kept as its response.
      const done = this.finals.get(key);
      if (done) {
        this.counters.retransmissionsAbsorbed++;
        this.transport.sendRaw(done.bytes, done.target).catch(() => {});
        return;
      }
      this.receiveNonInvite(req, source, key);
      return;
    }
    const tx = new InviteServerTransaction(key, req, source, this.ctx);
    this.server.set(key, tx);
    this.counters.serverCreated++;
    tx.start();
    if (req.to().tag === undefined) {
      // §8.2.2.2: "If the request has no tag in the To header field, the UAS core MUST check the request against
      // ongoing transactions. If the From tag, Call-ID, and CSeq exactly match those associated with an ongoing
      // transaction, but the request does not match that transaction ..., the UAS core SHOULD generate a 482
      // (Loop Detected) response and pass it to the server transaction."
      const mk = detach(mergeKey(req));
      const other = this.merge.get(mk);
      if (other !== undefined && other !== key && this.server.has(other)) {
        this.counters.merged482++;
        tx.respond(SipResponse.to(req, 482, undefined, sipToken(6)));
        return;
      }
      this.merge.set(mk, key);
      tx.mergeKey = mk;
    }
    this.requestHandler(req, source, tx);
  }

  /**
   * A new non-INVITE request. Its transaction enters the maps only if it outlives the TU's synchronous part: most
   * (REGISTER, OPTIONS) are answered before the handler returns and from then on live as bytes in the response cache,
   * so their entries were added and deleted within the same call (two Map writes, two deletes and a merge key built
   * each time). Nothing can arrive in between: the next message is read after this call returns.
   */
  private receiveNonInvite(req: SipRequest, source: Source, key: string): void {
    const tx = new NonInviteServerTransaction(key, req, source, this.ctx);
    this.counters.serverCreated++;
    const untagged = req.to().tag === undefined;
    // §8.2.2.2 (see receive): only a transaction still going on can be merged with, so an empty table needs no key.
    if (untagged && this.merge.size > 0) {
      const other = this.merge.get(mergeKey(req));
      if (other !== undefined && other !== key && this.server.has(other)) {
        this.counters.merged482++;
        tx.respond(SipResponse.to(req, 482, undefined, sipToken(6)));
        if (!tx.isTerminated) this.server.set(key, tx);
        return;
      }
    }
    try {
      this.requestHandler(req, source, tx);
    } finally {
      if (!tx.isTerminated) {
        this.server.set(key, tx);
        if (untagged && tx.lastStatus < 200) {
          const mk = detach(mergeKey(req));
          this.merge.set(mk, key);
          tx.mergeKey = mk;
        }
      }
    }
  }

  /**
   * An INVITE server transaction for a request received by the last run (kept in the dialog journal): it answers
   * with the TU's final response, retransmits it (Timer G) and absorbs the caller's ACK, as the lost one would have.
   * Nothing is dispatched and no 100 Trying is sent.
   */
  adoptInvite(req: SipRequest, source: Source): InviteServerTransaction {
    const key = detach(serverKey(req));
    const tx = new InviteServerTransaction(key, req, source, this.ctx);
    this.server.set(key, tx);
    this.counters.serverCreated++;
    return tx;
  }

  /** The INVITE server transaction a CANCEL refers to (§9.2: same matching rules, method INVITE). */
  findInviteFor(cancel: SipRequest): InviteServerTransaction | undefined {
    const tx = this.server.get(serverKey(cancel, 'INVITE'));
    return tx instanceof InviteServerTransaction ? tx : undefined;
  }

  /** Prepends our Via (with a fresh branch unless one is given, and rport: RFC 3581) for the target's transport. */
  addVia(req: SipRequest, target: Target, branch = newBranch()): Via {
    const via = new Via(target.transport.toUpperCase(), this.transport.advertisedAddress, this.transport.port(target.transport), {
      branch,
      rport: null,
    });
    req.prepend('via', via.format());
    return via;
  }

  /**
   * Sends a request through a new client transaction. The request gets our Via unless it already has one
   * (a CANCEL carries the INVITE's Via, §9.1).
   */
  sendRequest(req: SipRequest, target: Target, user: ClientTransactionUser): ClientTransaction {
    if (req.method === 'ACK') throw new Error('ACK is not sent through a client transaction');
    if (!req.has('via')) this.addVia(req, target);
    const branch = req.via().branch!;
    const key = clientKey(branch, req.method);
    const tx =
      req.method === 'INVITE'
        ? new InviteClientTransaction(key, req, target, user, this.ctx)
        : new NonInviteClientTransaction(key, req, target, user, this.ctx);
    this.client.set(key, tx);
    this.counters.clientCreated++;
    tx.start();
    return tx;
  }

  /** Sends a request outside any transaction (the ACK of a 2xx, §13.2.2.4). */
  sendStateless(req: SipRequest, target: Target): Promise<Source> {
    if (!req.has('via')) this.addVia(req, target);
    return this.transport.sendRequest(req, target);
  }

  stats(): Record<string, number> {
    const f = this.finals.stats();
    return {
      ...this.counters,
      client: this.client.size,
      server: this.server.size,
      completedKept: f.entries,
      completedBytes: f.bytes,
      completedEvictedEarly: f.evictedEarly,
    };
  }

  /** Forgets every kept response and stops its timer (the stack is closing). */
  close(): void {
    this.finals.clear();
  }
}

function mergeKey(req: SipRequest): string {
  const cseq = req.cseq;
  return `${req.from().tag ?? ''}|${req.callId}|${cseq.seq}|${cseq.method}`;
}
