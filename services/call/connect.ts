// Putting calls through: connect() rings targets for a caller and bridges the winner (every call to an extension, a
// scenario's call_user / transfer, a queue's agent); originate() places a call from Relais itself (queue callbacks).
import { errorMessage, newTimeOrderedId } from '../shared/index.js';
import type { SipResponse } from '../sip/index.js';
import { Call, Leg, type Party } from './call.js';
import type { CallService, CallServiceOptions, CallSetup } from './call-service.js';
import { applyLateAnswer } from './call-service.js';
import type { RingMode, RingResult, RingTarget } from './ring-engine.js';
import { calleeSrtpPolicy } from './secure-media.js';

/** What connect() gives: the party that answered (bridged to the caller), or why nobody did. */
export type ConnectResult = { ok: true; party: Party } | { ok: false; status: number; reason: RingFailureReasonOf; timedOut: boolean; cancelled: boolean };
type RingFailureReasonOf = Extract<RingResult, { ok: false }>['reason'];

/** Re-reads the state after an await (TypeScript keeps the narrowing from before it). */
function isEnded(call: Call): boolean {
  return call.state === 'ended';
}

export class CallConnector {
  constructor(
    private readonly cc: CallService,
    private readonly d: { opts: CallServiceOptions; calls: Map<string, Call> },
  ) {}

  /**
   * Rings targets for a caller and bridges the winner. A caller not answered yet hears the callees' 180/183 and is
   * answered when one answers; a caller already answered (an IVR took it) is bridged as is. On failure the callee
   * media is closed and the caller left as it was (its handling goes on: voicemail, a scenario's next action).
   */
  async connect(
    s: CallSetup,
    r: { targets: RingTarget[]; mode: RingMode; ringTimeMs?: number | undefined; callerExtension?: string | undefined; caller?: Party | undefined; signal?: AbortSignal | undefined },
  ): Promise<ConnectResult> {
    const { call, res, callerLeg } = s;
    const media = this.d.opts.media;
    const calleeLeg = new Leg('callee', call.callee);
    let calleeOffer = s.offer;
    if (media) {
      try {
        calleeLeg.endpoint = await media.openEndpoint({ callId: call.id, ...this.cc.rtpTimeout(), srtp: calleeSrtpPolicy(r.targets, this.d.opts.extensions, this.d.opts.registrar) });
      } catch (err) {
        this.cc.log.warn('no media endpoint for the callee', { call: call.id, error: errorMessage(err) });
        return { ok: false, status: 503, reason: 'unavailable', timedOut: false, cancelled: false };
      }
      calleeOffer = calleeLeg.endpoint.localSdp;
    }
    const callerAnswered = (): boolean => callerLeg.dialog !== undefined;
    let ringing = false;
    let earlyMedia: Promise<void> | undefined;
    const markRinging = (): void => {
      if (ringing) return;
      ringing = true;
      this.cc.observer.emit('call.ringing', call.info());
    };
    // 180 → 180 (the phone plays its own ringback); 183 with SDP (a provider's announcement or ringback) → early
    // media: the callee's answer applied to its endpoint, bridged, and our 183 with our answer to the caller.
    const onProgress = (p: SipResponse): void => {
      if (res.sent || s.cancelled() || callerAnswered()) return;
      const sdp = p.body.length > 0 && (p.contentType ?? 'application/sdp').startsWith('application/sdp') ? p.bodyText : undefined;
      if (sdp && !earlyMedia) {
        const callerEp = callerLeg.endpoint;
        const calleeEp = calleeLeg.endpoint;
        earlyMedia = (async () => {
          if (callerEp && calleeEp) {
            await calleeEp.setRemoteSdp(sdp);
            await callerEp.bridge(calleeEp);
          }
          if (res.sent || s.cancelled()) return;
          res.send(183, 'Session Progress', { body: callerEp ? callerEp.localSdp : sdp, contentType: 'application/sdp' });
          this.cc.event(call, 'call.early_media', {});
        })().catch((err: unknown) => this.cc.log.info('early media refused', { call: call.id, error: errorMessage(err) }));
        markRinging();
        return;
      }
      if (ringing) return;
      res.send(180, 'Ringing');
      markRinging();
    };
    const tried = new Set<string>();
    const fork: RingResult = await this.cc.ringEngine.ring({
      call,
      caller: r.caller ?? call.caller,
      callerExtension: r.callerExtension,
      targets: r.targets,
      mode: r.mode,
      ringTimeMs: r.ringTimeMs,
      offer: calleeOffer,
      onProgress,
      signal: r.signal,
      onTry: (t) => {
        for (const e of t.extensions) {
          if (e.number === call.callee.number) continue; // already lit by the caller of connect
          tried.add(e.number);
          this.cc.blf(e.number, 'early', call, 'recipient', call.caller.number);
        }
      },
    });
    await earlyMedia; // its answer must not land after the final one
    const winner = fork.ok ? fork.target.extensions.map((e) => e.number) : [];
    for (const n of tried) if (!winner.includes(n)) this.cc.blf(n, 'idle', call);
    if (s.cancelled()) {
      if (fork.ok) this.cc.release(fork.dialog);
      await calleeLeg.endpoint?.close();
      if (!res.sent) this.cc.cleanupCancelled(call, res);
      return { ok: false, status: 487, reason: 'cancelled', timedOut: false, cancelled: true };
    }
    if (!fork.ok) {
      await calleeLeg.endpoint?.close();
      return fork;
    }

    // Answered: apply the callee's answer, then answer the caller with our own SDP (or the callee's, pass-through).
    const answeredLeg = new Leg('callee', fork.target.party);
    answeredLeg.endpoint = calleeLeg.endpoint;
    answeredLeg.dialog = fork.dialog;
    call.callee = fork.target.party;
    call.legs.push(answeredLeg);
    try {
      let callerSdp = fork.dialog.remoteSdp ?? '';
      if (media && answeredLeg.endpoint && callerLeg.endpoint) {
        if (media.ordered) {
          // The callee's answer and the bridge leave for the media worker together (one message each way, not two
          // round trips): the answer's codec is known as soon as setRemoteSdp is called, which bridge() checks.
          const configured = answeredLeg.endpoint.setRemoteSdp(fork.dialog.remoteSdp ?? '');
          callerLeg.endpoint.stopPlay();
          await Promise.all([configured, callerLeg.endpoint.bridge(answeredLeg.endpoint)]);
        } else {
          await answeredLeg.endpoint.setRemoteSdp(fork.dialog.remoteSdp ?? '');
          callerLeg.endpoint.stopPlay();
          await callerLeg.endpoint.bridge(answeredLeg.endpoint);
        }
        callerSdp = callerLeg.endpoint.localSdp;
      }
      if (!callerAnswered()) {
        callerLeg.dialog = await this.d.opts.sip.createUas(s.req, res, { localSdp: callerSdp });
        if (!s.offer && callerLeg.endpoint) await applyLateAnswer(callerLeg.endpoint, callerLeg.dialog);
      }
    } catch (err) {
      this.cc.log.info('caller leg could not be answered', { call: call.id, error: errorMessage(err) });
      await this.cc.hangup(call, s.cancelled() ? 'cancelled' : 'answer-failed');
      return { ok: false, status: 500, reason: 'cancelled', timedOut: false, cancelled: true };
    }
    if (isEnded(call)) {
      this.cc.release(callerLeg.dialog);
      return { ok: false, status: 487, reason: 'cancelled', timedOut: false, cancelled: true };
    }
    if (callerLeg.dialog?.destroyed) {
      // The caller's BYE was read with its ACK, before the legs were wired (docs/calls.md, "What a call does"): end
      // the call now, BYE to the callee, instead of leaving the callee in silence until the RTP timeout.
      await this.cc.hangup(call, 'caller-hangup', callerLeg);
      return { ok: false, status: 487, reason: 'cancelled', timedOut: false, cancelled: true };
    }
    this.cc.answered(call, answeredLeg);
    return { ok: true, party: fork.target.party };
  }

  /**
   * A call placed by Relais itself (a queue callback): rings `first` until one answers (it hears the ringing tone
   * meanwhile), then `second`, and bridges the two. `onFirst` is told as soon as the first side answered. The call
   * is in the history and ends like any other (BYE from either side).
   */
  async originate(o: {
    first: RingTarget[];
    second: RingTarget[];
    /** Who each side sees calling. */
    firstCaller: Party;
    secondCaller: Party;
    ringTimeMs?: number | undefined;
    /** The extension whose outbound routes an external target uses. */
    callerExtension?: string | undefined;
    onFirst?: ((party: Party) => void) | undefined;
    signal?: AbortSignal | undefined;
  }): Promise<{ ok: true; callId: string; first: Party; second: Party } | { ok: false; stage: 'first' | 'second'; status: number; callId: string | null }> {
    const media = this.d.opts.media;
    if (!media) return { ok: false, stage: 'first', status: 503, callId: null };
    const now = this.d.opts.clock.now();
    const call = new Call(newTimeOrderedId(now), 'outbound', o.firstCaller, o.secondCaller, now);
    this.d.calls.set(call.id, call);
    this.cc.observer.emit('call.started', call.info(), { dialled: '', sipCallId: '' });
    const legA = new Leg('caller', o.firstCaller);
    try {
      legA.endpoint = await media.openEndpoint({ callId: call.id, ...this.cc.rtpTimeout(), srtp: calleeSrtpPolicy(o.first, this.d.opts.extensions, this.d.opts.registrar) });
    } catch (err) {
      this.cc.log.warn('no media endpoint for a placed call', { call: call.id, error: errorMessage(err) });
      await this.cc.hangup(call, 'media-unavailable');
      return { ok: false, stage: 'first', status: 503, callId: call.id };
    }
    call.legs.push(legA);
    const first = await this.cc.ringEngine.ring({
      call, caller: o.firstCaller, targets: o.first, mode: 'simultaneous', ringTimeMs: o.ringTimeMs, offer: legA.endpoint.localSdp, signal: o.signal, callerExtension: o.callerExtension,
    });
    if (!first.ok || isEnded(call)) {
      if (first.ok) this.cc.release(first.dialog);
      await this.cc.hangup(call, first.ok ? 'cancelled' : 'no-answer');
      return { ok: false, stage: 'first', status: first.ok ? 487 : first.status, callId: call.id };
    }
    const a = new Leg('caller', first.target.party);
    a.endpoint = legA.endpoint;
    a.dialog = first.dialog;
    call.legs[0] = a;
    await a.endpoint.setRemoteSdp(first.dialog.remoteSdp ?? '');
    this.cc.wireLeg(call, a);
    o.onFirst?.(first.target.party);
    void a.endpoint.play([{ tone: 'ringback' }], { loop: true }).catch(() => undefined);
    const legB = new Leg('callee', o.secondCaller);
    try {
      legB.endpoint = await media.openEndpoint({ callId: call.id, ...this.cc.rtpTimeout(), srtp: calleeSrtpPolicy(o.second, this.d.opts.extensions, this.d.opts.registrar) });
    } catch {
      await this.cc.hangup(call, 'media-unavailable');
      return { ok: false, stage: 'second', status: 503, callId: call.id };
    }
    const second = await this.cc.ringEngine.ring({
      call, caller: o.secondCaller, targets: o.second, mode: 'simultaneous', ringTimeMs: o.ringTimeMs, offer: legB.endpoint.localSdp, callerExtension: o.callerExtension,
    });
    if (!second.ok || isEnded(call)) {
      if (second.ok) this.cc.release(second.dialog);
      await legB.endpoint.close().catch(() => undefined);
      await this.cc.hangup(call, second.ok ? 'cancelled' : 'callee-no-answer');
      return { ok: false, stage: 'second', status: second.ok ? 487 : second.status, callId: call.id };
    }
    const b = new Leg('callee', second.target.party);
    b.endpoint = legB.endpoint;
    b.dialog = second.dialog;
    call.callee = second.target.party;
    call.legs.push(b);
    await b.endpoint.setRemoteSdp(second.dialog.remoteSdp ?? '');
    a.endpoint.stopPlay();
    await a.endpoint.bridge(b.endpoint);
    this.cc.answered(call, b);
    return { ok: true, callId: call.id, first: first.target.party, second: second.target.party };
  }
}
