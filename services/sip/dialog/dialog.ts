// A SIP dialog (RFC 3261 §12): identifiers, route set, CSeq, target refresh, re-INVITE/UPDATE, BYE, events.
import { TypedEmitter, isPrivateAddress, type Clock, type Logger, type TimerHandle } from '../../shared/index.js';
import {
  NameAddr,
  SipRequest,
  SipResponse,
  SipUri,
  type HeaderInit,
} from '../message/index.js';
import { type TimerConfig, type TransactionLayer } from '../transaction/index.js';
import { type Source, type Target, type TransportKind } from '../transport/index.js';
import { type IncomingRequest } from '../user-agent/incoming-request.js';
import { type ServerResponse } from '../user-agent/server-response.js';
import { SipError } from './sip-error.js';
import { targetOf } from './target.js';
import { MIN_SE, SessionTimer, acceptSessionTimer, formatSessionExpires, parseSessionExpires } from './session-timer.js';

export type DialogRole = 'uas' | 'uac';
export type DialogState = 'confirmed' | 'terminated';

/**
 * Why a dialog ended: 'remote-bye' (the peer sent BYE), 'local' (destroy() was called), 'ack-timeout' (our 2xx
 * was never ACKed, §13.3.1.4), 'remote-gone' (an in-dialog request got 481/408, §12.2.1.2), 'session-expired' (the
 * peer stopped refreshing the session, or our refresh failed: RFC 4028 §10).
 */
export type DialogEndReason = 'remote-bye' | 'local' | 'ack-timeout' | 'remote-gone' | 'session-expired';

export type DialogEvents = {
  /** Emitted exactly once when the dialog ends, whatever the cause. */
  destroy: [reason: DialogEndReason, bye?: SipRequest];
  /** A re-INVITE or UPDATE: answer with res.send(200, ..., {body: sdp}). Without a listener it is answered with localSdp. */
  modify: [req: IncomingRequest, res: ServerResponse];
  refer: [req: IncomingRequest, res: ServerResponse];
  info: [req: IncomingRequest, res: ServerResponse];
  notify: [req: IncomingRequest, res: ServerResponse];
  /** The ACK that confirmed our 2xx (UAS side), including an answer SDP for a late offer. */
  ack: [ack: SipRequest];
};

export interface DialogRequestOptions {
  headers?: HeaderInit;
  body?: Buffer | string;
  contentType?: string;
}

/** What a dialog needs from the user-agent core. */
export interface DialogHost {
  readonly transactions: TransactionLayer;
  readonly clock: Clock;
  readonly log: Logger;
  readonly timers: TimerConfig;
  readonly userAgent: string;
  contactFor(transport: TransportKind, user?: string): string;
  /** Sends a request through a client transaction, answering one digest challenge if credentials are known. */
  sendRequest(
    req: SipRequest,
    target: Target,
    opts: { auth?: { username: string; password: string } | undefined; peerFlow?: Target | undefined; onLate2xx?: (res: SipResponse) => void },
  ): Promise<{ res: SipResponse; req: SipRequest }>;
  forgetDialog(d: Dialog): void;
  /** Our CSeq or the peer's target moved (the dialog journal keeps what a BYE after a crash needs). */
  dialogChanged?(d: Dialog): void;
}

export interface DialogInit {
  role: DialogRole;
  callId: string;
  localTag: string;
  remoteTag: string;
  local: NameAddr;
  remote: NameAddr;
  localSeq: number;
  remoteSeq: number | undefined;
  remoteTarget: SipUri;
  routeSet: string[];
  flow: Target;
  localSdp: string | undefined;
  remoteSdp: string | undefined;
  auth?: { username: string; password: string } | undefined;
  /** The peer listed UPDATE in its Allow: session refreshes go as UPDATE, else as re-INVITE (RFC 4028 §7.4). */
  peerAllowsUpdate?: boolean;
}

export class Dialog extends TypedEmitter<DialogEvents> {
  readonly role: DialogRole;
  readonly callId: string;
  readonly localTag: string;
  readonly remoteTag: string;
  /** Our identity in this dialog (From for a UAC, To for a UAS), with our tag. */
  readonly local: NameAddr;
  /** The peer's identity, with its tag. */
  readonly remote: NameAddr;
  state: DialogState = 'confirmed';
  localSeq: number;
  remoteSeq: number | undefined;
  remoteTarget: SipUri;
  readonly routeSet: string[];
  /** The flow to the peer (the connection of a TCP phone), used while the route set is empty. */
  flow: Target;
  localSdp: string | undefined;
  remoteSdp: string | undefined;
  private readonly auth: { username: string; password: string } | undefined;
  private outgoingInvite = false;
  private incomingInvite = false;
  /** Our last 2xx to an INVITE awaiting its ACK (UAS side and re-INVITEs we answered). */
  private pending2xx: { cseq: number; bytes: Buffer; target: Target; interval: number; timerG?: TimerHandle; timerH?: TimerHandle; onAck?: (ack: SipRequest) => void; onTimeout?: () => void } | undefined;
  /**
   * The ACK we sent for the peer's last 2xx, resent when that 2xx is retransmitted (§13.2.2.4). As latin1 text: a
   * pooled Buffer slice would keep its whole 8 KiB slab for the dialog's life.
   */
  private lastAck: { cseq: number; bytes: string; target: Target } | undefined;
  private ended = false;
  private sessionTimer: SessionTimer | undefined;
  private readonly peerAllowsUpdate: boolean;

  constructor(
    private readonly host: DialogHost,
    init: DialogInit,
  ) {
    super();
    this.role = init.role;
    this.callId = init.callId;
    this.localTag = init.localTag;
    this.remoteTag = init.remoteTag;
    this.local = init.local;
    this.remote = init.remote;
    this.localSeq = init.localSeq;
    this.remoteSeq = init.remoteSeq;
    this.remoteTarget = init.remoteTarget;
    this.routeSet = init.routeSet;
    this.flow = init.flow;
    this.localSdp = init.localSdp;
    this.remoteSdp = init.remoteSdp;
    this.auth = init.auth;
    this.peerAllowsUpdate = init.peerAllowsUpdate ?? false;
  }

  /** Dialog ID (§12): Call-ID, local tag, remote tag. */
  get id(): string {
    return dialogKey(this.callId, this.localTag, this.remoteTag);
  }

  get destroyed(): boolean {
    return this.ended;
  }

  // ---- outgoing requests ---------------------------------------------------------------------------------------

  /**
   * §12.2.1.1: Request-URI = remote target (loose routing), Route = route set, To/From/Call-ID of the dialog,
   * CSeq one more than the last one we sent.
   */
  private build(method: string, opts: DialogRequestOptions, seq?: number): SipRequest {
    const req = new SipRequest(method, this.remoteTarget.clone());
    req.append('max-forwards', 70);
    req.append('from', this.local.format());
    req.append('to', this.remote.format());
    req.append('call-id', this.callId);
    req.append('cseq', `${seq ?? ++this.localSeq} ${method}`);
    if (seq === undefined && !this.ended) this.host.dialogChanged?.(this);
    for (const r of this.routeSet) req.append('route', r);
    if (method === 'INVITE' || method === 'UPDATE' || method === 'REFER' || method === 'SUBSCRIBE' || method === 'NOTIFY') {
      req.append('contact', this.host.contactFor(this.flow.transport));
    }
    req.append('user-agent', this.host.userAgent);
    req.addHeaders(opts.headers);
    if (opts.body !== undefined) req.setBody(opts.body, opts.contentType ?? 'application/sdp');
    return req;
  }

  /**
   * Where in-dialog requests go (§12.2.1.1): the first Route, else the remote target. Two exceptions keep phones
   * reachable: a TCP connection the peer opened is reused while it is open, and a private remote target seen from
   * a public source address (the peer is behind NAT) is reached through the flow it used.
   */
  nextHop(): Target {
    if (this.routeSet.length > 0) {
      try {
        return targetOf(NameAddr.parse(this.routeSet[0]!, 'Route').uri, this.flow.transport);
      } catch {
        /* unusable route: fall back on the remote target */
      }
    }
    const flow = this.flow;
    if (flow.connectionId && this.host.transactions.transport.hasConnection(flow.connectionId)) return flow;
    let target: Target;
    try {
      target = targetOf(this.remoteTarget, flow.transport);
    } catch {
      return flow;
    }
    if (target.address === '' || (isPrivateAddress(target.address) && !isPrivateAddress(flow.address))) return flow;
    return target;
  }

  /** Sends an in-dialog request and resolves its final response (ACK sent for a 2xx to INVITE). */
  async request(method: string, opts: DialogRequestOptions = {}): Promise<SipResponse> {
    const m = method.toUpperCase();
    if (this.ended && m !== 'BYE') throw new SipError(481, 'Dialog is terminated');
    if (m === 'ACK' || m === 'CANCEL') throw new Error(`${m} is not sent with dialog.request()`);
    if (m === 'INVITE') {
      if (this.outgoingInvite || this.incomingInvite) throw new SipError(491, 'Request Pending');
      this.outgoingInvite = true;
    }
    try {
      const req = this.build(m, opts);
      const target = this.nextHop();
      const { res, req: sent } = await this.host.sendRequest(req, target, {
        auth: this.auth,
        // §22: a peer challenging an in-dialog request (a provider asking BYE for credentials) gets the
        // credentials of the trunk at the dialog's flow; sent to that trunk only.
        peerFlow: this.flow,
        onLate2xx: m === 'INVITE' ? (late) => this.resendAck(late) : undefined,
      });
      if (m === 'INVITE' && res.status >= 200 && res.status < 300) this.sendAck(sent, res, target);
      if (res.status >= 200 && res.status < 300) this.refreshTarget(res);
      if ((res.status === 481 || res.status === 408) && m !== 'BYE') {
        // §12.2.1.2: "If the response for a request within a dialog is a 481 (Call/Transaction Does Not Exist)
        // or a 408 (Request Timeout), the UAC SHOULD terminate the dialog."
        this.end('remote-gone');
      }
      return res;
    } finally {
      if (m === 'INVITE') this.outgoingInvite = false;
    }
  }

  /** Re-INVITE with a new offer (hold, resume, codec change); resolves the peer's answer. */
  async modify(sdp: string): Promise<string> {
    const res = await this.request('INVITE', { body: sdp });
    if (res.status < 200 || res.status >= 300) throw new SipError(res.status, res.reason, res);
    this.localSdp = sdp;
    if (res.body.length > 0) this.remoteSdp = res.bodyText;
    return this.remoteSdp ?? '';
  }

  /** Ends the dialog: sends BYE once (idempotent; later calls resolve at once). */
  async destroy(opts: DialogRequestOptions = {}): Promise<void> {
    if (this.ended) return;
    this.end('local');
    try {
      await this.request('BYE', opts);
    } catch (err) {
      this.host.log.debug('BYE failed', { callId: this.callId, error: err instanceof Error ? err.message : String(err) });
    }
  }

  /** §13.2.2.4: the ACK for a 2xx: CSeq number of the INVITE, method ACK, same credentials, new branch. */
  sendAck(invite: SipRequest, res: SipResponse, target: Target, body?: string): void {
    const seq = invite.cseq.seq;
    const ack = this.build('ACK', body !== undefined ? { body } : {}, seq);
    for (const h of ['authorization', 'proxy-authorization']) for (const v of invite.getAll(h)) ack.append(h, v);
    this.host.transactions.addVia(ack, target);
    const bytes = ack.serialize();
    this.lastAck = { cseq: seq, bytes: bytes.toString('latin1'), target };
    void this.host.transactions.transport.sendRaw(bytes, target).catch(() => {});
    void res;
  }

  /** A 2xx retransmission arrived: resend our ACK for it. */
  resendAck(res: SipResponse): void {
    if (this.lastAck && res.cseq.seq === this.lastAck.cseq) {
      void this.host.transactions.transport.sendRaw(Buffer.from(this.lastAck.bytes, 'latin1'), this.lastAck.target).catch(() => {});
    }
  }

  private refreshTarget(msg: SipRequest | SipResponse): void {
    // §12.2.1.2 / §12.2.2: a target refresh request or its 2xx replaces the remote target with its Contact.
    const m = msg instanceof SipRequest ? msg.method : msg.cseq.method;
    if (m !== 'INVITE' && m !== 'UPDATE' && m !== 'SUBSCRIBE' && m !== 'NOTIFY' && m !== 'REFER') return;
    try {
      const c = msg.contacts()[0];
      if (c && c.uri.format() !== this.remoteTarget.format()) {
        this.remoteTarget = c.uri;
        if (!this.ended) this.host.dialogChanged?.(this);
      }
    } catch {
      /* keep the old target */
    }
  }

  // ---- 2xx retransmission (UAS core, §13.3.1.4) ----------------------------------------------------------------

  /**
   * "The 2xx response is passed to the transport with an interval that starts at T1 seconds and doubles for each
   * retransmission until it reaches T2 seconds ... Response retransmissions cease when an ACK request for the
   * response is received." After 64*T1 without ACK the session is ended with BYE.
   */
  retransmit2xx(res: SipResponse, source: Source, onAck?: (ack: SipRequest) => void, onTimeout?: () => void): void {
    this.stop2xx();
    const transport = this.host.transactions.transport;
    const target = transport.responseTarget(res, source);
    const reliable = transport.isReliable(target.transport);
    const p: NonNullable<Dialog['pending2xx']> = { cseq: res.cseq.seq, bytes: res.serialize(), target, interval: this.host.timers.T1, onAck, onTimeout };
    this.pending2xx = p;
    const clock = this.host.clock;
    const tick = (): void => {
      if (this.pending2xx !== p) return;
      void transport.sendRaw(p.bytes, p.target).catch(() => {});
      p.interval = Math.min(2 * p.interval, this.host.timers.T2);
      p.timerG = clock.setTimeout(tick, p.interval);
    };
    if (!reliable) p.timerG = clock.setTimeout(tick, p.interval);
    p.timerH = clock.setTimeout(() => {
      if (this.pending2xx !== p) return;
      this.stop2xx();
      this.host.log.info('2xx never acknowledged: ending the session', { callId: this.callId });
      p.onTimeout?.();
      void this.timeoutEnd();
    }, 64 * this.host.timers.T1);
  }

  private async timeoutEnd(): Promise<void> {
    if (this.ended) return;
    this.end('ack-timeout');
    try {
      await this.request('BYE');
    } catch {
      /* the peer is gone anyway */
    }
  }

  private stop2xx(): void {
    const p = this.pending2xx;
    if (!p) return;
    this.host.clock.clearTimeout(p.timerG);
    this.host.clock.clearTimeout(p.timerH);
    this.pending2xx = undefined;
  }

  // ---- incoming in-dialog requests -----------------------------------------------------------------------------

  /** Handles a request that carries this dialog's ID. `res` is undefined for ACK. */
  receive(req: IncomingRequest, res: ServerResponse | undefined): void {
    const msg = req.msg;
    const method = msg.method;
    if (method === 'ACK') {
      const p = this.pending2xx;
      if (p && msg.cseq.seq === p.cseq) {
        const onAck = p.onAck;
        this.stop2xx();
        if (msg.body.length > 0) this.remoteSdp = msg.bodyText;
        onAck?.(msg);
        this.emit('ack', msg);
      }
      return;
    }
    if (!res) return;
    // §12.2.2: "If the remote sequence number was not empty, but the sequence number of the request is lower than
    // the remote sequence number, the request is out of order and MUST be rejected with a 500".
    const seq = msg.cseq.seq;
    if (this.remoteSeq !== undefined && seq <= this.remoteSeq && method !== 'CANCEL') {
      res.send(500, 'Request Out Of Order');
      return;
    }
    this.remoteSeq = seq;
    if (this.ended) {
      res.send(481);
      return;
    }
    switch (method) {
      case 'BYE':
        res.send(200);
        this.end('remote-bye', msg);
        return;
      case 'INVITE':
      case 'UPDATE':
        this.receiveModify(req, res);
        return;
      case 'REFER':
        if (this.listenerCount('refer') > 0) this.emit('refer', req, res);
        else res.send(603, 'Decline');
        return;
      case 'INFO':
        if (this.listenerCount('info') > 0) this.emit('info', req, res);
        else res.send(200);
        return;
      case 'NOTIFY':
        if (this.listenerCount('notify') > 0) this.emit('notify', req, res);
        else res.send(200);
        return;
      case 'OPTIONS':
        res.send(200);
        return;
      default:
        res.send(405, undefined, { headers: { Allow: ALLOW } });
    }
  }

  private receiveModify(req: IncomingRequest, res: ServerResponse): void {
    const msg = req.msg;
    if (msg.method === 'INVITE') {
      // §14.2: "A UAS that receives a second INVITE before it sends the final response to a first INVITE with a
      // lower CSeq sequence number on the same dialog MUST return a 500 ... with a Retry-After"; "A UAS that
      // receives an INVITE on a dialog while an INVITE it had sent on that dialog is in progress MUST return a
      // 491 (Request Pending)".
      if (this.outgoingInvite) {
        res.send(491);
        return;
      }
      if (this.incomingInvite) {
        res.send(500, 'Server Internal Error', { headers: { 'Retry-After': Math.floor(Math.random() * 10) + 1 } });
        return;
      }
      this.incomingInvite = true;
    }
    const st = acceptSessionTimer(msg, res);
    if (!st) {
      // Answered 400 or 422: the re-INVITE is over.
      if (msg.method === 'INVITE') this.incomingInvite = false;
      return;
    }
    this.refreshTarget(msg);
    const offer = msg.body.length > 0 ? msg.bodyText : undefined;
    res.afterSend.push((sent) => {
      if (sent.status < 200) return;
      if (msg.method === 'INVITE') this.incomingInvite = false;
      if (sent.status >= 300) return;
      // RFC 4028 §10: a successful re-INVITE/UPDATE refreshes the session; one without Session-Expires ends the
      // session timer (the peer no longer asks for one).
      if (st.kind === 'timer') this.startSessionTimer(st.interval, st.refresher === 'uas');
      else this.sessionTimer?.stop();
      if (offer !== undefined) this.remoteSdp = offer;
      if (sent.body.length > 0) this.localSdp = sent.bodyText;
      if (msg.method === 'INVITE') this.retransmit2xx(sent, req.source);
    });
    if (this.listenerCount('modify') > 0) {
      this.emit('modify', req, res);
    } else {
      // Nobody above cares (e.g. a session refresh): answer an offer, or an offerless re-INVITE, with the SDP we
      // already have; an UPDATE without an offer gets no body (RFC 3311 §5.2).
      const withSdp = this.localSdp !== undefined && (offer !== undefined || msg.method === 'INVITE');
      res.send(200, undefined, withSdp ? { body: this.localSdp! } : {});
    }
  }

  // ---- session timer (RFC 4028) ------------------------------------------------------------------------------

  /** (Re)arms the session timer: we refresh at half the interval, or expect the peer to before it runs out. */
  startSessionTimer(interval: number, weRefresh: boolean): void {
    if (this.ended) return;
    this.sessionTimer ??= new SessionTimer(this.host.clock, {
      refresh: () => void this.refreshSession(),
      expire: () => this.expireSession(),
    });
    this.sessionTimer.arm(interval, weRefresh);
  }

  /** The negotiated session interval and who refreshes, while a session timer runs (tests, diagnostics). */
  get sessionExpires(): { interval: number; weRefresh: boolean } | undefined {
    const t = this.sessionTimer;
    return t?.running ? { interval: t.interval, weRefresh: t.weRefresh } : undefined;
  }

  /**
   * §7.4: our refresh, an UPDATE without a body when the peer allows UPDATE, else a re-INVITE with our current
   * SDP; it keeps us as refresher (refresher=uac) unless the peer's 2xx says otherwise.
   */
  private async refreshSession(): Promise<void> {
    const t = this.sessionTimer;
    if (this.ended || !t) return;
    const headers: Array<[string, string]> = [
      ['Session-Expires', formatSessionExpires({ interval: t.interval, refresher: 'uac' })],
      ['Supported', 'timer'],
    ];
    let res: SipResponse;
    try {
      res =
        this.peerAllowsUpdate || this.localSdp === undefined
          ? await this.request('UPDATE', { headers })
          : await this.request('INVITE', { headers, body: this.localSdp });
    } catch (err) {
      if (err instanceof SipError && err.status === 491) {
        // Glare with the peer's own re-INVITE: that one refreshes the session too; try again shortly otherwise.
        t.retry(Math.max(t.interval / 10, 2));
        return;
      }
      this.host.log.info('session refresh failed', { callId: this.callId, error: err instanceof Error ? err.message : String(err) });
      this.expireSession();
      return;
    }
    if (this.ended) return;
    if (res.status >= 200 && res.status < 300) {
      const raw = res.get('session-expires');
      if (raw === undefined) {
        // §7.2: a 2xx without Session-Expires: the session no longer has a timer.
        t.stop();
        return;
      }
      try {
        const se = parseSessionExpires(raw);
        this.startSessionTimer(Math.max(se.interval, MIN_SE), se.refresher !== 'uas');
      } catch {
        this.startSessionTimer(t.interval, true);
      }
      return;
    }
    if (res.status === 491) {
      t.retry(Math.max(t.interval / 10, 2));
      return;
    }
    this.host.log.info('session refresh refused: ending the call', { callId: this.callId, status: res.status });
    this.expireSession();
  }

  /** §10: "If the side not performing refreshes does not receive a session refresh request before the session expiration, it SHOULD send a BYE". */
  private expireSession(): void {
    if (this.ended) return;
    this.host.log.info('session expired: sending BYE', { callId: this.callId, interval: this.sessionTimer?.interval });
    this.end('session-expired');
    void this.request('BYE').catch((err: unknown) => {
      this.host.log.debug('BYE failed', { callId: this.callId, error: err instanceof Error ? err.message : String(err) });
    });
  }

  /** Marks the dialog ended, stops timers, tells listeners once. */
  private end(reason: DialogEndReason, bye?: SipRequest): void {
    if (this.ended) return;
    this.ended = true;
    this.state = 'terminated';
    this.stop2xx();
    this.sessionTimer?.stop();
    this.host.forgetDialog(this);
    try {
      this.emit('destroy', reason, bye);
    } catch (err) {
      // A failing listener must neither leave the dialog half-ended nor turn destroy() into a rejected promise.
      this.host.log.error('dialog destroy listener failed', { callId: this.callId, error: err instanceof Error ? err.stack : String(err) });
    }
  }
}

export const ALLOW = 'INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE, INFO, REFER, NOTIFY, SUBSCRIBE, MESSAGE, REGISTER';

export function dialogKey(callId: string, localTag: string, remoteTag: string): string {
  return `${callId}|${localTag}|${remoteTag}`;
}
