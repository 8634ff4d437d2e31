// Queues on live calls: the `distribute` gateway (a caller waits with ringing tone or music, hears their position,
// is put through to a participant or gets the timeout handling), queue short numbers dialled from a phone,
// *41/*42/*43<short> agent codes with their BLF lamps, the ringer the engine uses, Neglected on served calls.
import path from 'node:path';
import type { CallService, CallSetup, FeatureCall, RingTarget } from '../call/index.js';
import type { Extension } from '../directory/index.js';
import type { PlayItem, ToneCountry } from '../media/index.js';
import type { PromptLibrary, PromptName } from '../media/sounds/index.js';
import { defaultMohFile } from '../media/sounds/index.js';
import { errorMessage, type Clock, type Logger, type TimerHandle } from '../shared/index.js';
import type { QueueConfig, QueueOutcome } from './model.js';
import type { AgentRinger, RingHandle, RingRequest, RingResult } from './queue-engine.js';
import type { QueueService } from './queue-service.js';

/** What the gateway tells the scenario interpreter: the queue was closed (go on) or the call ended in the queue. */
export type DistributeResult = 'closed' | 'ended';

export interface DistributeOptions {
  /** The caller's language for announcements (the scenario's); default the site's. */
  language?: string | undefined;
  priority?: number | undefined;
}

export interface QueueCallsDeps {
  service: QueueService;
  calls: CallService;
  extensions: { findByNumber(n: string): Extension | undefined; listByUser(userId: number): Extension[] };
  /** A sound of the library by id → its file (absolute), or undefined. */
  soundFile(id: number): string | undefined;
  soundIdByName(name: string): number | undefined;
  prompts: PromptLibrary;
  /** Site settings read live: `language`, `country` (tones). */
  setting(key: string): string | undefined;
  presence?: { addStateProvider(match: RegExp, provider: (entity: string, subscriber?: string) => 'idle' | 'confirmed' | undefined): void; refreshEntity(entity: string): void } | undefined;
  clock: Clock;
  logger: Logger;
}

/** How often a waiting caller hears their position again. */
const ANNOUNCE_EVERY_MS = 60_000;
/** A timeout action "another queue" may chain this many times (a loop of queues ends the call). */
const MAX_QUEUE_HOPS = 5;

export class QueueCalls implements AgentRinger {
  /** Calls waiting in a queue, by call id (known before the engine's first dispatch rings anyone). */
  private readonly setups = new Map<string, CallSetup>();
  private readonly releases: (() => void)[] = [];

  constructor(private readonly d: QueueCallsDeps) {}

  /** Plugs the queues into call control: ringer, short numbers, agent codes and lamps, Neglected. */
  attach(): void {
    const { service, calls } = this.d;
    service.useRinger(this);
    calls.useInternalNumbers((dialled) => (service.engine.queueByShortNumber(dialled) ? (f) => this.fromPhone(f) : undefined));
    this.releases.push(
      calls.featureCodes.register('*41<digits>', (f) => this.agentCode(f, 'login'), 'queue agent log in: *41<queue short number>'),
      calls.featureCodes.register('*42<digits>', (f) => this.agentCode(f, 'logout'), 'queue agent log out: *42<queue short number>'),
      calls.featureCodes.register('*43<digits>', (f) => this.agentCode(f, 'pause'), 'queue agent pause / resume: *43<queue short number>'),
    );
    // A served inbound call cancels that number's Scheduled LostCall callbacks (Neglected).
    calls.observer.on('call.answered', (info, { by }) => {
      if (info.direction === 'inbound' && by.isExtension) service.callerServed(info.caller.number);
    });
    // Lamps: *41<short> lit while the watching phone's user is logged in, *43<short> while paused.
    this.d.presence?.addStateProvider(/^\*4[123][0-9]+$/, (entity, subscriber) => this.lamp(entity, subscriber));
    service.observer.on('event', (e) => {
      if (e.type !== 'agent.login' && e.type !== 'agent.pause') return;
      const q = service.engine.queue(e.queueId);
      if (!q) return;
      for (const code of ['*41', '*42', '*43']) this.d.presence?.refreshEntity(`${code}${q.shortNumber}`);
    });
  }

  detach(): void {
    for (const r of this.releases.splice(0)) r();
    this.d.calls.useInternalNumbers(undefined);
  }

  private lamp(entity: string, subscriber: string | undefined): 'idle' | 'confirmed' | undefined {
    const q = this.d.service.engine.queueByShortNumber(entity.slice(3));
    const ext = subscriber ? this.d.extensions.findByNumber(subscriber) : undefined;
    if (!q || !ext || ext.userId === null) return 'idle';
    const p = q.participants.find((x) => x.userId === ext.userId);
    if (!p) return 'idle';
    const code = entity.slice(0, 3);
    const on = code === '*43' ? p.paused : code === '*41' ? p.loggedIn : !p.loggedIn;
    return on ? 'confirmed' : 'idle';
  }

  // ---- agent codes -----------------------------------------------------------------------------------------------

  private async agentCode(f: FeatureCall, action: 'login' | 'logout' | 'pause'): Promise<void> {
    const q = this.d.service.engine.queueByShortNumber(f.digits);
    const userId = f.caller.userId;
    if (!q || userId === null || !q.participants.some((p) => p.userId === userId)) {
      f.res.send(404, 'Not a participant of that queue');
      return;
    }
    let prompt: PromptName;
    if (action === 'pause') {
      const paused = q.participants.find((p) => p.userId === userId)!.paused;
      this.d.service.setPaused(userId, !paused, paused ? null : 'phone', q.id);
      prompt = paused ? 'agent-available' : 'agent-paused';
    } else {
      this.d.service.setLoggedIn(q.id, userId, action === 'login');
      prompt = action === 'login' ? 'logged-in' : 'logged-out';
    }
    // Say so, then hang up (a speed-dial key gets its answer at once; the lamp follows by NOTIFY).
    const setup = setupOf(f);
    if (!(await this.d.calls.answerCaller(setup))) return;
    await this.play(setup, this.promptFiles(this.language(f.caller), [prompt]));
  }

  // ---- callers ---------------------------------------------------------------------------------------------------

  /** A phone dialled the queue's short number. */
  private async fromPhone(f: FeatureCall): Promise<void> {
    const q = this.d.service.engine.queueByShortNumber(f.digits);
    if (!q) return;
    const r = await this.distribute(setupOf(f), q.id, { language: this.language(f.caller) });
    if (r === 'closed' && !f.res.sent) f.res.send(480, 'Queue closed');
  }

  /**
   * The scenario's `distribute` action: 'closed' when the queue is closed (the scenario goes on), else the call
   * ends in the queue (answered, or the queue's timeout handling / exceptional closure took it).
   */
  async distribute(s: CallSetup, queueId: number, opts: DistributeOptions = {}, hops = 0): Promise<DistributeResult> {
    const { service } = this.d;
    const q = service.engine.queue(queueId);
    if (!q) return 'closed';
    const lang = opts.language ?? this.d.setting('language') ?? 'en';
    const caller = s.call.caller.number;
    this.setups.set(s.call.id, s);
    const enq = service.distribute({ queueId, caller, callId: s.call.id, language: lang, priority: opts.priority });
    if (enq.entryId === null) {
      this.setups.delete(s.call.id);
      const o = await enq.outcome;
      if (o.type === 'closed') return 'closed';
      await this.afterQueue(s, q, o, lang, hops);
      return 'ended';
    }
    const entryId = enq.entryId;
    const onGone = (info: { id: string }): void => {
      if (info.id === s.call.id) service.engine.leave(entryId);
    };
    this.d.calls.observer.on('call.hangup', onGone);
    let announceTimer: TimerHandle | undefined;
    try {
      await this.waitingMedia(s, q, entryId, lang, (t) => (announceTimer = t));
      const o = await enq.outcome;
      this.d.clock.clearTimeout(announceTimer);
      if (o.type === 'answered') {
        await this.untilEnded(s);
        service.engine.entryEnded(entryId);
        return 'ended';
      }
      await this.afterQueue(s, q, o, lang, hops);
      return 'ended';
    } finally {
      this.d.clock.clearTimeout(announceTimer);
      this.d.calls.observer.off('call.hangup', onGone);
      this.setups.delete(s.call.id);
      service.engine.leave(entryId);
    }
  }

  /** Ringing tone (not answered: the phone plays it) or, answered, the queue's music / ringback with announcements. */
  private async waitingMedia(s: CallSetup, q: QueueConfig, entryId: string, lang: string, setTimer: (t: TimerHandle) => void): Promise<void> {
    const answered = s.callerLeg.dialog !== undefined;
    // The queue's sound, else with `music_on_hold: default` the box's own music (docs/queues.md "Music on hold").
    const music = q.mohSoundId !== null ? this.d.soundFile(q.mohSoundId) : q.mohDefault ? defaultMohFile() : undefined;
    if (!answered && !music && !q.announcePosition) {
      if (!s.res.sent && !s.cancelled()) s.res.send(180, 'Ringing');
      return;
    }
    if (!(await this.d.calls.answerCaller(s))) return;
    // A queue without music plays the ringing tone (docs/product.md §3: ringing tone by default).
    const background = (): PlayItem[] => (music ? [{ file: music }] : [{ tone: 'ringback', country: this.country() }]);
    const announce = (): void => {
      if (!this.setups.has(s.call.id) || this.d.service.engine.position(entryId) === 0) return;
      const items = q.announcePosition ? this.positionItems(entryId, lang) : [];
      const ep = s.callerLeg.endpoint;
      if (!ep) return;
      ep.stopPlay();
      void ep.play([...items, ...background()], { loop: false }).then((r) => {
        if (r === 'done' && this.setups.has(s.call.id) && this.d.service.engine.position(entryId) > 0) void ep.play(background(), { loop: true }).catch(() => undefined);
      }, () => undefined);
      if (q.announcePosition) setTimer(this.d.clock.setTimeout(announce, ANNOUNCE_EVERY_MS));
    };
    announce();
  }

  private positionItems(entryId: string, lang: string): PlayItem[] {
    try {
      const pos = this.d.service.engine.position(entryId);
      const minutes = Math.max(1, Math.round(this.d.service.engine.estimatedWaitMs(entryId) / 60_000));
      return [
        ...this.promptFiles(lang, ['queue-position']).map((file) => ({ file })),
        ...this.d.prompts.sayNumber(lang, pos).map((file) => ({ file })),
        ...this.promptFiles(lang, ['queue-wait']).map((file) => ({ file })),
        ...this.d.prompts.sayNumber(lang, minutes).map((file) => ({ file })),
        { silenceMs: 500 },
      ];
    } catch (err) {
      this.d.logger.warn('position announcement unavailable', { error: errorMessage(err) });
      return [];
    }
  }

  /** Timeout handling (sound, then hang up / transfer / another queue) or exceptional closure's action. */
  private async afterQueue(s: CallSetup, q: QueueConfig, o: QueueOutcome, lang: string, hops: number): Promise<void> {
    if (s.cancelled()) return;
    if (o.type === 'exceptional_closure') {
      const a = o.action;
      if (!a) return this.end(s, 480, 'queue-closed');
      if (a.type === 'forward') return this.forward(s, a.to);
      if (a.type === 'message') {
        const sound = this.d.soundIdByName(a.sound);
        const file = sound === undefined ? undefined : this.d.soundFile(sound);
        if (file && (await this.d.calls.answerCaller(s))) await this.play(s, [file]);
        return this.end(s, 480, 'queue-closed');
      }
      const ext = a.mailbox ? this.d.extensions.findByNumber(a.mailbox) : undefined;
      if (ext) return this.d.calls.toVoicemail(s, ext, 'unavailable');
      return this.end(s, 480, 'queue-closed');
    }
    if (o.type !== 'timeout') return;
    s.callerLeg.endpoint?.stopPlay();
    const sound = o.soundId === null ? undefined : this.d.soundFile(o.soundId);
    if (sound && (await this.d.calls.answerCaller(s))) await this.play(s, [sound]);
    if (s.cancelled()) return;
    const a = o.action;
    if (a.type === 'transfer') return this.forward(s, a.to);
    if (a.type === 'queue') {
      const next = this.d.service.engine.queueByName(a.queue);
      if (next && hops < MAX_QUEUE_HOPS) {
        const r = await this.distribute(s, next.id, { language: lang }, hops + 1);
        if (r === 'ended') return;
      }
    }
    return this.end(s, 480, `queue-timeout:${o.reason}`);
  }

  private async forward(s: CallSetup, to: string): Promise<void> {
    const target: RingTarget = this.d.extensions.findByNumber(to) ? { kind: 'extension', number: to } : { kind: 'external', number: to };
    const r = await this.d.calls.connect(s, { targets: [target], mode: 'simultaneous' });
    if (!r.ok && !s.cancelled()) this.end(s, r.status, 'queue-forward-failed');
  }

  private end(s: CallSetup, status: number, cause: string): void {
    if (s.callerLeg.dialog) void this.d.calls.hangup(s.call, cause);
    else this.d.calls.reject(s, status, cause);
  }

  private untilEnded(s: CallSetup): Promise<void> {
    if (s.call.state === 'ended') return Promise.resolve();
    return new Promise((resolve) => {
      const on = (info: { id: string }): void => {
        if (info.id !== s.call.id) return;
        this.d.calls.observer.off('call.hangup', on);
        resolve();
      };
      this.d.calls.observer.on('call.hangup', on);
    });
  }

  // ---- ringer ----------------------------------------------------------------------------------------------------

  /** Rings the participants for a waiting caller; the ring engine bridges exactly one winner and CANCELs/BYEs the rest. */
  ring(req: RingRequest): RingHandle {
    if (req.entry.kind === 'callback') return this.ringCallback(req);
    const s = req.entry.callId === null ? undefined : this.setups.get(req.entry.callId);
    if (!s) return { result: Promise.resolve({ unanswered: req.userIds }), cancel: () => undefined };
    const ctl = new AbortController();
    const result: Promise<RingResult> = this.d.calls
      .connect(s, { targets: req.userIds.map((userId) => ({ kind: 'user', userId })), mode: 'simultaneous', ringTimeMs: req.ringTimeMs, signal: ctl.signal })
      .then((r): RingResult => {
        if (!r.ok) return { unanswered: req.userIds };
        const uid = r.party.userId;
        return typeof uid === 'number' && req.userIds.includes(uid) ? { answered: uid } : { answered: req.userIds[0]! };
      })
      .catch((err: unknown): RingResult => {
        this.d.logger.warn('queue ring failed', { entry: req.entry.id, error: errorMessage(err) });
        return { unanswered: req.userIds };
      });
    return { result, cancel: () => ctl.abort() };
  }

  /**
   * A callback's turn: a call placed by Relais to the participant(s) then the caller (or the caller first, by the
   * queue's callback_order). The ring settles when the participant answered; the attempt's result (done, retry,
   * failed) is recorded when the caller answered or not.
   */
  private ringCallback(req: RingRequest): RingHandle {
    const { service, calls } = this.d;
    const cbId = req.entry.callbackId;
    const cb = cbId === null ? undefined : service.callbacks.get(cbId);
    if (!cb || cbId === null) return { result: Promise.resolve({ unanswered: req.userIds }), cancel: () => undefined };
    const ctl = new AbortController();
    const agents: RingTarget[] = req.userIds.map((userId) => ({ kind: 'user', userId }));
    const customer: RingTarget = this.d.extensions.findByNumber(cb.number) ? { kind: 'extension', number: cb.number } : { kind: 'external', number: cb.number };
    const agentFirst = req.queue.callbackOrder === 'agent_first';
    const agentExt = this.d.extensions.listByUser(req.userIds[0]!)[0];
    const queueParty = { number: req.queue.shortNumber, displayName: `${req.queue.name}: ${cb.number}`, isExtension: false };
    const customerParty = { number: agentExt?.number ?? req.queue.shortNumber, displayName: req.queue.name, isExtension: false };
    let settle!: (r: RingResult) => void;
    const result = new Promise<RingResult>((r) => (settle = r));
    let agent: number | undefined;
    const agentAnswered = (userId: number | null | undefined): void => {
      agent = typeof userId === 'number' && req.userIds.includes(userId) ? userId : req.userIds[0]!;
      settle({ answered: agent });
    };
    void calls
      .originate({
        first: agentFirst ? agents : [customer],
        second: agentFirst ? [customer] : agents,
        firstCaller: agentFirst ? queueParty : customerParty,
        secondCaller: agentFirst ? customerParty : queueParty,
        ringTimeMs: req.ringTimeMs,
        callerExtension: agentExt?.number,
        signal: ctl.signal,
        onFirst: (p) => {
          if (agentFirst) agentAnswered(p.userId);
        },
      })
      .then(async (r) => {
        if (agentFirst && r.ok === false && r.stage === 'first') return settle({ unanswered: req.userIds });
        if (!agentFirst) {
          if (r.ok) agentAnswered(r.second.userId);
          else if (r.stage === 'second') {
            settle({ unanswered: req.userIds });
            return;
          } else {
            // The caller did not answer: the participant was never rung; the attempt counts.
            settle({ answered: req.userIds[0]! });
            agent = req.userIds[0]!;
          }
        }
        // Let the engine take the answer first (it marks the callback dialling).
        await new Promise((resolve) => setImmediate(resolve));
        service.callbackAttempt(cbId, r.ok ? 'answered' : 'no_answer');
        if (r.ok) await this.untilCallEnded(r.callId);
        service.engine.entryEnded(req.entry.id);
      })
      .catch((err: unknown) => {
        this.d.logger.warn('callback call failed', { callback: cbId, error: errorMessage(err) });
        settle({ unanswered: req.userIds });
      });
    return { result, cancel: () => ctl.abort() };
  }

  private untilCallEnded(callId: string): Promise<void> {
    if (!this.d.calls.active().some((c) => c.id === callId)) return Promise.resolve();
    return new Promise((resolve) => {
      const on = (info: { id: string }): void => {
        if (info.id !== callId) return;
        this.d.calls.observer.off('call.hangup', on);
        resolve();
      };
      this.d.calls.observer.on('call.hangup', on);
    });
  }

  // ---- helpers ---------------------------------------------------------------------------------------------------

  private async play(s: CallSetup, files: string[]): Promise<void> {
    const ep = s.callerLeg.endpoint;
    if (!ep || files.length === 0) return;
    ep.stopPlay();
    try {
      await ep.play(files.map((file) => ({ file })));
    } catch (err) {
      this.d.logger.info('queue prompt not played', { call: s.call.id, error: errorMessage(err) });
    }
  }

  private promptFiles(lang: string, keys: PromptName[]): string[] {
    try {
      return keys.map((k) => this.d.prompts.path(lang, k));
    } catch (err) {
      this.d.logger.warn('queue prompt missing', { error: errorMessage(err) });
      return [];
    }
  }

  private language(ext: Extension): string {
    void ext;
    return this.d.setting('language') ?? 'en';
  }

  private country(): ToneCountry {
    const c = (this.d.setting('country') ?? 'FR').toUpperCase();
    return (['FR', 'US', 'UK', 'ES'].includes(c) ? c : 'FR') as ToneCountry;
  }
}

/** A feature call as call control's setup (the caller's leg, its offer, whether it is gone). */
function setupOf(f: FeatureCall): CallSetup {
  return { call: f.call, req: f.req, res: f.res, callerLeg: f.call.legs[0]!, offer: f.req.msg.bodyText, cancelled: () => f.call.state === 'ended' };
}

export function soundPath(dataDir: string, file: string): string {
  return path.join(dataDir, 'sounds', file);
}
