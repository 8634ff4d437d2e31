// Call control: the calls in progress and their life (answer, record, voicedrop, hangup, BLF, history); the INVITE flow,
// putting calls through and in-dialog requests are in call-flow.ts, connect.ts and in-dialog.ts.
import fs from 'node:fs';
import path from 'node:path';
import type { Clock, Logger, Module, ModuleHealth } from '../shared/index.js';
import { TypedEmitter, errorMessage } from '../shared/index.js';
import type { Database } from '../storage/index.js';
import type { Extension, ExtensionRepository } from '../directory/index.js';
import type { MediaEndpoint, MediaEngine, SrtpPolicy } from '../media/index.js';
import { finishInterruptedWav } from '../media/sounds/index.js';
import { calleeSrtpPolicy } from './secure-media.js';
import { Call, Leg, type CallEvents, type CallInfo } from './call.js';
import { CallHistory } from './call-history.js';
import { FeatureCodes, type FeatureHandler } from './feature-codes.js';
import { RingEngine, type RingTarget } from './ring-engine.js';
import { CallTransfer, type CallControl } from './transfer.js';
import { InviteFlow, type CallCounters } from './call-flow.js';
import { CallConnector } from './connect.js';
import { InDialogRequests } from './in-dialog.js';
import type { CallDialog, CallIncomingRequest, CallInboundNumber, CallPresence, CallRegistrar, CallServerResponse, CallSipHost, CallTrunks } from './sip-host.js';

export type { CallEvents } from './call.js';
export type { ConnectResult } from './connect.js';

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
  private counters: CallCounters = { invites: 0, answered: 0, failed: 0, challenged: 0, overload: 0 };
  private readonly flow: InviteFlow;
  private readonly connector: CallConnector;
  private readonly inDialog: InDialogRequests;

  constructor(private opts: CallServiceOptions) {
    this.log = opts.logger.child({ module: 'calls' });
    this.history = new CallHistory(opts.db, {
      batchMs: opts.historyBatchMs ?? 0,
      clock: opts.clock,
      onError: (err) => this.log.warn('call history row not written', { error: errorMessage(err) }),
    });
    this.history.follow(this.observer, opts.clock);
    this.ringTimeoutMs = opts.ringTimeoutMs ?? 20_000;
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
    this.flow = new InviteFlow(this, {
      opts,
      counters: this.counters,
      calls: this.calls,
      transfer: this.transfer,
      maxPendingSetups: opts.maxPendingSetups ?? 300,
      inbound: () => this.inbound,
      internalNumbers: () => this.internalNumbers,
    });
    this.connector = new CallConnector(this, { opts, calls: this.calls });
    this.inDialog = new InDialogRequests(this, { opts });
  }

  /** Calls the last run left open, ended by this start (voicemail files the messages they were recording). */
  interruptedAtStart: readonly string[] = [];

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    // Calls the last run did not end (kill -9, power cut): ended now in the history; their phones got a BYE from the
    // SIP stack's dialog journal (docs/security.md, "After a crash").
    const interrupted = this.history.closeInterrupted(this.opts.clock.now(), 'restart');
    this.interruptedAtStart = interrupted;
    if (interrupted.length > 0) this.log.warn('calls interrupted by the last stop ended in the history', { calls: interrupted.length, cause: 'restart' });
    this.finishInterruptedRecordings(interrupted);
    this.opts.sip.use('INVITE', (req, res, next) => this.flow.onInvite(req, res, next));
  }

  /**
   * Recordings of the calls the last run left open: their samples are on disk, but the WAV header still gives the
   * length of 0 it was opened with (it is set when a recording stops), so players would show an empty file. Set to
   * what is on disk (docs/calls.md, "What a call does": Recording).
   */
  private finishInterruptedRecordings(ids: readonly string[]): void {
    if (ids.length === 0) return;
    const recordingOf = this.opts.db.prepare('SELECT recording FROM calls WHERE id = ? AND recording IS NOT NULL');
    let finished = 0;
    for (const id of ids) {
      const row = recordingOf.get(id) as { recording: string } | undefined;
      if (!row) continue;
      const file = path.join(this.opts.dataDir, row.recording);
      try {
        if (fs.existsSync(file) && finishInterruptedWav(file)) finished++;
      } catch (err) {
        this.log.warn('the recording of an interrupted call was not finished', { call: id, file: row.recording, error: errorMessage(err) });
      }
    }
    if (finished > 0) this.log.info('recordings of interrupted calls finished', { recordings: finished });
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

  /** Rings targets for a caller and bridges the winner (connect.ts). */
  connect(...args: Parameters<CallConnector['connect']>): ReturnType<CallConnector['connect']> {
    return this.connector.connect(...args);
  }

  /** A call placed by Relais itself: `first`, then `second`, bridged (connect.ts). */
  originate(...args: Parameters<CallConnector['originate']>): ReturnType<CallConnector['originate']> {
    return this.connector.originate(...args);
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
    if (callerLeg.dialog.destroyed) {
      // Its BYE was handled in the same turn as the ACK that completed the answer (a caller hanging up at once, both
      // datagrams read together on a busy box), before anything listened for it: without this a scenario or a queue
      // went on with a caller who had gone, until the RTP timeout.
      this.safe(this.hangup(call, 'caller-hangup', callerLeg), 'hangup');
      return false;
    }
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

  /** The SRTP policy of a leg that will ring `targets` (secure-media.ts). */
  srtpFor(targets: readonly RingTarget[]): SrtpPolicy {
    return calleeSrtpPolicy(targets, this.opts.extensions, this.opts.registrar);
  }

  /** The caller CANCELled: 487 if not answered yet, and the call ends (call flow, connect). */
  cleanupCancelled(call: Call, res: CallServerResponse): void {
    if (!res.sent) res.send(487, 'Request Terminated');
    this.safe(this.hangup(call, 'cancelled'), 'hangup');
  }

  /** Refuses a caller not answered yet with a final status and ends the call (call flow). */
  finishUnanswered(call: Call, res: CallServerResponse, status: number, cause: string, reason?: string): void {
    this.counters.failed++;
    if (!res.sent) res.send(status, reason);
    this.safe(this.hangup(call, cause), 'hangup');
  }

  /** Marks the call answered, wires both legs' events, starts recording if asked (connect). */
  answered(call: Call, answeredLeg: Leg): void {
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
      const ended = (reason?: unknown): void => {
        // RFC 4028: the leg's session timer ran out (the phone stopped refreshing) or our refresh was refused.
        const cause = reason === 'session-expired' ? 'session-expired' : `${leg.role === 'caller' ? 'caller' : 'callee'}-hangup`;
        if (call.legs.includes(leg)) this.safe(this.hangup(call, cause, leg), 'hangup');
      };
      d.on('destroy', ended);
      // A dialog that ended before it was wired (its BYE read in the same turn as the ACK, or while the set-up or a
      // transfer awaited media) has told its listeners already: the call ends now instead of at the RTP timeout
      // (docs/calls.md, "What a call does"). After this turn, so that the caller's synchronous wiring is done first.
      if (d.destroyed) queueMicrotask(() => ended());
      d.on('modify', (req, res) => this.safe(this.inDialog.onModify(call, leg, req, res), 're-INVITE', res));
      d.on('refer', (req, res) => this.safe(this.transfer.onRefer(call, leg, req, res), 'REFER', res));
      d.on('info', (req, res) => this.inDialog.onInfo(call, leg, req, res));
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
    const recorder = call.recording ? call.legs[0]?.endpoint : undefined;
    if (recorder && endpoints.has(recorder)) {
      try {
        await recorder.stopRecord();
      } catch (err) {
        this.log.debug('recording stop failed', { call: call.id, error: errorMessage(err) });
      }
    }
    // All legs' endpoints closed together (the built-in engine sends their closes to its worker as one message).
    await Promise.all(
      [...endpoints].map((ep) =>
        ep.close().catch((err: unknown) => this.log.debug('endpoint close failed', { call: call.id, error: errorMessage(err) })),
      ),
    );
    // Observers hear of the end once the recording file is complete.
    this.observer.emit('call.ended', call.info());
  }

  /** Runs an async handler from an event: a failure is logged (and answered 500 if a request waits), never thrown. */
  safe(p: Promise<unknown>, what: string, res?: CallServerResponse): void {
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

