// B2BUA call control: authenticates INVITEs, rings the callee's contacts, bridges media, hold, transfer, recording, history.
import fs from 'node:fs';
import path from 'node:path';
import type { Clock, Logger, Module, ModuleHealth, TimerHandle } from '../shared/index.js';
import { TypedEmitter, errorMessage, newId } from '../shared/index.js';
import type { Database } from '../storage/index.js';
import type { Extension, ExtensionRepository } from '../directory/index.js';
import { parseRemoteSdp, type MediaEndpoint, type MediaEngine } from '../media/index.js';
import { NameAddr, SipUri, reasonPhrase, type SipResponse } from '../sip/index.js';
import { Call, Leg, type CallInfo, type Party } from './call.js';
import { CallHistory, type CallDirection } from './call-history.js';
import type {
  CallBinding,
  CallDialog,
  CallIncomingRequest,
  CallPresence,
  CallRegistrar,
  CallServerResponse,
  CallSipHost,
  CallTrunks,
  CallUacOptions,
  OutboundRoute,
} from './sip-host.js';
import { statusOf } from './sip-host.js';

export type CallEvents = {
  'call.ringing': [CallInfo];
  'call.answered': [CallInfo];
  'call.ended': [CallInfo];
  'call.hold': [CallInfo, { party: string; on: boolean }];
  'call.transferred': [CallInfo, { from: string; to: string; kind: 'blind' | 'attended' }];
  'call.dtmf': [CallInfo, { party: string; digit: string; method: string }];
  'call.recording': [CallInfo, { file: string }];
};

/** A call to an extension that nobody took: what voicemail needs to take it over. */
export interface UnansweredCall {
  call: Call;
  req: CallIncomingRequest;
  res: CallServerResponse;
  /** The caller's media endpoint (opened on the INVITE's offer), not yet answered. */
  callerEndpoint: MediaEndpoint;
  target: Extension;
  reason: 'no-answer' | 'unavailable' | 'busy' | 'dnd';
}

/** A caller dialling a feature code (e.g. *97): the handler answers or rejects the INVITE itself. */
export interface FeatureCall {
  call: Call;
  req: CallIncomingRequest;
  res: CallServerResponse;
  callerEndpoint: MediaEndpoint;
  caller: Extension;
  code: string;
}

export interface VoicemailHandler {
  /** Takes an unanswered call (answers it, records a message). Resolves when the call is over. */
  deposit(u: UnansweredCall): Promise<void>;
  /** Handles a feature code; returns false when the code is not its own. */
  feature(f: FeatureCall): Promise<boolean>;
}

export interface CallServiceOptions {
  sip: CallSipHost;
  registrar: CallRegistrar;
  extensions: ExtensionRepository;
  db: Database;
  clock: Clock;
  logger: Logger;
  dataDir: string;
  /** Host of From/To URIs Relais writes (config.domain). */
  domain: string;
  /** Absent = SDP pass-through (stepping stone only; no hold/transfer/recording then). */
  media?: MediaEngine | undefined;
  presence?: CallPresence | undefined;
  trunks?: CallTrunks | undefined;
  voicemail?: VoicemailHandler | undefined;
  /** How long contacts ring before the call goes to voicemail / 480 (default 20 s). */
  ringTimeoutMs?: number;
  /** No RTP for this long tears the call down (default: the engine's). */
  rtpTimeoutMs?: number;
  /** Music on hold played to the party left alone while the other holds (8 kHz WAV, or asked for at each hold); silence when absent. */
  mohFile?: string | (() => string | undefined) | undefined;
  /** Do-not-disturb of an extension's user: its phones do not ring (voicemail if on, else 486). */
  isDnd?: (ext: Extension) => boolean;
  /** INVITEs handled at once (ringing included) before new ones get 503 Retry-After (default 300). */
  maxPendingSetups?: number;
  /** Call history write-behind interval (ms; 0 = synchronous writes, as unit tests want). */
  historyBatchMs?: number;
  /** Whether a call is recorded (number's record flag, site setting). */
  shouldRecord?: (call: CallInfo) => boolean;
}

const SIPFRAG = 'message/sipfrag;version=2.0';

/** 488 when the caller's SDP is the problem (RFC 3261 §21.4.26), 503 when the media engine cannot serve (ports, worker). */
export function mediaFailureStatus(err: unknown): number {
  const code = err && typeof err === 'object' && 'code' in err ? String((err as { code: unknown }).code) : '';
  return code.startsWith('media.sdp') || code.startsWith('media.codec') ? 488 : 503;
}

/** After a late-offer INVITE was answered with our offer: the ACK's SDP is the answer (RFC 3264 §5). */
export async function applyLateAnswer(ep: MediaEndpoint, dialog: CallDialog): Promise<void> {
  const answer = dialog.remoteSdp;
  if (!answer) throw new Error('late-offer INVITE: the ACK carried no SDP answer');
  await ep.setRemoteSdp(answer);
}

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

/** Final status for a caller when every contact failed (RFC 3261 §16.7 step 6, simplified for a PBX). */
export function pickFailureStatus(statuses: number[], timedOut: boolean): number {
  if (statuses.some((s) => s === 486 || s === 600)) return 486;
  if (statuses.includes(603)) return 603;
  if (timedOut) return 480;
  return 480;
}

type ForkResult =
  | { ok: true; dialog: CallDialog; binding: CallBinding | undefined }
  | { ok: false; status: number; timedOut: boolean; cancelled: boolean; dnd?: boolean };

export class CallService implements Module {
  readonly name = 'calls';
  /** Typed events for watchers (history, LEDs, console, queue). */
  readonly observer = new TypedEmitter<CallEvents>();
  readonly history: CallHistory;
  private readonly calls = new Map<string, Call>();
  private readonly log: Logger;
  private readonly ringTimeoutMs: number;
  private running = false;
  private counters = { invites: 0, answered: 0, failed: 0, challenged: 0, overload: 0 };
  /** INVITEs being handled (ringing, or being answered); over maxPendingSetups new ones get 503. */
  private pendingSetups = 0;
  private readonly maxPendingSetups: number;

  constructor(private opts: CallServiceOptions) {
    this.log = opts.logger.child({ module: 'calls' });
    this.history = new CallHistory(opts.db, {
      batchMs: opts.historyBatchMs ?? 0,
      onError: (err) => this.log.warn('call history row not written', { error: errorMessage(err) }),
    });
    this.ringTimeoutMs = opts.ringTimeoutMs ?? 20_000;
    this.maxPendingSetups = opts.maxPendingSetups ?? 300;
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.opts.sip.use('INVITE', (req, res, next) => this.onInvite(req, res, next));
  }

  async stop(): Promise<void> {
    this.running = false;
    for (const c of [...this.calls.values()]) await this.hangup(c, 'shutdown');
    this.history.flush();
  }

  /** Calls in progress, and how many of them still ring (LEDs, dashboard). */
  activity(): { active: number; ringing: number } {
    let ringing = 0;
    for (const c of this.calls.values()) if (c.state === 'ringing') ringing++;
    return { active: this.calls.size, ringing };
  }

  health(): ModuleHealth {
    return { status: this.running ? 'ok' : 'down', detail: { active: this.calls.size, media: this.opts.media ? 'engine' : 'pass-through', ...this.counters } };
  }

  /** Sets who takes unanswered calls and feature codes (voicemail is built after the service: it shares its history). */
  useVoicemail(v: VoicemailHandler): void {
    this.opts.voicemail = v;
  }

  /** Calls in progress. */
  active(): CallInfo[] {
    return [...this.calls.values()].map((c) => c.info());
  }

  get media(): MediaEngine | undefined {
    return this.opts.media;
  }

  /** Records a call in progress to dataDir/recordings (both directions, stereo: caller left, callee right). */
  startRecording(callId: string): string | undefined {
    const call = this.calls.get(callId);
    const ep = call?.legs[0]?.endpoint;
    if (!call || !ep || call.recording) return call?.recording;
    const d = new Date(this.opts.clock.now());
    const rel = path.join('recordings', String(d.getUTCFullYear()), String(d.getUTCMonth() + 1).padStart(2, '0'), `${call.id}.wav`);
    const abs = path.join(this.opts.dataDir, rel);
    try {
      fs.mkdirSync(path.dirname(abs), { recursive: true });
      ep.record(abs, { direction: 'both', stereo: true });
    } catch (err) {
      this.log.warn('recording could not start', { call: call.id, error: errorMessage(err) });
      return undefined;
    }
    call.recording = rel;
    this.history.setRecording(call.id, rel);
    this.event(call, 'call.recording', { file: rel });
    this.observer.emit('call.recording', call.info(), { file: rel });
    return rel;
  }

  // ---------------------------------------------------------------- INVITE

  private async onInvite(req: CallIncomingRequest, res: CallServerResponse, next: () => void): Promise<void> {
    if (req.msg.to().tag) {
      next(); // in-dialog re-INVITE of a dialog the stack does not know: not ours to answer
      return;
    }
    this.counters.invites++;
    // Overload control: when call setups pile up (the box cannot keep pace), new INVITEs get a quick 503 so the
    // calls already in progress complete instead of every call timing out together (congestion collapse).
    if (this.pendingSetups >= this.maxPendingSetups) {
      this.counters.overload++;
      res.send(503, 'Service Unavailable', { headers: { 'Retry-After': '1' } });
      return;
    }
    this.pendingSetups++;
    try {
      await this.handleInvite(req, res);
    } catch (err) {
      this.log.error('INVITE handling failed', { callId: req.msg.callId, error: errorMessage(err) });
      if (!res.sent) res.send(500, 'Internal Server Error');
    } finally {
      this.pendingSetups--;
    }
  }

  /** Digest check (RFC 3261 §22.3, proxy-style 407 so phones answer with Proxy-Authorization). */
  private authenticate(req: CallIncomingRequest, res: CallServerResponse): Extension | undefined {
    const digest = this.opts.registrar.digest;
    const accounts = new Map<string, Extension | undefined>();
    const find = (u: string): Extension | undefined => {
      if (!accounts.has(u)) accounts.set(u, this.opts.extensions.findBySipUsername(u));
      return accounts.get(u);
    };
    const checked = digest.verify({
      authorization: req.msg.getAll('proxy-authorization'),
      method: 'INVITE',
      requestUri: req.msg.uri,
      account: (u) => {
        const ext = find(u);
        return ext ? { ha1Md5: ext.ha1Md5, ha1Sha256: ext.ha1Sha256, algorithms: ext.digestAlgorithm } : undefined;
      },
    });
    const guard = this.opts.registrar.guard;
    const verdict = guard ? guard.judge(req.source.address, checked) : checked;
    if (verdict.ok) return find(verdict.username);
    if (verdict.reason === 'malformed') {
      res.send(400, 'Bad Proxy-Authorization header');
      return undefined;
    }
    if (verdict.reason !== 'missing' && verdict.reason !== 'stale') {
      this.log.info('INVITE refused', { reason: verdict.reason, detail: verdict.detail, from: `${req.source.address}:${req.source.port}` });
    }
    this.counters.challenged++;
    res.send(407, 'Proxy Authentication Required', {
      headers: { 'Proxy-Authenticate': digest.challengeFor(req.msg.from().uri.user, verdict.stale) },
    });
    return undefined;
  }

  private partyOfExtension(ext: Extension): Party {
    return { number: ext.number, displayName: ext.displayName || ext.number, extensionId: ext.id, userId: ext.userId, isExtension: true };
  }

  private async handleInvite(req: CallIncomingRequest, res: CallServerResponse): Promise<void> {
    const trunk = this.opts.trunks?.matchInbound(req);
    let callerExt: Extension | undefined;
    let caller: Party;
    if (trunk) {
      const from = req.msg.from();
      caller = { number: from.uri.user ?? 'anonymous', displayName: from.displayName ?? from.uri.user ?? '', isExtension: false };
    } else {
      callerExt = this.authenticate(req, res);
      if (!callerExt) return;
      caller = this.partyOfExtension(callerExt);
    }
    // SipUri.user is already percent-decoded (%2A97 → *97).
    const dialled = trunk?.dialled ?? req.msg.ruri.user ?? '';
    const replaces = req.msg.get('replaces');
    if (replaces) {
      await this.onReplacesInvite(req, res, replaces, caller);
      return;
    }

    // A DID rings its extension of the same number, else the first extension of its assigned users (the
    // scenario interpreter takes over numbers once it exists).
    let target = this.opts.extensions.findByNumber(dialled);
    if (!target && trunk?.number) {
      const users = trunk.number.userIds;
      target = this.opts.extensions.list().find((e) => e.userId !== null && users.includes(e.userId));
    }
    let route: OutboundRoute | undefined;
    if (!target && callerExt && !dialled.startsWith('*')) route = this.opts.trunks?.routeOutbound(dialled, callerExt.number);
    if (!target && !route && !dialled.startsWith('*')) {
      res.send(404, 'Not Found');
      return;
    }
    const direction: CallDirection = trunk ? 'inbound' : route ? 'outbound' : 'internal';
    const callee: Party = target ? this.partyOfExtension(target) : { number: dialled, displayName: dialled, isExtension: false };
    const call = new Call(newId(), direction, caller, callee, this.opts.clock.now());
    if (trunk?.number) call.inboundNumber = trunk.number;
    const callerLeg = new Leg('caller', caller);
    call.legs.push(callerLeg);
    this.calls.set(call.id, call);
    this.history.create({ id: call.id, direction, caller: caller.number, callee: callee.number, startedAt: call.startedAt, numberId: trunk?.number?.id ?? null });
    this.event(call, 'call.started', { dialled, sipCallId: req.msg.callId });

    let cancelled = false;
    req.on('cancel', () => {
      cancelled = true;
      for (const a of call.attempts) a.abort();
      if (call.state === 'ringing' || call.state === 'voicemail') this.safe(this.hangup(call, 'cancelled'), 'hangup');
    });

    const offer = req.msg.bodyText;
    const media = this.opts.media;
    if (!media && !offer) {
      // Pass-through cannot carry a late offer (the answer would have to ride in our ACK to the callee).
      this.finishUnanswered(call, res, 488, 'no-sdp-offer', 'Not Acceptable Here');
      return;
    }
    if (media) {
      try {
        // RFC 3261 §13.2.1 late offer: an INVITE without SDP gets our offer in the 200 and answers in the ACK.
        callerLeg.endpoint = await media.openEndpoint({ callId: call.id, ...(offer ? { remoteSdp: offer } : {}), ...this.rtpTimeout() });
      } catch (err) {
        const status = mediaFailureStatus(err);
        this.log.info('caller media refused', { call: call.id, status, error: errorMessage(err) });
        this.finishUnanswered(call, res, status, status === 488 ? 'sdp-refused' : 'media-unavailable', status === 488 ? 'Not Acceptable Here' : 'Service Unavailable');
        return;
      }
    }
    if (cancelled) return this.cleanupCancelled(call, res);

    if (dialled.startsWith('*')) {
      const ep = callerLeg.endpoint;
      if (!callerExt || !ep || !this.opts.voicemail) {
        this.finishUnanswered(call, res, 404, 'unknown-feature', 'Not Found');
        return;
      }
      call.state = 'voicemail';
      let handled = false;
      try {
        handled = await this.opts.voicemail.feature({ call, req, res, callerEndpoint: ep, caller: callerExt, code: dialled });
      } finally {
        if (!handled) this.finishUnanswered(call, res, 404, 'unknown-feature', 'Not Found');
        else await this.hangup(call, 'feature-done');
      }
      return;
    }

    const calleeLeg = new Leg('callee', callee);
    let calleeOffer = offer;
    if (media) {
      try {
        calleeLeg.endpoint = await media.openEndpoint({ callId: call.id, ...this.rtpTimeout() });
      } catch (err) {
        this.log.warn('no media endpoint for the callee', { call: call.id, error: errorMessage(err) });
        this.finishUnanswered(call, res, 503, 'media-unavailable', 'Service Unavailable');
        return;
      }
      calleeOffer = calleeLeg.endpoint.localSdp;
    }
    let ringing = false;
    let earlyMedia: Promise<void> | undefined;
    const markRinging = (): void => {
      if (ringing) return;
      ringing = true;
      this.event(call, 'call.ringing', {});
      this.observer.emit('call.ringing', call.info());
    };
    // 180 → 180 (the phone plays its own ringback); 183 with SDP (a provider's announcement or ringback) → early
    // media: the callee's answer applied to its endpoint, bridged, and our 183 with our answer to the caller.
    const onProgress = (r: SipResponse): void => {
      if (res.sent || cancelled) return;
      const sdp = r.body.length > 0 && (r.contentType ?? 'application/sdp').startsWith('application/sdp') ? r.bodyText : undefined;
      if (sdp && !earlyMedia) {
        const callerEp = callerLeg.endpoint;
        const calleeEp = calleeLeg.endpoint;
        earlyMedia = (async () => {
          if (callerEp && calleeEp) {
            await calleeEp.setRemoteSdp(sdp);
            await callerEp.bridge(calleeEp);
          }
          if (res.sent || cancelled) return;
          res.send(183, 'Session Progress', { body: callerEp ? callerEp.localSdp : sdp, contentType: 'application/sdp' });
          this.event(call, 'call.early_media', {});
        })().catch((err: unknown) => this.log.info('early media refused', { call: call.id, error: errorMessage(err) }));
        markRinging();
        return;
      }
      if (ringing) return;
      res.send(180, 'Ringing');
      markRinging();
    };
    if (target) this.blf(target.number, 'early', call, 'recipient', caller.number);
    if (callerExt) this.blf(callerExt.number, 'early', call, 'initiator', callee.number);

    const dnd = target !== undefined && this.opts.isDnd?.(target) === true;
    if (dnd) this.event(call, 'call.dnd', { extension: target?.number });
    const fork: ForkResult = dnd
      ? { ok: false, status: 486, timedOut: false, cancelled: false, dnd: true }
      : target
      ? await this.ringExtension(call, target.number, calleeOffer, caller, onProgress)
      : await this.ringRoute(call, route!, calleeOffer, caller, onProgress);
    await earlyMedia; // its answer must not land after the final one
    if (cancelled || call.state === 'ended') {
      if (fork.ok) this.release(fork.dialog);
      await calleeLeg.endpoint?.close();
      return this.cleanupCancelled(call, res);
    }
    if (!fork.ok) {
      await calleeLeg.endpoint?.close();
      const reason = fork.dnd ? 'dnd' : fork.status === 486 ? 'busy' : fork.timedOut ? 'no-answer' : 'unavailable';
      if (target) this.blf(target.number, 'idle', call);
      if (target?.voicemailEnabled && this.opts.voicemail && callerLeg.endpoint && reason !== 'busy') {
        call.state = 'voicemail';
        this.history.setStatus(call.id, 'voicemail');
        this.event(call, 'call.voicemail', { reason });
        try {
          await this.opts.voicemail.deposit({ call, req, res, callerEndpoint: callerLeg.endpoint, target, reason });
        } finally {
          await this.hangup(call, `voicemail:${reason}`);
        }
        return;
      }
      this.finishUnanswered(call, res, fork.status, reason);
      return;
    }

    // Answered: apply the callee's answer, then answer the caller with our own SDP (or the callee's, pass-through).
    calleeLeg.dialog = fork.dialog;
    call.legs.push(calleeLeg);
    try {
      let callerSdp = fork.dialog.remoteSdp ?? '';
      if (media && calleeLeg.endpoint && callerLeg.endpoint) {
        await calleeLeg.endpoint.setRemoteSdp(fork.dialog.remoteSdp ?? '');
        await callerLeg.endpoint.bridge(calleeLeg.endpoint);
        callerSdp = callerLeg.endpoint.localSdp;
      }
      callerLeg.dialog = await this.opts.sip.createUas(req, res, { localSdp: callerSdp });
      if (!offer && callerLeg.endpoint) await applyLateAnswer(callerLeg.endpoint, callerLeg.dialog);
    } catch (err) {
      this.log.info('caller leg could not be answered', { call: call.id, error: errorMessage(err) });
      await this.hangup(call, cancelled ? 'cancelled' : 'answer-failed');
      return;
    }
    if (this.isEnded(call)) {
      this.release(callerLeg.dialog);
      return;
    }
    this.answered(call, calleeLeg);
  }

  /** Re-reads the state after an await (TypeScript keeps the narrowing from before it). */
  private isEnded(call: Call): boolean {
    return call.state === 'ended';
  }

  private rtpTimeout(): { rtpTimeoutMs?: number } {
    return this.opts.rtpTimeoutMs !== undefined ? { rtpTimeoutMs: this.opts.rtpTimeoutMs } : {};
  }

  private cleanupCancelled(call: Call, res: CallServerResponse): void {
    if (!res.sent) res.send(487, 'Request Terminated');
    this.safe(this.hangup(call, 'cancelled'), 'hangup');
  }

  private finishUnanswered(call: Call, res: CallServerResponse, status: number, cause: string, reason?: string): void {
    this.counters.failed++;
    if (!res.sent) res.send(status, reason);
    this.safe(this.hangup(call, cause), 'hangup');
  }

  /** Marks the call answered, wires both legs' events, starts recording if asked. */
  private answered(call: Call, answeredLeg: Leg): void {
    this.counters.answered++;
    call.state = 'answered';
    call.answeredAt = this.opts.clock.now();
    this.history.answered(call.id, call.answeredAt, answeredLeg.party.userId ?? null);
    this.event(call, 'call.answered', { by: answeredLeg.party.number });
    for (const leg of call.legs) this.wireLeg(call, leg);
    for (const leg of call.legs) if (leg.party.isExtension) this.blf(leg.party.number, 'confirmed', call);
    this.observer.emit('call.answered', call.info());
    if (this.opts.shouldRecord?.(call.info())) this.startRecording(call.id);
  }

  private wireLeg(call: Call, leg: Leg): void {
    const d = leg.dialog;
    if (d) {
      d.on('destroy', (reason) => {
        // RFC 4028: the leg's session timer ran out (the phone stopped refreshing) or our refresh was refused.
        const cause = reason === 'session-expired' ? 'session-expired' : `${leg.role === 'caller' ? 'caller' : 'callee'}-hangup`;
        if (call.legs.includes(leg)) this.safe(this.hangup(call, cause, leg), 'hangup');
      });
      d.on('modify', (req, res) => this.safe(this.onModify(call, leg, req, res), 're-INVITE', res));
      d.on('refer', (req, res) => this.safe(this.onRefer(call, leg, req, res), 'REFER', res));
      d.on('info', (req, res) => this.onInfo(call, leg, req, res));
    }
    const ep = leg.endpoint;
    if (ep) {
      ep.on('rtpTimeout', () => {
        if (call.legs.includes(leg)) this.safe(this.hangup(call, 'rtp-timeout'), 'hangup');
      });
      ep.on('dtmf', (digit, info) => {
        this.event(call, 'call.dtmf', { party: leg.party.number, digit, method: info.method });
        this.observer.emit('call.dtmf', call.info(), { party: leg.party.number, digit, method: info.method });
      });
      ep.on('error', (err) => this.log.warn('media error', { call: call.id, error: err.message }));
    }
  }

  /** Ends the call: BYE to every leg still up (but the one that hung up), endpoints closed, history closed. */
  async hangup(call: Call, cause: string, from?: Leg): Promise<void> {
    if (call.state === 'ended') return;
    call.state = 'ended';
    call.cause = cause;
    call.endedAt = this.opts.clock.now();
    this.calls.delete(call.id);
    for (const a of call.attempts) a.abort();
    const endpoints = new Set<MediaEndpoint>();
    const lamps = new Set<string>();
    for (const leg of call.legs) {
      if (leg !== from) this.release(leg.dialog);
      if (leg.endpoint) endpoints.add(leg.endpoint);
      if (leg.party.isExtension) lamps.add(leg.party.number);
    }
    if (call.callee.isExtension) lamps.add(call.callee.number);
    if (call.caller.isExtension) lamps.add(call.caller.number);
    for (const n of lamps) this.blf(n, 'idle', call);
    // History first: the BYEs are out, so anyone looking at the call now must see it ended.
    this.history.ended(call.id, call.endedAt, cause);
    this.event(call, 'call.ended', { cause });
    for (const ep of endpoints) {
      try {
        if (call.recording && ep === call.legs[0]?.endpoint) await ep.stopRecord();
        await ep.close();
      } catch (err) {
        this.log.debug('endpoint close failed', { call: call.id, error: errorMessage(err) });
      }
    }
    // Observers hear of the end once the recording file is complete.
    this.observer.emit('call.ended', call.info());
  }

  /** Runs an async handler from an event: a failure is logged (and answered 500 if a request waits), never thrown. */
  private safe(p: Promise<unknown>, what: string, res?: CallServerResponse): void {
    p.catch((err: unknown) => {
      this.log.error(`${what} failed`, { error: errorMessage(err) });
      if (res && !res.sent) res.send(500, 'Internal Server Error');
    });
  }

  /** Sends BYE (idempotent in the stack); a failed BYE is logged, never an unhandled rejection. */
  private release(d: CallDialog | undefined): void {
    if (!d) return;
    try {
      void Promise.resolve(d.destroy()).catch((err: unknown) => this.log.debug('BYE failed', { dialog: d.callId, error: errorMessage(err) }));
    } catch (err) {
      this.log.debug('BYE failed', { dialog: d.callId, error: errorMessage(err) });
    }
  }

  // ---------------------------------------------------------------- ringing

  /** Forks to every registered contact of an extension; first 2xx wins, the others are CANCELled. */
  private ringExtension(call: Call, number: string, sdp: string, caller: Party, onProgress: (r: SipResponse) => void): Promise<ForkResult> {
    const contacts = this.opts.registrar.lookup(number);
    if (contacts.length === 0) return Promise.resolve({ ok: false, status: 480, timedOut: false, cancelled: false });
    const from = `"${caller.displayName.replace(/"/g, '')}" <sip:${caller.number}@${this.opts.domain}>`;
    const attempts = contacts.map((b) => ({
      uri: b.contact,
      binding: b as CallBinding | undefined,
      opts: {
        localSdp: sdp,
        headers: { From: from, To: `<sip:${number}@${this.opts.domain}>` },
        target: {
          address: b.source.address,
          port: b.source.port,
          transport: b.source.transport,
          ...(b.source.connectionId ? { connectionId: b.source.connectionId } : {}),
        },
      } as CallUacOptions,
    }));
    return this.fork(call, attempts, onProgress);
  }

  private ringRoute(call: Call, route: OutboundRoute, sdp: string, caller: Party, onProgress: (r: SipResponse) => void): Promise<ForkResult> {
    const presented = route.callerId ?? caller.number;
    const fromDomain = route.fromDomain ?? this.opts.domain;
    // The provider shows the number we present; the extension's name only goes out with a presentable number.
    const display = presented === 'anonymous' ? 'Anonymous' : caller.displayName.replace(/"/g, '');
    const opts: CallUacOptions = { localSdp: sdp, headers: { From: `"${display}" <sip:${presented}@${fromDomain}>` } };
    if (route.target) opts.target = route.target;
    if (route.auth) opts.auth = route.auth;
    this.event(call, 'call.outbound', { trunk: route.trunkName });
    return this.fork(call, [{ uri: route.uri, binding: undefined, opts }], onProgress);
  }

  private fork(call: Call, attempts: { uri: string; binding: CallBinding | undefined; opts: CallUacOptions }[], onProgress: (r: SipResponse) => void): Promise<ForkResult> {
    return new Promise((resolve) => {
      let pending = attempts.length;
      let settled = false;
      let timedOut = false;
      const statuses: number[] = [];
      const controllers = attempts.map(() => new AbortController());
      for (const c of controllers) call.attempts.add(c);
      const done = (r: ForkResult): void => {
        settled = true;
        this.opts.clock.clearTimeout(timer);
        for (const c of controllers) call.attempts.delete(c);
        resolve(r);
      };
      const timer: TimerHandle = this.opts.clock.setTimeout(() => {
        timedOut = true;
        for (const c of controllers) c.abort();
      }, this.ringTimeoutMs);
      attempts.forEach((a, i) => {
        const ctl = controllers[i]!;
        const opts: CallUacOptions = {
          ...a.opts,
          signal: ctl.signal,
          onProvisional: (r) => {
            if (r.status === 180 || r.status === 183) onProgress(r);
          },
        };
        this.opts.sip.createUac(a.uri, opts).then(
          (dialog) => {
            if (settled) {
              // RFC 3261 §16.7 step 10: a late 2xx from another branch is ACKed and BYEd.
              this.release(dialog);
              return;
            }
            controllers.forEach((c, j) => j !== i && c.abort());
            done({ ok: true, dialog, binding: a.binding });
          },
          (err: unknown) => {
            const status = statusOf(err);
            if (!ctl.signal.aborted || timedOut) statuses.push(status);
            if (--pending === 0 && !settled) {
              const cancelled = controllers.every((c) => c.signal.aborted) && !timedOut;
              done({ ok: false, status: pickFailureStatus(statuses, timedOut), timedOut, cancelled });
            }
          },
        );
      });
    });
  }

  // ---------------------------------------------------------------- in-dialog requests

  /** re-INVITE: RFC 3264 §8.4 hold (a=sendonly / inactive) and resume; answered from our endpoint. */
  private async onModify(call: Call, leg: Leg, req: CallIncomingRequest, res: CallServerResponse): Promise<void> {
    const sdp = req.msg.bodyText;
    const other = call.other(leg);
    if (!leg.endpoint) {
      // Pass-through: the other party's last SDP still describes where to send.
      res.send(200, 'OK', { body: other?.dialog?.remoteSdp ?? '', contentType: 'application/sdp' });
      return;
    }
    if (!sdp) {
      // An UPDATE without an offer (session refresh, RFC 4028) gets no SDP; an offerless re-INVITE gets our
      // current description as the offer (the media keeps its parameters).
      if (req.msg.method === 'UPDATE') res.send(200, 'OK');
      else res.send(200, 'OK', { body: leg.endpoint.localSdp, contentType: 'application/sdp' });
      return;
    }
    let answer: string;
    let held: boolean;
    try {
      const dir = parseRemoteSdp(sdp).direction;
      held = dir === 'sendonly' || dir === 'inactive';
      answer = await leg.endpoint.setRemoteSdp(sdp);
    } catch (err) {
      res.send(488, 'Not Acceptable Here');
      this.log.info('re-INVITE SDP refused', { call: call.id, error: errorMessage(err) });
      return;
    }
    res.send(200, 'OK', { body: answer, contentType: 'application/sdp' });
    if (held !== leg.held) {
      leg.held = held;
      this.event(call, held ? 'call.hold' : 'call.resume', { party: leg.party.number });
      this.observer.emit('call.hold', call.info(), { party: leg.party.number, on: held });
      const otherEp = other?.endpoint;
      const moh = typeof this.opts.mohFile === 'function' ? this.opts.mohFile() : this.opts.mohFile;
      if (otherEp && held && moh) void otherEp.play([{ file: moh }], { loop: true }).catch(() => undefined);
      else if (otherEp && !held) otherEp.stopPlay();
    }
  }

  /** SIP INFO DTMF (application/dtmf-relay "Signal=5"), reported like RFC 4733 digits. */
  private onInfo(call: Call, leg: Leg, req: CallIncomingRequest, res: CallServerResponse): void {
    const body = req.msg.bodyText;
    const m = /Signal\s*=\s*([0-9*#A-D])/i.exec(body) ?? (/^\s*([0-9*#A-D])\s*$/i.exec(body) as RegExpExecArray | null);
    if (m && leg.endpoint) leg.endpoint.injectDtmf(m[1]!.toUpperCase(), 'info');
    res.send(200, 'OK');
  }

  private notifyRefer(dialog: CallDialog | undefined, status: number, reason: string, final: boolean): void {
    if (!dialog) return;
    dialog
      .request('NOTIFY', {
        headers: { Event: 'refer', 'Subscription-State': final ? 'terminated;reason=noresource' : 'active;expires=60' },
        body: `SIP/2.0 ${status} ${reason}\r\n`,
        contentType: SIPFRAG,
      })
      .catch((err: unknown) => this.log.debug('refer NOTIFY failed', { dialog: dialog.callId, error: errorMessage(err) }));
  }

  /**
   * REFER (RFC 3515) from one party: blind transfer of the other party to Refer-To, or — when Refer-To carries
   * Replaces (RFC 3891) naming another call of the same transferor — attended transfer: the two remote parties
   * are bridged to each other and the transferor's legs are released.
   */
  private async onRefer(call: Call, leg: Leg, req: CallIncomingRequest, res: CallServerResponse): Promise<void> {
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
    const media = this.opts.media;
    if (!media || !transferee.endpoint) {
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
    const ext = this.opts.extensions.findByNumber(number);
    if (!ext) {
      this.notifyRefer(leg.dialog, 404, 'Not Found', true);
      return;
    }
    this.event(call, 'call.transfer', { kind: 'blind', by: leg.party.number, to: number });
    const newLeg = new Leg(leg.role, this.partyOfExtension(ext));
    newLeg.endpoint = await media.openEndpoint({ callId: call.id, ...this.rtpTimeout() });
    this.blf(ext.number, 'early', call, 'recipient', transferee.party.number);
    const fork = await this.ringExtension(call, ext.number, newLeg.endpoint.localSdp, transferee.party, () => undefined);
    if (!fork.ok || call.state === 'ended') {
      if (fork.ok) this.release(fork.dialog);
      await newLeg.endpoint.close();
      this.blf(ext.number, 'idle', call);
      if (call.state !== 'ended') this.notifyRefer(leg.dialog, fork.ok ? 487 : fork.status, reasonPhrase(fork.ok ? 487 : fork.status), true);
      return;
    }
    newLeg.dialog = fork.dialog;
    await newLeg.endpoint.setRemoteSdp(fork.dialog.remoteSdp ?? '');
    await this.replaceLeg(call, leg, newLeg, transferee);
    this.notifyRefer(leg.dialog, 200, 'OK', true);
    this.event(call, 'call.transferred', { kind: 'blind', from: leg.party.number, to: ext.number });
    this.observer.emit('call.transferred', call.info(), { from: leg.party.number, to: ext.number, kind: 'blind' });
    // RFC 5589 §6.1: the transferor hangs up after the final NOTIFY; we release it ourselves if it does not.
    const old = leg.dialog;
    this.opts.clock.setTimeout(() => this.release(old), 2000);
  }

  /** Puts `next` in place of `gone` in the call, bridged to `keep`; releases gone's media (its dialog is left to the caller). */
  private async replaceLeg(call: Call, gone: Leg, next: Leg, keep: Leg): Promise<void> {
    const i = call.legs.indexOf(gone);
    if (i >= 0) call.legs[i] = next;
    if (keep.endpoint && next.endpoint) await keep.endpoint.bridge(next.endpoint);
    if (gone.endpoint && gone.endpoint !== keep.endpoint) {
      if (call.recording && call.legs[0] === next) await gone.endpoint.stopRecord().catch(() => undefined);
      await gone.endpoint.close().catch(() => undefined);
    }
    if (gone.party.isExtension) this.blf(gone.party.number, 'idle', call);
    this.wireLeg(call, next);
    if (next.party.isExtension) this.blf(next.party.number, 'confirmed', call);
    if (next.role === 'callee') call.callee = next.party;
  }

  /** Finds the active call and leg whose dialog has this Call-ID (Replaces target). */
  private findLegByDialog(callId: string): { call: Call; leg: Leg } | undefined {
    for (const call of this.calls.values()) {
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
    this.event(call, 'call.transferred', { kind: 'attended', from: leg.party.number, to: other.party.number });
    this.observer.emit('call.transferred', call.info(), { from: leg.party.number, to: other.party.number, kind: 'attended' });
    await this.hangup(found.call, 'transferred');
    const old = leg.dialog;
    this.opts.clock.setTimeout(() => this.release(old), 2000);
  }

  /** INVITE with Replaces (RFC 3891 §3): the new caller takes the place of the named leg. */
  private async onReplacesInvite(req: CallIncomingRequest, res: CallServerResponse, value: string, caller: Party): Promise<void> {
    const r = parseReplaces(value);
    const found = r ? this.findLegByDialog(r.callId) : undefined;
    if (!found || found.call.state !== 'answered') {
      res.send(481, 'Call/Transaction Does Not Exist');
      return;
    }
    const { call, leg } = found;
    const keep = call.other(leg);
    const media = this.opts.media;
    if (!keep?.endpoint || !media) {
      res.send(488, 'Not Acceptable Here');
      return;
    }
    const newLeg = new Leg(leg.role, caller);
    try {
      newLeg.endpoint = await media.openEndpoint({ callId: call.id, remoteSdp: req.msg.bodyText, ...this.rtpTimeout() });
      newLeg.dialog = await this.opts.sip.createUas(req, res, { localSdp: newLeg.endpoint.localSdp });
    } catch (err) {
      await newLeg.endpoint?.close();
      if (!res.sent) res.send(488, 'Not Acceptable Here');
      this.log.info('INVITE/Replaces failed', { call: call.id, error: errorMessage(err) });
      return;
    }
    await this.replaceLeg(call, leg, newLeg, keep);
    this.release(leg.dialog);
    this.event(call, 'call.transferred', { kind: 'attended', from: leg.party.number, to: caller.number });
    this.observer.emit('call.transferred', call.info(), { from: leg.party.number, to: caller.number, kind: 'attended' });
  }

  // ---------------------------------------------------------------- history, BLF

  private event(call: Call, type: string, data: Record<string, unknown>): void {
    try {
      this.history.event(call.id, this.opts.clock.now(), type, data);
    } catch (err) {
      this.log.warn('call event not stored', { call: call.id, type, error: errorMessage(err) });
    }
  }

  private blf(ext: string, state: 'idle' | 'early' | 'confirmed', call: Call, direction?: 'initiator' | 'recipient', remote?: string): void {
    try {
      this.opts.presence?.setDialogState(ext, state, {
        callId: call.id,
        ...(direction ? { direction } : {}),
        ...(remote ? { remote: `sip:${remote}@${this.opts.domain}` } : {}),
      });
    } catch (err) {
      this.log.debug('BLF update failed', { ext, error: errorMessage(err) });
    }
  }
}
