// Call flow: authenticates INVITEs, resolves the target, rings it through the ring engine, bridges media, hold, recording, hangup.
import fs from 'node:fs';
import path from 'node:path';
import type { Clock, Logger, Module, ModuleHealth } from '../shared/index.js';
import { TypedEmitter, errorMessage, newId } from '../shared/index.js';
import type { Database } from '../storage/index.js';
import type { Extension, ExtensionRepository } from '../directory/index.js';
import { parseRemoteSdp, type MediaEndpoint, type MediaEngine } from '../media/index.js';
import type { SipResponse } from '../sip/index.js';
import { Call, Leg, type CallEvents, type CallInfo, type Party } from './call.js';
import { CallHistory, type CallDirection } from './call-history.js';
import { FeatureCodes, type FeatureHandler } from './feature-codes.js';
import { callerSrtpPolicy, calleeSrtpPolicy } from './secure-media.js';
import { RingEngine, partyOfExtension, type RingMode, type RingResult, type RingTarget } from './ring-engine.js';
import { resolveDestination } from './target-resolver.js';
import { CallTransfer, type CallControl } from './transfer.js';
import type { CallDialog, CallIncomingRequest, CallInboundNumber, CallPresence, CallRegistrar, CallServerResponse, CallSipHost, CallTrunks } from './sip-host.js';

export type { CallEvents } from './call.js';

/** A call to an extension that nobody took: what voicemail needs to take it over. */
export interface UnansweredCall {
  call: Call;
  req: CallIncomingRequest;
  res: CallServerResponse;
  /** The caller's media endpoint (opened on the INVITE's offer), not yet answered. */
  callerEndpoint: MediaEndpoint;
  /** The mailbox: an extension's, or an inbound number's own (`number`) when the scenario names none. */
  target: Extension | { number: string; numberId: number };
  reason: 'no-answer' | 'unavailable' | 'busy' | 'dnd' | 'scenario';
  /** A sound file played instead of the standard "leave a message after the tone". */
  greetingFile?: string | undefined;
  /** Longest message for this deposit (else the configured maximum). */
  maxLengthMs?: number | undefined;
}

export interface VoicemailHandler {
  /** Takes an unanswered call (answers it, records a message). Resolves when the call is over. */
  deposit(u: UnansweredCall): Promise<void>;
}

/** An INVITE being handled: the caller's leg (answered or not yet) and what ended it early. */
export interface CallSetup {
  call: Call;
  req: CallIncomingRequest;
  res: CallServerResponse;
  callerLeg: Leg;
  /** The caller's SDP offer ('' for a late-offer INVITE). */
  offer: string;
  /** The caller CANCELled (or the call ended) meanwhile. */
  cancelled(): boolean;
}

/** Takes over inbound calls to numbers (the scenario interpreter); call control hangs up once it resolves. */
export interface InboundCallHandler {
  handle(setup: CallSetup, number: CallInboundNumber): Promise<void>;
  /** One of the box's own numbers (DID) an extension dialled: the call runs that number's handling too. */
  numberFor?(dialled: string): CallInboundNumber | undefined;
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
  /** Star codes (*97…): modules register on it; a fresh registry when absent. */
  featureCodes?: FeatureCodes | undefined;
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
  /** Random source of the ring engine's random mode (tests). */
  random?: () => number;
}

/** 488 when the caller's SDP is the problem (RFC 3261 §21.4.26), 503 when the media engine cannot serve (ports, worker). */
export function mediaFailureStatus(err: unknown): number {
  const code = err && typeof err === 'object' && 'code' in err ? String((err as { code: unknown }).code) : '';
  return code.startsWith('media.sdp') || code.startsWith('media.codec') || code.startsWith('media.srtp') ? 488 : 503;
}

/** After a late-offer INVITE was answered with our offer: the ACK's SDP is the answer (RFC 3264 §5). */
export async function applyLateAnswer(ep: MediaEndpoint, dialog: CallDialog): Promise<void> {
  const answer = dialog.remoteSdp;
  if (!answer) throw new Error('late-offer INVITE: the ACK carried no SDP answer');
  await ep.setRemoteSdp(answer);
}

export class CallService implements Module, CallControl {
  readonly name = 'calls';
  /** Typed events for watchers (history, LEDs, console, queue). */
  readonly observer = new TypedEmitter<CallEvents>();
  readonly history: CallHistory;
  /** Star codes: voicemail's *97, queue log-in/out, the day/night override… */
  readonly featureCodes: FeatureCodes;
  /** Rings targets with one winner (calls to extensions, scenarios, queues). */
  readonly ringEngine: RingEngine;
  readonly ringTimeoutMs: number;
  readonly log: Logger;
  private readonly calls = new Map<string, Call>();
  private readonly transfer: CallTransfer;
  private inbound: InboundCallHandler | undefined;
  private internalNumbers: ((dialled: string) => FeatureHandler | undefined) | undefined;
  private running = false;
  private counters = { invites: 0, answered: 0, failed: 0, challenged: 0, overload: 0 };
  /** INVITEs being handled (ringing, or being answered); over maxPendingSetups new ones get 503. */
  private pendingSetups = 0;
  private readonly maxPendingSetups: number;

  constructor(private opts: CallServiceOptions) {
    this.log = opts.logger.child({ module: 'calls' });
    this.history = new CallHistory(opts.db, {
      batchMs: opts.historyBatchMs ?? 0,
      clock: opts.clock,
      onError: (err) => this.log.warn('call history row not written', { error: errorMessage(err) }),
    });
    this.history.follow(this.observer, opts.clock);
    this.ringTimeoutMs = opts.ringTimeoutMs ?? 20_000;
    this.maxPendingSetups = opts.maxPendingSetups ?? 300;
    this.featureCodes = opts.featureCodes ?? new FeatureCodes();
    this.ringEngine = new RingEngine({
      sip: opts.sip,
      registrar: opts.registrar,
      extensions: opts.extensions,
      trunks: opts.trunks,
      clock: opts.clock,
      domain: opts.domain,
      isBusy: (ext) => this.inCall(ext),
      ...(opts.isDnd ? { isDnd: opts.isDnd } : {}),
      release: (d) => this.release(d),
      event: (call, type, data) => this.event(call, type, data),
      ...(opts.random ? { random: opts.random } : {}),
    });
    for (const [userId, at] of this.history.lastAnsweredByUser()) this.ringEngine.noteAnswered(userId, at);
    this.transfer = new CallTransfer(this);
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    // Calls the last run did not end (kill -9, power cut): ended now in the history; their phones got a BYE from the
    // SIP stack's dialog journal (docs/security.md, "After a crash").
    const interrupted = this.history.closeInterrupted(this.opts.clock.now(), 'restart');
    if (interrupted.length > 0) this.log.warn('calls interrupted by the last stop ended in the history', { calls: interrupted.length, cause: 'restart' });
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

  /** Sets who takes unanswered calls (voicemail is built after the service: it shares its history). */
  useVoicemail(v: VoicemailHandler): void {
    this.opts.voicemail = v;
  }

  /** Sets who takes inbound calls to numbers (the scenario interpreter); without one a number rings its first user. */
  useInboundHandler(h: InboundCallHandler | undefined): void {
    this.inbound = h;
  }

  /**
   * Numbers served by a module rather than an extension (a queue's short number): an extension dialling one gets
   * the handler, as for a feature code (docs/calls.md "What a dialled number reaches").
   */
  useInternalNumbers(lookup: ((dialled: string) => FeatureHandler | undefined) | undefined): void {
    this.internalNumbers = lookup;
  }

  /** Calls in progress. */
  active(): CallInfo[] {
    return [...this.calls.values()].map((c) => c.info());
  }

  /** A call in progress (the scenario interpreter, voicedrop). */
  get(callId: string): Call | undefined {
    return this.calls.get(callId);
  }

  liveCalls(): Iterable<Call> {
    return this.calls.values();
  }

  get media(): MediaEngine | undefined {
    return this.opts.media;
  }

  get sip(): CallSipHost {
    return this.opts.sip;
  }

  get clock(): Clock {
    return this.opts.clock;
  }

  /** Whether one of the extension's phones is in an answered call (ring engine: "free" targets). */
  private inCall(ext: Extension): boolean {
    for (const c of this.calls.values()) {
      if (c.state !== 'answered') continue;
      for (const leg of c.legs) if (leg.party.extensionId === ext.id) return true;
    }
    return false;
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
      source: req.source.address,
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
      headers: { 'Proxy-Authenticate': digest.challengeFor(req.msg.from().uri.user, verdict.stale, req.source.address) },
    });
    return undefined;
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
      await this.transfer.onReplacesInvite(req, res, replaces, caller);
      return;
    }

    let dest = resolveDestination(
      {
        extensions: this.opts.extensions,
        features: this.featureCodes,
        routable: (n, c) => this.opts.trunks?.routeOutbound(n, c) !== undefined,
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
    const call = new Call(newId(), direction, caller, callee, this.opts.clock.now());
    const inboundNumber = dest.kind === 'number' ? dest.number : trunk?.number;
    if (inboundNumber) call.inboundNumber = inboundNumber;
    const callerLeg = new Leg('caller', caller);
    call.legs.push(callerLeg);
    this.calls.set(call.id, call);
    this.observer.emit('call.started', call.info(), { dialled, sipCallId: req.msg.callId });

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
        callerLeg.endpoint = await media.openEndpoint({ callId: call.id, ...(offer ? { remoteSdp: offer } : {}), ...this.rtpTimeout(), srtp: callerSrtpPolicy(callerExt) });
      } catch (err) {
        const status = mediaFailureStatus(err);
        this.log.info('caller media refused', { call: call.id, status, error: errorMessage(err) });
        this.finishUnanswered(call, res, status, status === 488 ? 'sdp-refused' : 'media-unavailable', status === 488 ? 'Not Acceptable Here' : 'Service Unavailable');
        return;
      }
    }
    if (cancelled) return this.cleanupCancelled(call, res);
    const setup: CallSetup = { call, req, res, callerLeg, offer, cancelled: () => cancelled || call.state === 'ended' };

    if (dest.kind === 'unknown' || dest.kind === 'feature') {
      await this.runFeature(setup, callerExt, dialled, dest.kind === 'feature' ? dest.handler : undefined, dest.kind === 'feature' ? dest.digits : '');
      return;
    }
    if (dest.kind === 'number' && this.inbound) {
      try {
        await this.inbound.handle(setup, dest.number);
      } finally {
        if (!res.sent) this.finishUnanswered(call, res, 480, 'scenario-ended', 'Temporarily Unavailable');
        else await this.hangup(call, call.cause ?? 'scenario-ended');
      }
      return;
    }

    if (target) this.blf(target.number, 'early', call, 'recipient', caller.number);
    if (callerExt) this.blf(callerExt.number, 'early', call, 'initiator', callee.number);
    const dnd = target !== undefined && this.opts.isDnd?.(target) === true;
    if (dnd) this.event(call, 'call.dnd', { extension: target?.number });
    const ringTarget: RingTarget = target ? { kind: 'extension', number: target.number } : { kind: 'external', number: dialled };
    const fork: ConnectResult = dnd
      ? { ok: false, status: 486, reason: 'busy', timedOut: false, cancelled: false }
      : await this.connect(setup, { targets: [ringTarget], mode: 'simultaneous', ringTimeMs: this.ringTimeoutMs, callerExtension: callerExt?.number });
    if (fork.ok || setup.cancelled()) return;
    if (fork.cancelled) return this.cleanupCancelled(call, res);
    const reason = dnd ? 'dnd' : fork.status === 486 ? 'busy' : fork.timedOut ? 'no-answer' : 'unavailable';
    if (target) this.blf(target.number, 'idle', call);
    if (target?.voicemailEnabled && this.opts.voicemail && callerLeg.endpoint && reason !== 'busy') {
      await this.toVoicemail(setup, target, reason);
      return;
    }
    this.finishUnanswered(call, res, fork.status, reason);
  }

  /** Hands an unanswered call to voicemail (greeting, recording); the call ends when it is done. */
  async toVoicemail(
    s: CallSetup,
    target: UnansweredCall['target'],
    reason: UnansweredCall['reason'],
    extra: Pick<UnansweredCall, 'greetingFile' | 'maxLengthMs'> = {},
  ): Promise<void> {
    const ep = s.callerLeg.endpoint;
    if (!this.opts.voicemail || !ep) {
      this.finishUnanswered(s.call, s.res, 480, 'no-voicemail', 'Temporarily Unavailable');
      return;
    }
    s.call.state = 'voicemail';
    this.history.setStatus(s.call.id, 'voicemail');
    this.event(s.call, 'call.voicemail', { reason, mailbox: target.number });
    try {
      await this.opts.voicemail.deposit({ call: s.call, req: s.req, res: s.res, callerEndpoint: ep, target, reason, ...extra });
    } finally {
      await this.hangup(s.call, `voicemail:${reason}`);
    }
  }

  /** A star code: the registered handler answers it; unknown codes (or from a trunk) get 404. */
  private async runFeature(s: CallSetup, callerExt: Extension | undefined, code: string, handler: FeatureHandler | undefined, digits: string): Promise<void> {
    const ep = s.callerLeg.endpoint;
    if (!callerExt || !ep || !handler) {
      this.finishUnanswered(s.call, s.res, 404, 'unknown-feature', 'Not Found');
      return;
    }
    s.call.state = 'voicemail';
    this.event(s.call, 'call.feature', { code });
    try {
      await handler({ call: s.call, req: s.req, res: s.res, callerEndpoint: ep, caller: callerExt, code, digits });
    } catch (err) {
      this.log.warn('feature code failed', { call: s.call.id, code, error: errorMessage(err) });
    } finally {
      if (!s.res.sent) this.finishUnanswered(s.call, s.res, 480, 'feature-unanswered', 'Temporarily Unavailable');
      else await this.hangup(s.call, 'feature-done');
    }
  }

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
    const media = this.opts.media;
    const calleeLeg = new Leg('callee', call.callee);
    let calleeOffer = s.offer;
    if (media) {
      try {
        calleeLeg.endpoint = await media.openEndpoint({ callId: call.id, ...this.rtpTimeout(), srtp: calleeSrtpPolicy(r.targets, this.opts.extensions, this.opts.registrar) });
      } catch (err) {
        this.log.warn('no media endpoint for the callee', { call: call.id, error: errorMessage(err) });
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
      this.observer.emit('call.ringing', call.info());
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
          this.event(call, 'call.early_media', {});
        })().catch((err: unknown) => this.log.info('early media refused', { call: call.id, error: errorMessage(err) }));
        markRinging();
        return;
      }
      if (ringing) return;
      res.send(180, 'Ringing');
      markRinging();
    };
    const tried = new Set<string>();
    const fork: RingResult = await this.ringEngine.ring({
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
          this.blf(e.number, 'early', call, 'recipient', call.caller.number);
        }
      },
    });
    await earlyMedia; // its answer must not land after the final one
    const winner = fork.ok ? fork.target.extensions.map((e) => e.number) : [];
    for (const n of tried) if (!winner.includes(n)) this.blf(n, 'idle', call);
    if (s.cancelled()) {
      if (fork.ok) this.release(fork.dialog);
      await calleeLeg.endpoint?.close();
      if (!res.sent) this.cleanupCancelled(call, res);
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
        await answeredLeg.endpoint.setRemoteSdp(fork.dialog.remoteSdp ?? '');
        callerLeg.endpoint.stopPlay();
        await callerLeg.endpoint.bridge(answeredLeg.endpoint);
        callerSdp = callerLeg.endpoint.localSdp;
      }
      if (!callerAnswered()) {
        callerLeg.dialog = await this.opts.sip.createUas(s.req, res, { localSdp: callerSdp });
        if (!s.offer && callerLeg.endpoint) await applyLateAnswer(callerLeg.endpoint, callerLeg.dialog);
      }
    } catch (err) {
      this.log.info('caller leg could not be answered', { call: call.id, error: errorMessage(err) });
      await this.hangup(call, s.cancelled() ? 'cancelled' : 'answer-failed');
      return { ok: false, status: 500, reason: 'cancelled', timedOut: false, cancelled: true };
    }
    if (this.isEnded(call)) {
      this.release(callerLeg.dialog);
      return { ok: false, status: 487, reason: 'cancelled', timedOut: false, cancelled: true };
    }
    this.answered(call, answeredLeg);
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
    const media = this.opts.media;
    if (!media) return { ok: false, stage: 'first', status: 503, callId: null };
    const call = new Call(newId(), 'outbound', o.firstCaller, o.secondCaller, this.opts.clock.now());
    this.calls.set(call.id, call);
    this.observer.emit('call.started', call.info(), { dialled: '', sipCallId: '' });
    const legA = new Leg('caller', o.firstCaller);
    try {
      legA.endpoint = await media.openEndpoint({ callId: call.id, ...this.rtpTimeout() });
    } catch (err) {
      this.log.warn('no media endpoint for a placed call', { call: call.id, error: errorMessage(err) });
      await this.hangup(call, 'media-unavailable');
      return { ok: false, stage: 'first', status: 503, callId: call.id };
    }
    call.legs.push(legA);
    const first = await this.ringEngine.ring({
      call, caller: o.firstCaller, targets: o.first, mode: 'simultaneous', ringTimeMs: o.ringTimeMs, offer: legA.endpoint.localSdp, signal: o.signal, callerExtension: o.callerExtension,
    });
    if (!first.ok || this.isEnded(call)) {
      if (first.ok) this.release(first.dialog);
      await this.hangup(call, first.ok ? 'cancelled' : 'no-answer');
      return { ok: false, stage: 'first', status: first.ok ? 487 : first.status, callId: call.id };
    }
    const a = new Leg('caller', first.target.party);
    a.endpoint = legA.endpoint;
    a.dialog = first.dialog;
    call.legs[0] = a;
    await a.endpoint.setRemoteSdp(first.dialog.remoteSdp ?? '');
    this.wireLeg(call, a);
    o.onFirst?.(first.target.party);
    void a.endpoint.play([{ tone: 'ringback' }], { loop: true }).catch(() => undefined);
    const legB = new Leg('callee', o.secondCaller);
    try {
      legB.endpoint = await media.openEndpoint({ callId: call.id, ...this.rtpTimeout() });
    } catch {
      await this.hangup(call, 'media-unavailable');
      return { ok: false, stage: 'second', status: 503, callId: call.id };
    }
    const second = await this.ringEngine.ring({
      call, caller: o.secondCaller, targets: o.second, mode: 'simultaneous', ringTimeMs: o.ringTimeMs, offer: legB.endpoint.localSdp, callerExtension: o.callerExtension,
    });
    if (!second.ok || this.isEnded(call)) {
      if (second.ok) this.release(second.dialog);
      await legB.endpoint.close().catch(() => undefined);
      await this.hangup(call, second.ok ? 'cancelled' : 'callee-no-answer');
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
    this.answered(call, b);
    return { ok: true, callId: call.id, first: first.target.party, second: second.target.party };
  }

  /**
   * Answers the caller with Relais's own media (an IVR, a message, voicemail): our SDP in the 200, the caller's leg
   * wired (BYE, re-INVITE, DTMF). False when the caller left meanwhile.
   */
  async answerCaller(s: CallSetup): Promise<boolean> {
    const { call, callerLeg } = s;
    if (callerLeg.dialog) return true;
    const ep = callerLeg.endpoint;
    if (!ep || s.cancelled()) return false;
    try {
      callerLeg.dialog = await this.opts.sip.createUas(s.req, s.res, { localSdp: ep.localSdp });
      if (!s.offer) await applyLateAnswer(ep, callerLeg.dialog);
    } catch (err) {
      this.log.info('caller could not be answered', { call: call.id, error: errorMessage(err) });
      return false;
    }
    if (this.isEnded(call)) {
      this.release(callerLeg.dialog);
      return false;
    }
    call.answeredAt ??= this.opts.clock.now();
    this.wireLeg(call, callerLeg);
    this.event(call, 'call.answered_by_relais', {});
    if (this.opts.shouldRecord?.(call.info())) this.startRecording(call.id);
    return true;
  }

  /** 183 Session Progress with our SDP: the caller hears what the endpoint plays before any answer (RFC 3960). */
  earlyMedia(s: CallSetup): boolean {
    const ep = s.callerLeg.endpoint;
    if (!ep || s.res.sent || s.cancelled()) return false;
    s.res.send(183, 'Session Progress', { body: ep.localSdp, contentType: 'application/sdp' });
    return true;
  }

  /**
   * Voicedrop (docs/calls.md): in an answered call, the far party hears `file` while the agent's own leg (`agent`,
   * the extension that drops it) is released at once; the call ends when the message has played. False when the
   * call is not in progress, not answered, or has no such agent leg.
   */
  async voicedrop(callId: string, agentNumber: string, file: string): Promise<boolean> {
    const call = this.calls.get(callId);
    if (!call || call.state !== 'answered') return false;
    const agent = call.legs.find((l) => l.party.isExtension && l.party.number === agentNumber);
    const far = agent ? call.other(agent) : undefined;
    const ep = far?.endpoint;
    if (!agent || !far || !ep) return false;
    this.event(call, 'call.voicedrop', { by: agentNumber, to: far.party.number });
    await ep.unbridge().catch(() => undefined);
    // The agent leaves now: its leg is dropped from the call (so its BYE does not end the message) and released.
    call.legs = call.legs.filter((l) => l !== agent);
    this.release(agent.dialog);
    if (agent.party.isExtension) this.blf(agent.party.number, 'idle', call);
    if (agent.endpoint && agent.endpoint !== ep) {
      if (call.recording) await agent.endpoint.stopRecord().catch(() => undefined);
      await agent.endpoint.close().catch(() => undefined);
    }
    void ep
      .play([{ file }])
      .catch((err: unknown) => this.log.info('voicedrop play failed', { call: call.id, error: errorMessage(err) }))
      .finally(() => this.safe(this.hangup(call, 'voicedrop'), 'hangup'));
    return true;
  }

  /** Refuses a caller not answered yet (486 busy, 603 decline, 480…) and ends the call. */
  reject(s: CallSetup, status: number, cause: string, reason?: string): void {
    this.finishUnanswered(s.call, s.res, status, cause, reason);
  }

  /** Re-reads the state after an await (TypeScript keeps the narrowing from before it). */
  private isEnded(call: Call): boolean {
    return call.state === 'ended';
  }

  rtpTimeout(): { rtpTimeoutMs?: number } {
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
    const uid = answeredLeg.party.userId;
    if (uid !== null && uid !== undefined) this.ringEngine.noteAnswered(uid, call.answeredAt);
    for (const leg of call.legs) if (!leg.wired) this.wireLeg(call, leg);
    for (const leg of call.legs) if (leg.party.isExtension) this.blf(leg.party.number, 'confirmed', call);
    this.observer.emit('call.answered', call.info(), { by: answeredLeg.party });
    if (this.opts.shouldRecord?.(call.info())) this.startRecording(call.id);
  }

  wireLeg(call: Call, leg: Leg): void {
    leg.wired = true;
    const d = leg.dialog;
    if (d) {
      d.on('destroy', (reason) => {
        // RFC 4028: the leg's session timer ran out (the phone stopped refreshing) or our refresh was refused.
        const cause = reason === 'session-expired' ? 'session-expired' : `${leg.role === 'caller' ? 'caller' : 'callee'}-hangup`;
        if (call.legs.includes(leg)) this.safe(this.hangup(call, cause, leg), 'hangup');
      });
      d.on('modify', (req, res) => this.safe(this.onModify(call, leg, req, res), 're-INVITE', res));
      d.on('refer', (req, res) => this.safe(this.transfer.onRefer(call, leg, req, res), 'REFER', res));
      d.on('info', (req, res) => this.onInfo(call, leg, req, res));
    }
    const ep = leg.endpoint;
    if (ep) {
      ep.on('rtpTimeout', () => {
        if (call.legs.includes(leg)) this.safe(this.hangup(call, 'rtp-timeout'), 'hangup');
      });
      ep.on('dtmf', (digit, info) => this.observer.emit('call.dtmf', call.info(), { party: leg.party.number, digit, method: info.method }));
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
    this.observer.emit('call.hangup', call.info());
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
  release(d: CallDialog | undefined): void {
    if (!d) return;
    try {
      void Promise.resolve(d.destroy()).catch((err: unknown) => this.log.debug('BYE failed', { dialog: d.callId, error: errorMessage(err) }));
    } catch (err) {
      this.log.debug('BYE failed', { dialog: d.callId, error: errorMessage(err) });
    }
  }

  later(fn: () => void, ms: number): void {
    this.opts.clock.setTimeout(fn, ms);
  }

  emitTransferred(call: Call, t: { from: string; to: string; kind: 'blind' | 'attended' }): void {
    this.observer.emit('call.transferred', call.info(), t);
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

  // ---------------------------------------------------------------- history, BLF

  event(call: Call, type: string, data: Record<string, unknown>): void {
    try {
      this.history.event(call.id, this.opts.clock.now(), type, data);
    } catch (err) {
      this.log.warn('call event not stored', { call: call.id, type, error: errorMessage(err) });
    }
  }

  blf(ext: string, state: 'idle' | 'early' | 'confirmed', call: Call, direction?: 'initiator' | 'recipient', remote?: string): void {
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

/** What connect() gives: the party that answered (bridged to the caller), or why nobody did. */
export type ConnectResult = { ok: true; party: Party } | { ok: false; status: number; reason: RingFailureReasonOf; timedOut: boolean; cancelled: boolean };
type RingFailureReasonOf = Extract<RingResult, { ok: false }>['reason'];
