// User-agent core (RFC 3261 §8, §12-§15) behind drachtio-srf's shape: use(), request(), createUas/Uac/B2bua.
import {
  Abort,
  SystemClock,
  Logger,
  type AbortSignalLike,
  type Clock,
  type Module,
  type ModuleHealth,
} from '../../shared/index.js';
import { DigestClient } from '../auth/index.js';
import { NameAddr, SipRequest, SipResponse, SipUri, parseMessage, sipToken, type HeaderInit, type SipMessage } from '../message/index.js';
import { DEFAULT_TIMERS, TransactionLayer, ackForNon2xx, type ServerTransaction, type TimerConfig } from '../transaction/index.js';
import {
  TcpTransport,
  TlsTransport,
  TransportLayer,
  type TlsCertificateSource,
  UdpTransport,
  type Source,
  type Target,
  type TransportKind,
} from '../transport/index.js';
import { ALLOW, Dialog, dialogKey, type DialogHost } from '../dialog/dialog.js';
import type { DialogJournal, JournalledInvite } from '../dialog/dialog-journal.js';
import { MIN_SE, acceptSessionTimer, parseSessionExpires } from '../dialog/session-timer.js';
import { SipError } from '../dialog/sip-error.js';
import { targetOf } from '../dialog/target.js';
import { IncomingRequest } from './incoming-request.js';
import { OutgoingRequest } from './outgoing-request.js';
import { forkInvite } from './fork.js';
import { ServerResponse, type ResponseHost } from './server-response.js';

export interface SipStackOptions {
  /** IPv4 address to bind (0.0.0.0 for all). */
  bind: string;
  /** UDP and TCP port (0: any free port, see port()). */
  port: number;
  /** SIP domain of this PBX (From of requests we originate, realm). */
  domain: string;
  clock?: Clock;
  logger?: Logger;
  /** Address written in Via/Contact; defaults to bind, or the first LAN address when bind is 0.0.0.0. */
  advertise?: string;
  timers?: TimerConfig;
  transports?: TransportKind[];
  userAgent?: string;
  /**
   * Keeps every INVITE dialog on disk while it lasts; start() sends a BYE for the ones a crash left behind
   * (docs/security.md, "After a crash").
   */
  journal?: DialogJournal;
  /** SIP over TLS on its own port (5061; 0 = any free port) with the box's certificate; undefined = no TLS. */
  tls?: { port: number; certificate: TlsCertificateSource };
  /** UDP datagrams leave through the process's send thread (docs/performance.md, "SIP sends on the second core"). */
  udpSendThread?: boolean;
}

/**
 * The final response a caller whose INVITE was ringing at a crash gets after the restart (docs/security.md): 500
 * says what happened (§21.5.1: "an unexpected condition that prevented it from fulfilling the request ... the
 * client MAY retry the request after several seconds"), where 503 would tell phones and providers that the server
 * is down (§21.5.4; RFC 3263 §4.3 moves them to another server) and 480 would blame the callee.
 */
export const RESTART_FINAL = { status: 500, reason: 'Server Internal Error', retryAfterS: 5 } as const;

/** Which credentials answer a peer's digest challenge to an in-dialog request (a trunk's, by its address). */
export type PeerCredentials = (flow: Target) => Credentials | undefined;

export type NextFunction = (err?: unknown) => void;
/** A middleware: answers with res.send(), or calls next() to let the following handler (or the default) answer. */
export type RequestHandlerFn = (req: IncomingRequest, res: ServerResponse, next: NextFunction) => void | Promise<void>;

export interface Credentials {
  username: string;
  password: string;
}

export interface RequestOptions {
  method: string;
  uri: string | SipUri;
  headers?: HeaderInit;
  body?: Buffer | string;
  contentType?: string;
  target?: Target;
  auth?: Credentials;
}

export interface UacOptions {
  /** SDP offer; omit for a late-offer INVITE (then answerSdp provides the ACK body). */
  localSdp?: string;
  headers?: HeaderInit;
  target?: Target;
  auth?: Credentials;
  onProvisional?: (res: SipResponse) => void;
  /** Aborting sends CANCEL (after the first provisional, §9.1) and rejects with SipError(487). */
  signal?: AbortSignalLike;
  /**
   * Give up on a callee that rings forever (cf. Timer C, §16.6: more than 3 min): CANCEL and reject with
   * SipError(408). Default 180 000 ms; 0 disables.
   */
  ringTimeoutMs?: number;
  /**
   * Late offer (no localSdp): produces the answer carried by the ACK from the offer in the 2xx (§13.2.1). The
   * 2xx is kept waiting (the peer retransmits it) until this resolves.
   */
  ackSdp?: (remoteOffer: string) => string | Promise<string>;
}

export interface UasOptions {
  localSdp?: string;
  headers?: HeaderInit;
}

export interface B2buaTarget {
  uri: string | SipUri;
  target?: Target;
}

export interface B2buaOptions {
  /** Offer sent to the B side (default: the A side's offer, pass-through). */
  localSdpB?: string;
  /** Answer sent to A, or a function of B's answer (default: B's answer, pass-through). */
  localSdpA?: string | ((remoteSdpB: string) => string | Promise<string>);
  /** Headers of the INVITE(s) to B (caller ID: From, P-Asserted-Identity...). */
  headers?: HeaderInit;
  /** Headers of the 200 to A. */
  responseHeaders?: HeaderInit;
  auth?: Credentials;
  /** Relay 180/183 to A (default true; with SDP only when localSdpA is not given). */
  passProvisional?: boolean;
  onProvisional?: (res: SipResponse) => void;
  /** Answer A with B's failure (default true). */
  passFailure?: boolean;
  /**
   * Relay re-INVITE/UPDATE and INFO from one leg to the other (default: true when neither localSdpA nor localSdpB
   * is given, i.e. signalling-only pass-through; anchored media must handle `modify` itself).
   */
  relayInDialog?: boolean;
}

export interface B2buaResult {
  uas: Dialog;
  uac: Dialog;
}

interface Registered {
  method: string;
  fn: RequestHandlerFn;
}

const SUPPORTED = new Set(['replaces', 'path', 'outbound', '100rel-not', 'timer']);
const KNOWN_METHODS = new Set(['INVITE', 'ACK', 'CANCEL', 'BYE', 'OPTIONS', 'REGISTER', 'SUBSCRIBE', 'NOTIFY', 'REFER', 'INFO', 'UPDATE', 'MESSAGE', 'PRACK', 'PUBLISH']);

export class SipStack implements Module, DialogHost, ResponseHost {
  readonly name = 'sip';
  readonly clock: Clock;
  readonly log: Logger;
  readonly timers: TimerConfig;
  readonly userAgent: string;
  readonly domain: string;
  readonly transport: TransportLayer;
  readonly transactions: TransactionLayer;
  private readonly handlers: Registered[] = [];
  private readonly chains = new Map<string, RequestHandlerFn[]>();
  private readonly dialogs = new Map<string, Dialog>();
  private readonly inviteContexts = new WeakMap<ServerTransaction, { req: IncomingRequest; res: ServerResponse }>();
  /** The TLS transport, when configured (its failure makes the stack degraded, not down). */
  private readonly tls: TlsTransport | undefined;
  private started = false;
  private handlerErrors = 0;
  private peerCredentials: PeerCredentials | undefined;
  /** INVITEs of the last run that were CANCELled at start: their late final responses are ACKed (and a 2xx ended). */
  private readonly recovered = new Map<string, { invite: SipRequest; flow: Target; dialog?: Dialog }>();
  private recoveredTimer: ReturnType<Clock['setTimeout']> | undefined;

  constructor(private readonly opts: SipStackOptions) {
    this.clock = opts.clock ?? new SystemClock();
    this.log = (opts.logger ?? new Logger('info')).child({ module: 'sip' });
    this.timers = opts.timers ?? DEFAULT_TIMERS;
    this.userAgent = opts.userAgent ?? 'Relais';
    this.domain = opts.domain;
    this.transport = new TransportLayer(opts.bind, this.log, opts.advertise);
    const kinds = opts.transports ?? ['udp', 'tcp'];
    if (kinds.includes('udp')) this.transport.add(new UdpTransport(opts.bind, opts.port, this.log, { sendThread: opts.udpSendThread, clock: this.clock }));
    if (kinds.includes('tcp')) this.transport.add(new TcpTransport(opts.bind, opts.port, this.log, { clock: this.clock }));
    if (opts.tls) {
      this.tls = new TlsTransport(opts.bind, opts.tls.port, this.log, opts.tls.certificate, { clock: this.clock });
      this.transport.add(this.tls);
    }
    this.transactions = new TransactionLayer(this.transport, this.clock, this.log, this.timers);
    this.transactions.onRequest((req, source, tx) => this.receiveRequest(req, source, tx));
    this.transactions.onStrayResponse((res) => this.receiveStray(res));
  }

  // ---- Module -------------------------------------------------------------------------------------------------

  async start(): Promise<void> {
    try {
      if (this.opts.port === 0 && (this.opts.transports ?? ['udp', 'tcp']).filter((k) => k !== 'tls').length > 1) {
        // One port for both transports: bind UDP first, then TCP on the same number.
        await this.listenSamePort();
      } else {
        await this.transport.listen();
      }
    } catch (err) {
      // Say which port is the problem, and release whatever did bind (UDP may have succeeded before TCP failed).
      await this.transport.close().catch(() => {});
      const e = err as NodeJS.ErrnoException & { port?: number };
      throw new Error(`SIP cannot listen on ${this.opts.bind}:${e.port ?? this.opts.port}: ${e.code === 'EADDRINUSE' ? 'the port is already in use' : e.message}`, { cause: err });
    }
    this.started = true;
    this.log.info('sip listening', { address: this.opts.bind, port: this.port(), ...(this.opts.tls ? { tlsPort: this.tlsPort() } : {}), advertise: this.transport.advertisedAddress });
    this.recoverDialogs();
  }

  /**
   * The dialogs a crash left in the journal: their peers (phones, trunks) still think they are in a call. Each gets
   * a BYE built from what was kept (Call-ID, tags, next CSeq, route set, remote target, flow; RFC 3261 §15.1.1) and
   * its row is dropped at once: one attempt, as for any BYE (the transaction retransmits over UDP). Returns how
   * many BYEs went out.
   */
  recoverDialogs(): number {
    const journal = this.opts.journal;
    if (!journal) return 0;
    const left = journal.list();
    const ringing = journal.listInvites();
    for (const j of left) {
      try {
        const d = new Dialog(this, {
          role: j.role,
          callId: j.callId,
          localTag: j.localTag,
          remoteTag: j.remoteTag,
          local: NameAddr.parse(j.local, 'From'),
          remote: NameAddr.parse(j.remote, 'To'),
          localSeq: j.localSeq,
          remoteSeq: undefined,
          remoteTarget: SipUri.parse(j.remoteTarget),
          routeSet: j.routeSet,
          flow: j.flow,
          localSdp: undefined,
          remoteSdp: undefined,
        });
        void d.destroy();
      } catch (err) {
        this.log.warn('a dialog left by the last run could not be ended', { callId: j.callId, error: err instanceof Error ? err.message : String(err) });
      }
    }
    for (const inv of ringing) this.recoverInvite(inv);
    journal.clear();
    if (left.length > 0) this.log.warn('calls interrupted by the last stop: BYE sent to their peers', { dialogs: left.length });
    if (ringing.length > 0) this.log.warn('calls ringing at the last stop: callers answered, callees cancelled', { invites: ringing.length });
    return left.length + ringing.length;
  }

  /**
   * One INVITE that was ringing at the crash. A caller's ('uas') gets its final response through a server
   * transaction made again for it (retransmitted over UDP until the ACK, §17.2.1); a callee's ('uac') gets a
   * CANCEL (§9.1: same Request-URI, Call-ID, From, To, CSeq number and top Via as the INVITE), and its 487 is ACKed
   * in receiveStray().
   */
  private recoverInvite(j: JournalledInvite): void {
    try {
      const msg = parseMessage(Buffer.from(j.message));
      if (!(msg instanceof SipRequest) || msg.method !== 'INVITE') throw new Error('not an INVITE');
      if (j.role === 'uas') {
        const tx = this.transactions.adoptInvite(msg, j.flow);
        const res = SipResponse.to(msg, RESTART_FINAL.status, RESTART_FINAL.reason, j.toTag || sipToken(6));
        res.append('retry-after', RESTART_FINAL.retryAfterS);
        // RFC 3326: why the call failed, for the caller's logs and a provider's CDR.
        res.append('reason', 'SIP;cause=500;text="PBX restarted"');
        res.append('server', this.userAgent);
        tx.respond(res);
        return;
      }
      this.recovered.set(msg.via().branch ?? '', { invite: msg, flow: j.flow });
      // Callees answer a CANCEL at once; after 64*T1 their final responses are no longer waited for.
      this.recoveredTimer ??= this.clock.setTimeout(() => {
        this.recovered.clear();
        this.recoveredTimer = undefined;
      }, 64 * this.timers.T1);
      void this.sendRequest(buildCancel(msg), j.flow).catch(() => {});
    } catch (err) {
      this.log.warn('a ringing INVITE left by the last run could not be ended', { callId: j.callId, error: err instanceof Error ? err.message : String(err) });
    }
  }

  /** The final response to an INVITE CANCELled at start: ACK it; a 2xx (the callee answered first) is also ended. */
  private answerRecovered(r: { invite: SipRequest; flow: Target; dialog?: Dialog }, res: SipResponse): void {
    if (res.status >= 300) {
      void this.transactions.sendStateless(ackForNon2xx(r.invite, res), r.flow).catch(() => {});
      return;
    }
    if (r.dialog) {
      r.dialog.resendAck(res);
      return;
    }
    // Made like any answered INVITE's dialog (and ended at once: its journal row is never written).
    const inv = r.invite;
    const d = this.uacDialog(inv, res, r.flow, {});
    r.dialog = d;
    d.sendAck(inv, res, d.nextHop());
    void d.destroy();
  }

  /**
   * Credentials for a peer that challenges an in-dialog request (a provider asking a BYE for digest, §22): the
   * trunk whose address the dialog's flow is. Dialogs made with credentials (outbound trunk calls) keep theirs.
   */
  setPeerCredentials(fn: PeerCredentials | undefined): void {
    this.peerCredentials = fn;
  }

  credentialsFor(flow: Target): Credentials | undefined {
    return this.peerCredentials?.(flow);
  }

  private async listenSamePort(): Promise<void> {
    // Rebuild transports on a port free for both (port 0 would give two different numbers); another process may
    // take the TCP port between the probe and the bind, so try a few times.
    for (let attempt = 1; ; attempt++) {
      const probe = new UdpTransport(this.opts.bind, 0, this.log);
      await probe.listen({ onMessage: () => {}, onFramingError: () => {} });
      const p = probe.port();
      await probe.close();
      this.transport.add(new UdpTransport(this.opts.bind, p, this.log, { sendThread: this.opts.udpSendThread, clock: this.clock }));
      this.transport.add(new TcpTransport(this.opts.bind, p, this.log, { clock: this.clock }));
      try {
        await this.transport.listen();
        return;
      } catch (err) {
        await this.transport.close().catch(() => {});
        if (attempt >= 5) throw err;
      }
    }
  }

  /** Ends every call with a BYE (so phones do not keep dead calls up), then closes the transports. */
  async stop(): Promise<void> {
    const open = [...this.dialogs.values()];
    for (const d of open) void d.destroy();
    this.clock.clearTimeout(this.recoveredTimer);
    this.recoveredTimer = undefined;
    this.recovered.clear();
    this.dialogs.clear();
    // The journal's last changes (these calls' ends among them) are written before the database closes.
    this.opts.journal?.flush();
    // Let the BYEs reach the sockets before they close; their responses are not awaited.
    if (open.length > 0) await new Promise<void>((r) => setImmediate(r));
    await this.transport.close();
    this.transactions.close();
    this.started = false;
  }

  health(): ModuleHealth {
    return {
      status: !this.started ? 'down' : this.tls?.failure ? 'degraded' : 'ok',
      detail: {
        ...(this.tls?.failure ? { tls: this.tls.failure } : {}),
        port: this.port(),
        ...(this.opts.tls ? { tlsPort: this.tlsPort() } : {}),
        dialogs: this.dialogs.size,
        handlerErrors: this.handlerErrors,
        transport: this.transport.stats(),
        transactions: this.transactions.stats(),
      },
    };
  }

  /** The bound SIP port (UDP; TCP uses the same number). */
  port(): number {
    return this.transport.port('udp') || this.transport.port('tcp');
  }

  /** The bound SIP over TLS port, undefined when TLS is off. */
  tlsPort(): number | undefined {
    return this.tls && !this.tls.failure ? this.transport.port('tls') : undefined;
  }

  // ---- middleware -----------------------------------------------------------------------------------------------

  /** Registers a handler for one method (case-insensitive) or '*' for all, run in registration order. */
  use(method: string | RequestHandlerFn, fn?: RequestHandlerFn): this {
    if (typeof method === 'function') this.handlers.push({ method: '*', fn: method });
    else {
      if (!fn) throw new TypeError('use(method, handler): handler missing');
      this.handlers.push({ method: method === '*' ? '*' : method.toUpperCase(), fn });
    }
    this.chains.clear();
    return this;
  }

  private chainFor(method: string): RequestHandlerFn[] {
    let c = this.chains.get(method);
    if (!c) {
      c = this.handlers.filter((h) => h.method === '*' || h.method === method).map((h) => h.fn);
      // Methods are whatever tokens peers send: cache a bounded number so random ones cannot grow the map.
      if (this.chains.size < 64) this.chains.set(method, c);
    }
    return c;
  }

  // ---- DialogHost / ResponseHost ------------------------------------------------------------------------------

  contactFor(transport: TransportKind, user?: string): string {
    const host = this.transport.advertisedAddress;
    const port = this.transport.port(transport) || this.port();
    return `<sip:${user ? user + '@' : ''}${host}:${port}${transport === 'udp' ? '' : `;transport=${transport}`}>`;
  }

  forgetDialog(d: Dialog): void {
    if (this.dialogs.get(d.id) === d) this.dialogs.delete(d.id);
    this.opts.journal?.remove(d.id);
  }

  dialogChanged(d: Dialog): void {
    this.opts.journal?.update(d.id, d.localSeq, d.remoteTarget.format());
  }

  /** A new INVITE dialog: kept in the journal until it ends. */
  private track(d: Dialog): void {
    this.dialogs.set(d.id, d);
    this.opts.journal?.put({
      id: d.id,
      role: d.role,
      callId: d.callId,
      localTag: d.localTag,
      remoteTag: d.remoteTag,
      local: d.local.format(),
      remote: d.remote.format(),
      localSeq: d.localSeq,
      remoteTarget: d.remoteTarget.format(),
      routeSet: d.routeSet,
      flow: { transport: d.flow.transport, address: d.flow.address, port: d.flow.port },
      createdAt: this.clock.now(),
    });
  }

  /** Dialogs alive now (diagnostics, tests). */
  dialogCount(): number {
    return this.dialogs.size;
  }

  /** The dialog with this ID (Replaces, RFC 3891 §3: Call-ID + to-tag + from-tag, seen from our side). */
  findDialog(callId: string, localTag: string, remoteTag: string): Dialog | undefined {
    return this.dialogs.get(dialogKey(callId, localTag, remoteTag));
  }

  async sendRequest(
    req: SipRequest,
    target: Target,
    opts: {
      auth?: Credentials | undefined;
      /** Without auth: a challenge is answered with the credentials of the peer at this flow (a trunk), if any. */
      peerFlow?: Target | undefined;
      onLate2xx?: ((res: SipResponse) => void) | undefined;
      onProvisional?: (res: SipResponse) => void;
    } = {},
  ): Promise<{ res: SipResponse; req: SipRequest }> {
    let current = req;
    let digest: DigestClient | undefined;
    for (let attempt = 0; ; attempt++) {
      const out = new OutgoingRequest(current);
      out.onLate2xx = opts.onLate2xx;
      out.onProvisional = opts.onProvisional;
      this.transactions.sendRequest(current, target, out);
      const res = await out.final;
      if ((res.status === 401 || res.status === 407) && attempt === 0) {
        const auth = opts.auth ?? (opts.peerFlow ? this.peerCredentials?.(opts.peerFlow) : undefined);
        if (!auth) return { res, req: current };
        digest ??= new DigestClient(auth);
        const retry = this.withCredentials(current, res, digest);
        if (retry) {
          current = retry;
          continue;
        }
      }
      return { res, req: current };
    }
  }

  /** §22.2: the same request with credentials for the challenge, CSeq + 1, a new branch; undefined if unanswerable. */
  private withCredentials(req: SipRequest, res: SipResponse, digest: DigestClient): SipRequest | undefined {
    const proxy = res.status === 407;
    const challenges = res.getAll(proxy ? 'proxy-authenticate' : 'www-authenticate');
    const value = digest.authorize({ challenges, method: req.method, uri: req.uri });
    if (!value) return undefined;
    const retry = req.clone();
    retry.remove('via');
    retry.set('cseq', `${req.cseq.seq + 1} ${req.method}`);
    retry.set(proxy ? 'proxy-authorization' : 'authorization', value);
    return retry;
  }

  // ---- incoming ---------------------------------------------------------------------------------------------------

  private receiveStray(res: SipResponse): void {
    if (this.recovered.size > 0 && res.cseq.method === 'INVITE' && res.status >= 200) {
      const r = this.recovered.get(res.via().branch ?? '');
      if (r) {
        this.answerRecovered(r, res);
        return;
      }
    }
    // A retransmitted 2xx to an INVITE whose transaction is gone: the dialog resends its ACK (§13.2.2.4).
    if (res.cseq.method !== 'INVITE' || res.status < 200 || res.status >= 300) return;
    const d = this.dialogs.get(dialogKey(res.callId, res.from().tag ?? '', res.to().tag ?? ''));
    d?.resendAck(res);
  }

  private receiveRequest(msg: SipRequest, source: Source, tx: ServerTransaction | undefined): void {
    const req = new IncomingRequest(msg, source, tx);
    const toTag = msg.to().tag;
    if (msg.method === 'ACK') {
      if (toTag === undefined) return;
      this.dialogs.get(dialogKey(msg.callId, toTag, msg.from().tag ?? ''))?.receive(req, undefined);
      return;
    }
    const res = new ServerResponse(this, req, tx);
    if (msg.method === 'CANCEL') {
      this.receiveCancel(msg, res);
      return;
    }
    if (toTag !== undefined) {
      const d = this.dialogs.get(dialogKey(msg.callId, toTag, msg.from().tag ?? ''));
      if (d) {
        this.safely(req, res, () => d.receive(req, res));
        return;
      }
    } else if (msg.method === 'INVITE' && tx) {
      // RFC 4028 §8.1/§9: an interval below Min-SE gets 422 before anything rings; an accepted one goes into the 2xx.
      const st = acceptSessionTimer(msg, res);
      if (!st) return;
      if (st.kind === 'timer') req.sessionTimer = { interval: st.interval, weRefresh: st.refresher === 'uas' };
      this.inviteContexts.set(tx, { req, res });
      // A CANCEL after the final response changes nothing (§9.2): the context, and the call its listeners hold,
      // need not live as long as the transaction (32 s more in Accepted, RFC 6026).
      const journal = this.opts.journal;
      if (journal) {
        // A ringing INVITE is kept on disk until its final response, so that a crash cannot leave the caller
        // ringing (recoverInvite). Written behind: an INVITE answered within the flush delay costs no write.
        let kept: string | undefined;
        res.afterSend.push((r) => {
          if (r.status >= 200) {
            this.inviteContexts.delete(tx);
            if (kept !== undefined) journal.removeInvite(kept);
          } else if (r.status > 100 && kept === undefined) {
            kept = `uas:${tx.key}`;
            journal.putInvite({ id: kept, role: 'uas', callId: msg.callId, message: () => inviteSkeleton(msg, false), toTag: res.toTag, flow: flowOf(source), createdAt: this.clock.now() });
          }
        });
      } else {
        res.afterSend.push((r) => {
          if (r.status >= 200) this.inviteContexts.delete(tx);
        });
      }
    }
    // §8.2.2.1: a Request-URI scheme we do not understand → 416.
    const ruri = msg.ruri;
    if (ruri.scheme !== 'sip' && ruri.scheme !== 'sips' && ruri.scheme !== 'tel') {
      res.send(416);
      return;
    }
    // §8.2.2.3: "If a UAS does not understand an option-tag listed in a Require header field, it MUST respond by
    // generating a response with status code 420 (Bad Extension)" listing them in Unsupported.
    const require = msg.getAll('require');
    if (require.length > 0) {
      const unsupported = require.filter((t) => !SUPPORTED.has(t.toLowerCase()));
      if (unsupported.length > 0) {
        res.send(420, undefined, { headers: { Unsupported: unsupported.join(', ') } });
        return;
      }
    }
    this.dispatch(req, res);
    if (!res.sent && msg.method !== 'INVITE') this.watch(req, res);
  }

  /**
   * A non-INVITE server transaction has no timer of its own before its final response: a handler that forgets to
   * answer would keep it (and the client's retries) forever. After 64*T1 the stack answers 500 itself.
   */
  private watch(req: IncomingRequest, res: ServerResponse): void {
    // Every 64*T1 watch has the same length: one shared queue, and the final response cancels it (so the request
    // is not kept in memory for 32 s after it was answered).
    const queue = this.transactions.fixedTimers.queue(64 * this.timers.T1);
    const timer = queue.add(() => {
      if (res.sent) return;
      this.handlerErrors++;
      this.log.warn('no handler answered in time: 500 sent', { method: req.method, callId: req.callId });
      res.send(500, 'No Response From Handler');
    });
    res.afterSend.push((r) => {
      if (r.status >= 200) queue.cancel(timer);
    });
  }

  /** §9.2: CANCEL matched to its INVITE: 200 to the CANCEL, `cancel` event, then 487 to the INVITE. */
  private receiveCancel(cancel: SipRequest, res: ServerResponse): void {
    const inv = this.transactions.findInviteFor(cancel);
    if (!inv) {
      res.send(481);
      return;
    }
    res.send(200);
    const ctx = this.inviteContexts.get(inv);
    if (!ctx || ctx.res.sent) return;
    ctx.req.canceled = true;
    try {
      ctx.req.emit('cancel', cancel);
    } catch (err) {
      this.log.error('cancel listener failed', { error: err instanceof Error ? err.message : String(err) });
    }
    if (!ctx.res.sent) ctx.res.send(487);
  }

  private dispatch(req: IncomingRequest, res: ServerResponse): void {
    const chain = this.chainFor(req.method);
    let i = 0;
    const next: NextFunction = (err?: unknown) => {
      if (err !== undefined) {
        this.handlerFailed(err, req, res);
        return;
      }
      if (res.sent) return;
      const fn = chain[i++];
      if (!fn) {
        this.fallback(req, res);
        return;
      }
      this.safely(req, res, () => fn(req, res, next));
    };
    next();
  }

  private safely(req: IncomingRequest, res: ServerResponse, run: () => void | Promise<void>): void {
    try {
      const r = run();
      if (r && typeof (r as Promise<void>).then === 'function') (r as Promise<void>).catch((err: unknown) => this.handlerFailed(err, req, res));
    } catch (err) {
      this.handlerFailed(err, req, res);
    }
  }

  private handlerFailed(err: unknown, req: IncomingRequest, res: ServerResponse): void {
    if (err instanceof SipError) {
      if (!res.sent) res.send(err.status, err.reason);
      return;
    }
    this.handlerErrors++;
    this.log.error('sip request handler failed', { method: req.method, callId: req.callId, error: err instanceof Error ? err.stack : String(err) });
    if (!res.sent) res.send(500);
  }

  /** What happens when no handler answered: keep-alive OPTIONS, 480 for INVITE, 481 in dialog, 405/501 else. */
  private fallback(req: IncomingRequest, res: ServerResponse): void {
    const m = req.method;
    if (req.msg.to().tag !== undefined && m !== 'OPTIONS') {
      res.send(481);
      return;
    }
    if (m === 'OPTIONS') {
      res.send(200, undefined, { headers: { Allow: ALLOW, Accept: 'application/sdp', Supported: 'replaces, path' } });
    } else if (m === 'INVITE') {
      res.send(480);
    } else if (m === 'BYE') {
      res.send(481);
    } else if (KNOWN_METHODS.has(m)) {
      res.send(405, undefined, { headers: { Allow: ALLOW } });
    } else {
      res.send(501);
    }
  }

  // ---- outgoing: out-of-dialog requests ---------------------------------------------------------------------------

  private newRequest(method: string, uri: SipUri, headers: HeaderInit | undefined, transport: TransportKind): SipRequest {
    const req = new SipRequest(method, uri);
    req.append('max-forwards', 70);
    req.append('from', `<sip:relais@${this.domain}>;tag=${sipToken(6)}`);
    req.append('to', `<${uri.format()}>`);
    req.append('call-id', `${sipToken(12)}@${this.transport.advertisedAddress}`);
    req.append('cseq', `${1 + Math.floor(Math.random() * 10000)} ${method}`);
    req.append('user-agent', this.userAgent);
    if (method === 'INVITE' || method === 'SUBSCRIBE' || method === 'REFER') req.append('contact', this.contactFor(transport));
    // §20.5: an INVITE SHOULD say which methods may be used in the dialog (phones then know UPDATE and REFER work).
    if (method === 'INVITE') req.append('allow', ALLOW);
    req.addHeaders(headers);
    // A caller-provided From without a tag still needs one (§8.1.1.3).
    const from = req.from();
    if (from.tag === undefined) {
      from.tag = sipToken(6);
      req.set('from', from.format());
    }
    return req;
  }

  /** Sends an out-of-dialog request and resolves its final response (408/503 synthesized on timeout/failure). */
  async request(opts: RequestOptions): Promise<SipResponse> {
    const uri = typeof opts.uri === 'string' ? SipUri.parse(opts.uri) : opts.uri;
    const target = opts.target ?? targetOf(uri);
    const req = this.newRequest(opts.method.toUpperCase(), uri, opts.headers, target.transport);
    if (opts.body !== undefined) req.setBody(opts.body, opts.contentType ?? 'text/plain');
    const { res } = await this.sendRequest(req, target, { auth: opts.auth });
    return res;
  }

  // ---- intent-level API -------------------------------------------------------------------------------------------

  /**
   * Answers an incoming INVITE with 200 + localSdp and resolves the dialog once the ACK arrives (the 2xx is
   * retransmitted until then, §13.3.1.4). Rejects with SipError(487) if the INVITE was canceled.
   */
  createUas(req: IncomingRequest, res: ServerResponse, opts: UasOptions = {}): Promise<Dialog> {
    const msg = req.msg;
    if (msg.method !== 'INVITE') return Promise.reject(new Error(`createUas needs an INVITE, got ${msg.method}`));
    if (req.canceled) return Promise.reject(new SipError(487, 'Request Terminated'));
    if (res.sent) return Promise.reject(new SipError(500, 'a final response was already sent'));
    const sent = res.send(200, undefined, opts.localSdp !== undefined ? { body: opts.localSdp, headers: opts.headers } : { headers: opts.headers });
    if (!sent) return Promise.reject(new SipError(500, 'the INVITE has no transaction'));
    const contact = safeContact(msg);
    const d = new Dialog(this, {
      role: 'uas',
      callId: msg.callId,
      localTag: res.toTag,
      remoteTag: msg.from().tag ?? '',
      local: sent.to(),
      remote: msg.from(),
      localSeq: Math.floor(Math.random() * 10000),
      remoteSeq: msg.cseq.seq,
      remoteTarget: contact ?? msg.from().uri,
      routeSet: msg.getAll('record-route'),
      flow: req.source,
      localSdp: opts.localSdp,
      remoteSdp: msg.body.length > 0 ? msg.bodyText : undefined,
      peerAllowsUpdate: allows(msg, 'UPDATE'),
    });
    this.track(d);
    if (req.sessionTimer) d.startSessionTimer(req.sessionTimer.interval, req.sessionTimer.weRefresh);
    return new Promise<Dialog>((resolve, reject) => {
      // Once settled, later outcomes are no-ops: do not build their SipError (an Error captures a stack trace, and
      // every call that the caller ends with BYE used to make one here after the ACK had long resolved).
      let settled = false;
      const hungUp = (reason?: unknown): void => {
        if (settled || reason !== 'remote-bye') return;
        settled = true;
        reject(new SipError(487, 'Caller hung up before ACK'));
      };
      // Once settled the listener goes: it closes over this call's INVITE and 200, which the dialog would otherwise
      // keep for the whole call (docs/performance.md, "Session 9").
      const settle = (): void => {
        settled = true;
        d.off('destroy', hungUp);
      };
      d.retransmit2xx(
        sent,
        req.source,
        () => {
          settle();
          resolve(d);
        },
        () => {
          if (settled) return;
          settle();
          reject(new SipError(408, 'ACK not received'));
        },
      );
      d.once('destroy', hungUp);
    });
  }

  /** Sends an INVITE and resolves the confirmed dialog on 2xx (ACK sent); non-2xx rejects with SipError. */
  async createUac(uri: string | SipUri, opts: UacOptions = {}): Promise<Dialog> {
    const ruri = typeof uri === 'string' ? SipUri.parse(uri) : uri;
    const target = opts.target ?? targetOf(ruri);
    let req = this.newRequest('INVITE', ruri, opts.headers, target.transport);
    if (opts.localSdp !== undefined) req.setBody(opts.localSdp, 'application/sdp');
    const digest = opts.auth ? new DigestClient(opts.auth) : undefined;
    let canceled = opts.signal?.aborted ?? false;
    let authTried = false;
    let dialog: Dialog | undefined;
    // The dialog that answers retransmitted 2xx with its ACK while the INVITE transaction waits out Timer M (32 s);
    // emptied when the dialog ends, so the ended call is not kept in memory until then.
    const late: { dialog: Dialog | undefined } = { dialog: undefined };
    for (;;) {
      const out = new OutgoingRequest(req);
      let provisional = false;
      let cancelSent = false;
      const current = req;
      const sendCancel = (): void => {
        if (cancelSent || out.completed) return;
        cancelSent = true;
        void this.sendRequest(buildCancel(current), tx.flow ?? target).catch(() => {});
      };
      let kept: string | undefined;
      out.onProvisional = (r) => {
        provisional = true;
        if (kept === undefined && this.opts.journal) {
          // Ringing (§9.1: a CANCEL may now be sent): kept on disk until the final response, for a CANCEL after a crash.
          kept = `uac:${current.via().branch ?? ''}`;
          this.opts.journal.putInvite({ id: kept, role: 'uac', callId: current.callId, message: () => inviteSkeleton(current, true), toTag: '', flow: flowOf(tx.flow ?? target), createdAt: this.clock.now() });
        }
        if (canceled) sendCancel();
        else if (r.status > 100) opts.onProvisional?.(r);
      };
      out.onLate2xx = lateAcker(late);
      const onAbort = (): void => {
        canceled = true;
        // §9.1: "If no provisional response has been received, the CANCEL request MUST NOT be sent; rather, the
        // client MUST wait for the arrival of a provisional response before sending the request."
        if (provisional) sendCancel();
      };
      opts.signal?.addEventListener('abort', onAbort);
      let ringTimedOut = false;
      const ringMs = opts.ringTimeoutMs ?? 180_000;
      const ringTimer =
        ringMs > 0
          ? this.clock.setTimeout(() => {
              ringTimedOut = true;
              onAbort();
            }, ringMs)
          : undefined;
      const tx = this.transactions.sendRequest(req, target, out);
      let res: SipResponse;
      try {
        res = await out.final;
      } finally {
        opts.signal?.removeEventListener('abort', onAbort);
        this.clock.clearTimeout(ringTimer);
        if (kept !== undefined) this.opts.journal?.removeInvite(kept);
      }
      if (ringTimedOut && (res.status < 200 || res.status >= 300)) throw new SipError(408, 'No Answer', res);
      if (res.status >= 200 && res.status < 300) {
        const flow = tx.flow ?? target;
        dialog = this.uacDialog(req, res, flow, opts);
        late.dialog = dialog;
        dialog.once('destroy', forgetOnEnd(late));
        // §13.2.2.4: the ACK goes where the dialog's other requests go.
        const ackTarget = dialog.nextHop();
        let ackBody: string | undefined;
        if (opts.localSdp === undefined && opts.ackSdp && res.body.length > 0) {
          try {
            ackBody = await opts.ackSdp(res.bodyText);
            dialog.localSdp = ackBody;
          } catch (err) {
            // No answer to give: acknowledge (the 2xx must be ACKed) and hang up at once.
            dialog.sendAck(req, res, ackTarget);
            void dialog.destroy();
            throw err;
          }
        }
        dialog.sendAck(req, res, ackTarget, ackBody);
        if (canceled) {
          // The 2xx crossed our CANCEL: the call was established, so end it at once (§9.1 race).
          void dialog.destroy();
          throw new SipError(487, 'Request Terminated');
        }
        return dialog;
      }
      if ((res.status === 401 || res.status === 407) && digest && !authTried && !canceled) {
        authTried = true;
        const retry = this.withCredentials(req, res, digest);
        if (retry) {
          req = retry;
          continue;
        }
      }
      if (canceled) throw new SipError(487, 'Request Terminated', res);
      throw new SipError(res.status, res.reason, res);
    }
  }

  private uacDialog(req: SipRequest, res: SipResponse, flow: Target, opts: UacOptions): Dialog {
    const contact = safeContact(res);
    const d = new Dialog(this, {
      role: 'uac',
      callId: req.callId,
      localTag: req.from().tag ?? '',
      remoteTag: res.to().tag ?? '',
      local: req.from(),
      remote: res.to(),
      localSeq: req.cseq.seq,
      remoteSeq: undefined,
      remoteTarget: contact ?? req.ruri,
      // §12.1.2: "The route set MUST be set to the list of URIs in the Record-Route header field from the
      // response, taken in reverse order".
      routeSet: res.getAll('record-route').reverse(),
      flow,
      localSdp: opts.localSdp,
      remoteSdp: res.body.length > 0 ? res.bodyText : undefined,
      auth: opts.auth,
      peerAllowsUpdate: allows(res, 'UPDATE'),
    });
    this.track(d);
    // RFC 4028 §7.2: a 2xx with Session-Expires starts the session timer; refresher=uac means us.
    const se = res.get('session-expires');
    if (se !== undefined) {
      try {
        const parsed = parseSessionExpires(se);
        if (parsed.interval > 0) d.startSessionTimer(Math.max(parsed.interval, MIN_SE), parsed.refresher === 'uac');
      } catch {
        this.log.debug('unreadable Session-Expires in a 2xx ignored', { callId: req.callId, value: se });
      }
    }
    return d;
  }

  /**
   * Back-to-back user agent: calls `uri` (or every target in parallel: first 2xx wins, the others are CANCELled),
   * relays provisionals to A, answers A with B's answer, propagates CANCEL A→B and BYE both ways.
   */
  async createB2bua(req: IncomingRequest, res: ServerResponse, uri: string | SipUri | B2buaTarget[], opts: B2buaOptions = {}): Promise<B2buaResult> {
    const targets: B2buaTarget[] = Array.isArray(uri) ? uri : [{ uri }];
    if (targets.length === 0) throw new Error('createB2bua: no target');
    const offer = opts.localSdpB ?? (req.msg.body.length > 0 ? req.msg.bodyText : undefined);
    // Late offer from A (INVITE without SDP): B's 2xx offer goes to A in our 200, A's ACK answer goes to B's ACK.
    let lateUas: Promise<Dialog> | undefined;
    const ackSdp =
      offer === undefined && opts.localSdpA === undefined
        ? async (offerB: string): Promise<string> => {
            lateUas = this.createUas(req, res, { localSdp: offerB, headers: opts.responseHeaders });
            const d = await lateUas;
            if (d.remoteSdp === undefined) throw new SipError(488, 'no answer in the ACK');
            return d.remoteSdp;
          }
        : undefined;
    const cancel = new Abort();
    const onCancel = (): void => cancel.abort();
    req.on('cancel', onCancel);
    const outcome = await forkInvite<Dialog>(
      targets.map((t) => (ctl) =>
        this.createUac(t.uri, {
          localSdp: offer,
          headers: opts.headers,
          target: t.target,
          auth: opts.auth,
          signal: ctl.signal,
          ...(ackSdp ? { ackSdp } : {}),
          onProvisional: ctl.onProvisional,
        }),
      ),
      {
        signal: cancel,
        release: (d) => void d.destroy(),
        onProvisional: (p) => {
          opts.onProvisional?.(p);
          if (opts.passProvisional === false || res.sent || req.canceled) return;
          const sdp = opts.localSdpA === undefined && p.body.length > 0 && p.contentType?.startsWith('application/sdp') ? p.bodyText : undefined;
          res.send(p.status, p.reason, sdp !== undefined ? { body: sdp } : {});
        },
      },
    );
    if (!outcome.ok) {
      req.off('cancel', onCancel);
      const e = bestFailure(outcome.cancelled || outcome.failures.length === 0 ? [new SipError(487, 'Request Terminated')] : outcome.failures);
      if (opts.passFailure !== false && !res.sent && !req.canceled) res.send(e.status === 487 ? 487 : e.status, e.reason);
      throw e;
    }
    const uac = outcome.dialog;
    req.off('cancel', onCancel);
    if (lateUas) {
      const uas = await lateUas;
      uas.on('destroy', () => void uac.destroy());
      uac.on('destroy', () => void uas.destroy());
      if (opts.relayInDialog ?? true) {
        relayInDialog(uas, uac);
        relayInDialog(uac, uas);
      }
      return { uas, uac };
    }
    let answer: string | undefined;
    try {
      const remote = uac.remoteSdp ?? '';
      answer = typeof opts.localSdpA === 'function' ? await opts.localSdpA(remote) : (opts.localSdpA ?? uac.remoteSdp);
    } catch (err) {
      void uac.destroy();
      if (!res.sent) res.send(500);
      throw err;
    }
    let uas: Dialog;
    try {
      uas = await this.createUas(req, res, { localSdp: answer, headers: opts.responseHeaders });
    } catch (err) {
      void uac.destroy();
      throw err;
    }
    uas.on('destroy', () => void uac.destroy());
    uac.on('destroy', () => void uas.destroy());
    if (opts.relayInDialog ?? (opts.localSdpA === undefined && opts.localSdpB === undefined)) {
      relayInDialog(uas, uac);
      relayInDialog(uac, uas);
    }
    return { uas, uac };
  }
}

/** Pass-through of re-INVITE/UPDATE (hold, resume) and INFO (DTMF) from `from` to `to`, answering with to's answer. */
function relayInDialog(from: Dialog, to: Dialog): void {
  from.on('modify', (req, res) => {
    const offer = req.msg.body.length > 0 ? req.msg.bodyText : undefined;
    if (offer === undefined) {
      res.send(200, undefined, from.localSdp !== undefined ? { body: from.localSdp } : {});
      return;
    }
    to.modify(offer).then(
      (answer) => res.send(200, undefined, { body: answer }),
      (err: unknown) => res.send(err instanceof SipError ? err.status : 500, err instanceof SipError ? err.reason : undefined),
    );
  });
  from.on('info', (req, res) => {
    const contentType = req.msg.contentType;
    to.request('INFO', req.msg.body.length > 0 ? { body: req.msg.body, contentType: contentType ?? 'application/octet-stream' } : {}).then(
      (r) => res.send(r.status, r.reason),
      () => res.send(500),
    );
  });
}

/**
 * What recovering a ringing INVITE needs, as a SIP message without body: Request-URI, Via (our own alone for an
 * INVITE we sent, the caller's whole stack with received/rport for one we received), From, To, Call-ID, CSeq, Route.
 */
function inviteSkeleton(inv: SipRequest, topViaOnly: boolean): string {
  const r = new SipRequest('INVITE', inv.uri);
  if (topViaOnly) r.append('via', inv.via().format());
  else for (const v of inv.getAll('via')) r.append('via', v);
  for (const h of ['from', 'to', 'call-id', 'cseq']) r.append(h, inv.get(h)!);
  for (const route of inv.getAll('route')) r.append('route', route);
  return r.serialize().toString('latin1');
}

function flowOf(t: Target): { transport: TransportKind; address: string; port: number } {
  return { transport: t.transport, address: t.address, port: t.port };
}

function safeContact(msg: SipMessage): SipUri | undefined {
  try {
    return msg.contacts()[0]?.uri;
  } catch {
    return undefined;
  }
}

/**
 * §9.1: "The Request-URI, Call-ID, To, the numeric part of CSeq, and From header fields in the CANCEL request MUST
 * be identical to those in the request being cancelled, including tags ... [and] a single Via header field value
 * matching the top Via value in the request being cancelled"; Route copied as well.
 */
export function buildCancel(inv: SipRequest): SipRequest {
  const c = new SipRequest('CANCEL', inv.uri);
  c.append('via', inv.via().format());
  c.append('max-forwards', 70);
  c.append('from', inv.get('from')!);
  c.append('to', inv.get('to')!);
  c.append('call-id', inv.callId);
  c.append('cseq', `${inv.cseq.seq} CANCEL`);
  for (const r of inv.getAll('route')) c.append('route', r);
  return c;
}

/** One failure for A out of the legs' failures: busy beats unavailable beats the rest (cf. §16.7 step 6). */
function bestFailure(errs: unknown[]): SipError {
  const list = errs.map((e) => (e instanceof SipError ? e : new SipError(500, e instanceof Error ? e.message.slice(0, 80) : 'Server Internal Error')));
  const rank = (s: number): number => (s >= 600 ? 0 : s === 486 ? 1 : s === 487 ? 2 : s === 480 ? 4 : s === 408 ? 5 : 3);
  return list.sort((a, b) => rank(a.status) - rank(b.status))[0]!;
}

/** A late-2xx handler holding only `holder` (a closure made inside createUac would keep its whole scope alive). */
function lateAcker(holder: { dialog: Dialog | undefined }): (res: SipResponse) => void {
  return (r) => holder.dialog?.resendAck(r);
}

/**
 * Empties the late-2xx holder when its dialog ends. Made out here, not in createUac: a closure there would keep
 * createUac's whole scope (the INVITE, its 200, the outgoing request) for the life of the call.
 */
function forgetOnEnd(holder: { dialog: Dialog | undefined }): () => void {
  return () => (holder.dialog = undefined);
}

/** Whether the peer lists `method` in its Allow header (absent Allow: unknown, taken as no). */
function allows(msg: SipMessage, method: string): boolean {
  for (const m of msg.getAll('allow')) if (m.trim().toUpperCase() === method) return true;
  return false;
}
