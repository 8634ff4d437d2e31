// The INVITE call flow (docs/calls.md): authentication, overload control, what the dialled number reaches, the caller's
// media, then a feature code, the scenario interpreter for a number, or ringing an extension / an outside number.
import type { Extension } from '../directory/index.js';
import { errorMessage, newTimeOrderedId } from '../shared/index.js';
import { Call, Leg, type Party } from './call.js';
import type { CallDirection } from './call-history.js';
import type { CallService, CallServiceOptions, CallSetup, ConnectResult, InboundCallHandler } from './call-service.js';
import { mediaFailureStatus } from './call-service.js';
import type { FeatureHandler } from './feature-codes.js';
import { partyOfExtension, type RingTarget } from './ring-engine.js';
import { resolveDestination } from './target-resolver.js';
import { callerSrtpPolicy } from './secure-media.js';
import type { CallTransfer } from './transfer.js';
import type { CallIncomingRequest, CallServerResponse } from './sip-host.js';

/** Counters of the calls module's health (shared with CallService). */
export interface CallCounters {
  invites: number;
  answered: number;
  failed: number;
  challenged: number;
  overload: number;
}

/** What the flow needs beyond call control's public side. */
export interface InviteFlowDeps {
  opts: CallServiceOptions;
  counters: CallCounters;
  /** Calls in progress (the flow adds each new one). */
  calls: Map<string, Call>;
  transfer: CallTransfer;
  /** INVITEs handled at once before new ones get 503. */
  maxPendingSetups: number;
  inbound(): InboundCallHandler | undefined;
  internalNumbers(): ((dialled: string) => FeatureHandler | undefined) | undefined;
}

export class InviteFlow {
  /** INVITEs being handled (ringing, or being answered); over maxPendingSetups new ones get 503. */
  private pendingSetups = 0;

  constructor(
    private readonly cc: CallService,
    private readonly d: InviteFlowDeps,
  ) {}

  private get inbound(): InboundCallHandler | undefined {
    return this.d.inbound();
  }

  private get internalNumbers(): ((dialled: string) => FeatureHandler | undefined) | undefined {
    return this.d.internalNumbers();
  }


  async onInvite(req: CallIncomingRequest, res: CallServerResponse, next: () => void): Promise<void> {
    if (req.msg.to().tag) {
      next(); // in-dialog re-INVITE of a dialog the stack does not know: not ours to answer
      return;
    }
    this.d.counters.invites++;
    // Overload control: when call setups pile up (the box cannot keep pace), new INVITEs get a quick 503 so the
    // calls already in progress complete instead of every call timing out together (congestion collapse).
    if (this.pendingSetups >= this.d.maxPendingSetups) {
      this.d.counters.overload++;
      res.send(503, 'Service Unavailable', { headers: { 'Retry-After': '1' } });
      return;
    }
    this.pendingSetups++;
    try {
      await this.handleInvite(req, res);
    } catch (err) {
      this.cc.log.error('INVITE handling failed', { callId: req.msg.callId, error: errorMessage(err) });
      if (!res.sent) res.send(500, 'Internal Server Error');
    } finally {
      this.pendingSetups--;
    }
  }

  /** Digest check (RFC 3261 §22.3, proxy-style 407 so phones answer with Proxy-Authorization). */
  private authenticate(req: CallIncomingRequest, res: CallServerResponse): Extension | undefined {
    const digest = this.d.opts.registrar.digest;
    const accounts = new Map<string, Extension | undefined>();
    const find = (u: string): Extension | undefined => {
      if (!accounts.has(u)) accounts.set(u, this.d.opts.extensions.findBySipUsername(u));
      return accounts.get(u);
    };
    const checked = digest.verify({
      authorization: req.msg.getAll('proxy-authorization'),
      method: 'INVITE',
      requestUri: req.msg.uri,
      source: req.source.address,
      account: (u) => {
        const ext = find(u);
        return ext ? { ha1Md5: ext.ha1Md5, ha1Sha256: ext.ha1Sha256, algorithms: ext.digestAlgorithm } : undefined;
      },
    });
    const guard = this.d.opts.registrar.guard;
    const verdict = guard ? guard.judge(req.source.address, checked) : checked;
    if (verdict.ok) return find(verdict.username);
    if (verdict.reason === 'malformed') {
      res.send(400, 'Bad Proxy-Authorization header');
      return undefined;
    }
    if (verdict.reason !== 'missing' && verdict.reason !== 'stale') {
      this.cc.log.info('INVITE refused', { reason: verdict.reason, detail: verdict.detail, from: `${req.source.address}:${req.source.port}` });
    }
    this.d.counters.challenged++;
    res.send(407, 'Proxy Authentication Required', {
      headers: { 'Proxy-Authenticate': digest.challengeFor(req.msg.from().uri.user, verdict.stale, req.source.address) },
    });
    return undefined;
  }

  private async handleInvite(req: CallIncomingRequest, res: CallServerResponse): Promise<void> {
    const trunk = this.d.opts.trunks?.matchInbound(req);
    let callerExt: Extension | undefined;
    let caller: Party;
    if (trunk) {
      const from = req.msg.from();
      caller = { number: from.uri.user ?? 'anonymous', displayName: from.displayName ?? from.uri.user ?? '', isExtension: false };
    } else {
      callerExt = this.authenticate(req, res);
      if (!callerExt) return;
      if (callerExt.requireTlsSrtp && req.source.transport !== 'tls') {
        res.send(403, 'Extension requires SIP over TLS');
        return;
      }
      caller = partyOfExtension(callerExt);
    }
    // SipUri.user is already percent-decoded (%2A97 → *97).
    const dialled = trunk?.dialled ?? req.msg.ruri.user ?? '';
    const replaces = req.msg.get('replaces');
    if (replaces) {
      await this.d.transfer.onReplacesInvite(req, res, replaces, caller);
      return;
    }

    let dest = resolveDestination(
      {
        extensions: this.d.opts.extensions,
        features: this.cc.featureCodes,
        routable: (n, c) => this.d.opts.trunks?.routeOutbound(n, c) !== undefined,
        internal: (n) => this.internalNumbers?.(n),
        inboundNumber: (n) => this.inbound?.numberFor?.(n),
      },
      dialled,
      trunk,
      callerExt,
    );
    // With a scenario handler, every call to a number goes through it, even when the DID is also an extension's.
    if (dest.kind === 'extension' && trunk?.number && this.inbound) dest = { kind: 'number', number: trunk.number, fallback: dest.extension };
    if (dest.kind === 'unknown' && !dialled.startsWith('*')) {
      res.send(404, 'Not Found');
      return;
    }
    const target = dest.kind === 'extension' ? dest.extension : dest.kind === 'number' && !this.inbound ? dest.fallback : undefined;
    const direction: CallDirection = trunk ? 'inbound' : dest.kind === 'external' ? 'outbound' : 'internal';
    const callee: Party = target ? partyOfExtension(target) : { number: dialled, displayName: dialled, isExtension: false };
    const now = this.d.opts.clock.now();
    const call = new Call(newTimeOrderedId(now), direction, caller, callee, now);
    const inboundNumber = dest.kind === 'number' ? dest.number : trunk?.number;
    if (inboundNumber) call.inboundNumber = inboundNumber;
    const callerLeg = new Leg('caller', caller);
    call.legs.push(callerLeg);
    this.d.calls.set(call.id, call);
    this.cc.observer.emit('call.started', call.info(), { dialled, sipCallId: req.msg.callId });

    let cancelled = false;
    req.on('cancel', () => {
      cancelled = true;
      for (const a of call.attempts) a.abort();
      if (call.state === 'ringing' || call.state === 'voicemail') this.cc.safe(this.cc.hangup(call, 'cancelled'), 'hangup');
    });

    const offer = req.msg.bodyText;
    const media = this.d.opts.media;
    if (!media && !offer) {
      // Pass-through cannot carry a late offer (the answer would have to ride in our ACK to the callee).
      this.cc.finishUnanswered(call, res, 488, 'no-sdp-offer', 'Not Acceptable Here');
      return;
    }
    if (media) {
      try {
        // RFC 3261 §13.2.1 late offer: an INVITE without SDP gets our offer in the 200 and answers in the ACK.
        callerLeg.endpoint = await media.openEndpoint({ callId: call.id, ...(offer ? { remoteSdp: offer } : {}), ...this.cc.rtpTimeout(), srtp: callerSrtpPolicy(callerExt) });
      } catch (err) {
        const status = mediaFailureStatus(err);
        this.cc.log.info('caller media refused', { call: call.id, status, error: errorMessage(err) });
        this.cc.finishUnanswered(call, res, status, status === 488 ? 'sdp-refused' : 'media-unavailable', status === 488 ? 'Not Acceptable Here' : 'Service Unavailable');
        return;
      }
    }
    if (cancelled) return this.cc.cleanupCancelled(call, res);
    const setup: CallSetup = { call, req, res, callerLeg, offer, cancelled: () => cancelled || call.state === 'ended' };

    if (dest.kind === 'unknown' || dest.kind === 'feature') {
      await this.runFeature(setup, callerExt, dialled, dest.kind === 'feature' ? dest.handler : undefined, dest.kind === 'feature' ? dest.digits : '');
      return;
    }
    if (dest.kind === 'number' && this.inbound) {
      try {
        await this.inbound.handle(setup, dest.number);
      } finally {
        if (!res.sent) this.cc.finishUnanswered(call, res, 480, 'scenario-ended', 'Temporarily Unavailable');
        else await this.cc.hangup(call, call.cause ?? 'scenario-ended');
      }
      return;
    }

    if (target) this.cc.blf(target.number, 'early', call, 'recipient', caller.number);
    if (callerExt) this.cc.blf(callerExt.number, 'early', call, 'initiator', callee.number);
    const dnd = target !== undefined && this.d.opts.isDnd?.(target) === true;
    if (dnd) this.cc.event(call, 'call.dnd', { extension: target?.number });
    const ringTarget: RingTarget = target ? { kind: 'extension', number: target.number } : { kind: 'external', number: dialled };
    const fork: ConnectResult = dnd
      ? { ok: false, status: 486, reason: 'busy', timedOut: false, cancelled: false }
      : await this.cc.connect(setup, { targets: [ringTarget], mode: 'simultaneous', ringTimeMs: this.cc.ringTimeoutMs, callerExtension: callerExt?.number });
    if (fork.ok || setup.cancelled()) return;
    if (fork.cancelled) return this.cc.cleanupCancelled(call, res);
    const reason = dnd ? 'dnd' : fork.status === 486 ? 'busy' : fork.timedOut ? 'no-answer' : 'unavailable';
    if (target) this.cc.blf(target.number, 'idle', call);
    if (target?.voicemailEnabled && this.d.opts.voicemail && callerLeg.endpoint && reason !== 'busy') {
      await this.cc.toVoicemail(setup, target, reason);
      return;
    }
    this.cc.finishUnanswered(call, res, fork.status, reason);
  }

  /** A star code: the registered handler answers it; unknown codes (or from a trunk) get 404. */
  private async runFeature(s: CallSetup, callerExt: Extension | undefined, code: string, handler: FeatureHandler | undefined, digits: string): Promise<void> {
    const ep = s.callerLeg.endpoint;
    if (!callerExt || !ep || !handler) {
      this.cc.finishUnanswered(s.call, s.res, 404, 'unknown-feature', 'Not Found');
      return;
    }
    s.call.state = 'voicemail';
    this.cc.event(s.call, 'call.feature', { code });
    try {
      await handler({ call: s.call, req: s.req, res: s.res, callerEndpoint: ep, caller: callerExt, code, digits });
    } catch (err) {
      this.cc.log.warn('feature code failed', { call: s.call.id, code, error: errorMessage(err) });
    } finally {
      if (!s.res.sent) this.cc.finishUnanswered(s.call, s.res, 480, 'feature-unanswered', 'Temporarily Unavailable');
      else await this.cc.hangup(s.call, 'feature-done');
    }
  }
}
