// Call transfer: blind and attended REFER (RFC 3515, RFC 3891 Replaces) and INVITE with Replaces, on calls call control owns.
import type { Logger } from '../shared/index.js';
import { errorMessage } from '../shared/index.js';
import type { MediaEngine, SrtpPolicy } from '../media/index.js';
import { NameAddr, reasonPhrase, type SipUri } from '../sip/index.js';
import { Call, Leg, type Party } from './call.js';
import type { RingEngine, RingTarget } from './ring-engine.js';
import type { CallDialog, CallIncomingRequest, CallServerResponse, CallSipHost } from './sip-host.js';

/** RFC 3891 §6.1: Replaces: call-id;to-tag=...;from-tag=... */
export function parseReplaces(value: string): { callId: string; toTag?: string | undefined; fromTag?: string | undefined } | undefined {
  const parts = value.split(';').map((s) => s.trim());
  const callId = parts[0];
  if (!callId) return undefined;
  const out: { callId: string; toTag?: string; fromTag?: string } = { callId };
  for (const p of parts.slice(1)) {
    const [k, v] = p.split('=');
    if (k?.toLowerCase() === 'to-tag' && v) out.toTag = v;
    if (k?.toLowerCase() === 'from-tag' && v) out.fromTag = v;
  }
  return out;
}

const SIPFRAG = 'message/sipfrag;version=2.0';

/** What transfer needs of call control (CallService implements it). */
export interface CallControl {
  readonly log: Logger;
  readonly media: MediaEngine | undefined;
  readonly sip: CallSipHost;
  readonly ringEngine: RingEngine;
  readonly ringTimeoutMs: number;
  /** Calls in progress (Replaces looks a dialog up among them). */
  liveCalls(): Iterable<Call>;
  event(call: Call, type: string, data: Record<string, unknown>): void;
  emitTransferred(call: Call, t: { from: string; to: string; kind: 'blind' | 'attended' }): void;
  blf(ext: string, state: 'idle' | 'early' | 'confirmed', call: Call, direction?: 'initiator' | 'recipient', remote?: string): void;
  wireLeg(call: Call, leg: Leg): void;
  release(d: CallDialog | undefined): void;
  hangup(call: Call, cause: string, from?: Leg): Promise<void>;
  rtpTimeout(): { rtpTimeoutMs?: number };
  /** The SRTP policy of a leg that will ring `targets`. */
  srtpFor(targets: readonly RingTarget[]): SrtpPolicy;
  later(fn: () => void, ms: number): void;
}

export class CallTransfer {
  constructor(private readonly cc: CallControl) {}

  private notifyRefer(dialog: CallDialog | undefined, status: number, reason: string, final: boolean): void {
    if (!dialog) return;
    dialog
      .request('NOTIFY', {
        headers: { Event: 'refer', 'Subscription-State': final ? 'terminated;reason=noresource' : 'active;expires=60' },
        body: `SIP/2.0 ${status} ${reason}\r\n`,
        contentType: SIPFRAG,
      })
      .catch((err: unknown) => this.cc.log.debug('refer NOTIFY failed', { dialog: dialog.callId, error: errorMessage(err) }));
  }

  /**
   * REFER (RFC 3515) from one party: blind transfer of the other party to Refer-To, or — when Refer-To carries
   * Replaces (RFC 3891) naming another call of the same transferor — attended transfer: the two remote parties
   * are bridged to each other and the transferor's legs are released.
   */
  async onRefer(call: Call, leg: Leg, req: CallIncomingRequest, res: CallServerResponse): Promise<void> {
    const referTo = req.msg.get('refer-to');
    const transferee = call.other(leg);
    if (!referTo || !transferee) {
      res.send(400, 'Missing Refer-To');
      return;
    }
    let target: SipUri;
    try {
      target = NameAddr.parse(referTo, 'Refer-To').uri;
    } catch {
      res.send(400, 'Bad Refer-To');
      return;
    }
    if (!this.cc.media || !transferee.endpoint) {
      res.send(501, 'Transfer needs the media engine');
      return;
    }
    const replacesKey = Object.keys(target.headers).find((k) => k.toLowerCase() === 'replaces');
    const replacesRaw = replacesKey ? target.headers[replacesKey] : undefined;
    res.send(202, 'Accepted');
    this.notifyRefer(leg.dialog, 100, 'Trying', false);
    if (replacesRaw) {
      await this.attendedByRefer(call, leg, transferee, replacesRaw);
      return;
    }
    const number = target.user ?? '';
    const resolved = this.cc.ringEngine.resolve({ kind: 'extension', number });
    if (!resolved) {
      this.notifyRefer(leg.dialog, 404, 'Not Found', true);
      return;
    }
    this.cc.event(call, 'call.transfer', { kind: 'blind', by: leg.party.number, to: number });
    const r = await this.blindTo(call, leg, transferee, resolved.party);
    if (!r.ok) {
      if (call.state !== 'ended') this.notifyRefer(leg.dialog, r.status, reasonPhrase(r.status), true);
      return;
    }
    this.notifyRefer(leg.dialog, 200, 'OK', true);
    this.cc.emitTransferred(call, { from: leg.party.number, to: resolved.party.number, kind: 'blind' });
    // RFC 5589 §6.1: the transferor hangs up after the final NOTIFY; we release it ourselves if it does not.
    const old = leg.dialog;
    this.cc.later(() => this.cc.release(old), 2000);
  }

  /**
   * Rings `to` (an extension) for the transferee and, when it answers, puts it in place of `leg` (whose dialog is
   * left to the caller of this, and so is telling observers). The scenario `transfer` action and blind REFER share it.
   */
  async blindTo(call: Call, leg: Leg, transferee: Leg, to: Party): Promise<{ ok: true } | { ok: false; status: number }> {
    const media = this.cc.media;
    if (!media) return { ok: false, status: 501 };
    const newLeg = new Leg(leg.role, to);
    newLeg.endpoint = await media.openEndpoint({ callId: call.id, ...this.cc.rtpTimeout(), srtp: this.cc.srtpFor([{ kind: 'extension', number: to.number }]) });
    this.cc.blf(to.number, 'early', call, 'recipient', transferee.party.number);
    const fork = await this.cc.ringEngine.ring({
      call,
      caller: transferee.party,
      targets: [{ kind: 'extension', number: to.number }],
      mode: 'simultaneous',
      ringTimeMs: this.cc.ringTimeoutMs,
      offer: newLeg.endpoint.localSdp,
    });
    if (!fork.ok || call.state === 'ended') {
      if (fork.ok) this.cc.release(fork.dialog);
      await newLeg.endpoint.close();
      this.cc.blf(to.number, 'idle', call);
      return { ok: false, status: fork.ok ? 487 : fork.status };
    }
    newLeg.dialog = fork.dialog;
    await newLeg.endpoint.setRemoteSdp(fork.dialog.remoteSdp ?? '');
    await this.replaceLeg(call, leg, newLeg, transferee);
    return { ok: true };
  }

  /** Puts `next` in place of `gone` in the call, bridged to `keep`; releases gone's media (its dialog is left to the caller). */
  async replaceLeg(call: Call, gone: Leg, next: Leg, keep: Leg): Promise<void> {
    const i = call.legs.indexOf(gone);
    if (i >= 0) call.legs[i] = next;
    if (keep.endpoint && next.endpoint) {
      // The kept party may be hearing music on hold (the transferor held it before its REFER): the new party now.
      keep.endpoint.stopPlay();
      await keep.endpoint.bridge(next.endpoint);
    }
    if (gone.endpoint && gone.endpoint !== keep.endpoint) {
      if (call.recording && call.legs[0] === next) await gone.endpoint.stopRecord().catch(() => undefined);
      await gone.endpoint.close().catch(() => undefined);
    }
    if (gone.party.isExtension) this.cc.blf(gone.party.number, 'idle', call);
    this.cc.wireLeg(call, next);
    if (next.party.isExtension) this.cc.blf(next.party.number, 'confirmed', call);
    if (next.role === 'callee') call.callee = next.party;
  }

  /** Finds the active call and leg whose dialog has this Call-ID (Replaces target). */
  private findLegByDialog(callId: string): { call: Call; leg: Leg } | undefined {
    for (const call of this.cc.liveCalls()) {
      for (const leg of call.legs) if (leg.dialog?.callId === callId) return { call, leg };
    }
    return undefined;
  }

  private async attendedByRefer(call: Call, leg: Leg, transferee: Leg, replaces: string): Promise<void> {
    const r = parseReplaces(replaces);
    const found = r ? this.findLegByDialog(r.callId) : undefined;
    if (!found || found.call === call) {
      this.notifyRefer(leg.dialog, 481, 'Call/Transaction Does Not Exist', true);
      return;
    }
    const other = found.call.other(found.leg);
    if (!other?.endpoint || !transferee.endpoint) {
      this.notifyRefer(leg.dialog, 488, 'Not Acceptable Here', true);
      return;
    }
    // The other call's far party joins this call in place of the transferor; that call ends without touching it.
    found.call.legs = found.call.legs.filter((l) => l !== other);
    await this.replaceLeg(call, leg, other, transferee);
    this.notifyRefer(leg.dialog, 200, 'OK', true);
    this.cc.emitTransferred(call, { from: leg.party.number, to: other.party.number, kind: 'attended' });
    await this.cc.hangup(found.call, 'transferred');
    const old = leg.dialog;
    this.cc.later(() => this.cc.release(old), 2000);
  }

  /** INVITE with Replaces (RFC 3891 §3): the new caller takes the place of the named leg. */
  async onReplacesInvite(req: CallIncomingRequest, res: CallServerResponse, value: string, caller: Party): Promise<void> {
    const r = parseReplaces(value);
    const found = r ? this.findLegByDialog(r.callId) : undefined;
    if (!found || found.call.state !== 'answered') {
      res.send(481, 'Call/Transaction Does Not Exist');
      return;
    }
    const { call, leg } = found;
    const keep = call.other(leg);
    const media = this.cc.media;
    if (!keep?.endpoint || !media) {
      res.send(488, 'Not Acceptable Here');
      return;
    }
    const newLeg = new Leg(leg.role, caller);
    try {
      newLeg.endpoint = await media.openEndpoint({ callId: call.id, remoteSdp: req.msg.bodyText, ...this.cc.rtpTimeout() });
      newLeg.dialog = await this.cc.sip.createUas(req, res, { localSdp: newLeg.endpoint.localSdp });
    } catch (err) {
      await newLeg.endpoint?.close();
      if (!res.sent) res.send(488, 'Not Acceptable Here');
      this.cc.log.info('INVITE/Replaces failed', { call: call.id, error: errorMessage(err) });
      return;
    }
    await this.replaceLeg(call, leg, newLeg, keep);
    this.cc.release(leg.dialog);
    this.cc.emitTransferred(call, { from: leg.party.number, to: caller.number, kind: 'attended' });
  }
}
