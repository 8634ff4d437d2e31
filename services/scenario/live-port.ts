// The CallPort of a live call: call control (answer, early media, ring engine, bridge, voicemail) and the caller's media endpoint.
import path from 'node:path';
import type { Clock, Logger, TimerHandle } from '../shared/index.js';
import { errorMessage } from '../shared/index.js';
import type { CallService, CallSetup, RingMode, RingTarget } from '../call/index.js';
import type { Extension } from '../directory/index.js';
import type { PlayItem } from '../media/index.js';
import type { CallPort, PlayOutcome, RingOutcome, Utterance } from './call-port.js';

/** Where the words come from: the sound library, the system prompts, the TTS engine. */
export interface SpeechSources {
  /** File of a library sound by name (undefined when unknown). */
  soundFile(name: string): string | undefined;
  /** File of a system prompt in a language. */
  promptFile(lang: string, key: string): string | undefined;
  /** TTS of text in a language (a cached WAV). */
  say?: ((lang: string, text: string) => Promise<string>) | undefined;
}

export interface LivePortDeps {
  calls: CallService;
  extensions: { findByNumber(number: string): Extension | undefined };
  speech: SpeechSources;
  clock: Clock;
  logger: Logger;
}

export class LiveCallPort implements CallPort {
  readonly caller: string;
  private readonly digits: string[] = [];
  private digitWaiter: (() => void) | undefined;
  private early = false;
  private ringing = false;

  /** The call under call control (the queue engine's distribute puts it through to an agent itself). */
  get setup(): CallSetup {
    return this.s;
  }

  constructor(
    private readonly s: CallSetup,
    private readonly numberBox: { number: string; numberId: number },
    private readonly deps: LivePortDeps,
  ) {
    this.caller = s.call.caller.number;
    s.callerLeg.endpoint?.on('dtmf', (d) => {
      this.digits.push(d);
      this.digitWaiter?.();
    });
  }

  gone(): boolean {
    return this.s.cancelled() || this.s.call.state === 'ended';
  }

  answered(): boolean {
    return this.s.callerLeg.dialog !== undefined;
  }

  answer(): Promise<boolean> {
    return this.deps.calls.answerCaller(this.s);
  }

  async earlyMedia(): Promise<boolean> {
    if (this.early) return true;
    this.early = this.deps.calls.earlyMedia(this.s);
    return this.early;
  }

  private async items(list: Utterance[]): Promise<PlayItem[]> {
    const out: PlayItem[] = [];
    for (const u of list) {
      try {
        let file: string | undefined;
        if (u.sound !== undefined) file = this.deps.speech.soundFile(u.sound);
        else if (u.prompt !== undefined) file = this.deps.speech.promptFile(u.language, u.prompt);
        else if (u.text !== undefined && this.deps.speech.say) file = await this.deps.speech.say(u.language, u.text);
        if (file) out.push({ file });
        else this.deps.logger.warn('nothing to play', { call: this.s.call.id, utterance: u });
      } catch (err) {
        this.deps.logger.warn('sound not playable', { call: this.s.call.id, error: errorMessage(err) });
      }
    }
    return out;
  }

  async play(list: Utterance[], opts: { bargeIn?: boolean } = {}): Promise<PlayOutcome> {
    const ep = this.s.callerLeg.endpoint;
    if (!ep || this.gone()) return 'gone';
    if (opts.bargeIn && this.digits.length > 0) return 'interrupted';
    const items = await this.items(list);
    if (items.length === 0) return 'done';
    try {
      const r = await ep.play(items, opts.bargeIn ? { interruptOnDtmf: true } : {});
      if (this.gone()) return 'gone';
      return r === 'interrupted' ? 'interrupted' : 'done';
    } catch (err) {
      this.deps.logger.info('play failed', { call: this.s.call.id, error: errorMessage(err) });
      return this.gone() ? 'gone' : 'done';
    }
  }

  clearDigits(): void {
    this.digits.length = 0;
  }

  readDigits(opts: { max: number; firstTimeoutMs: number; interDigitMs?: number; endKey?: string }): Promise<string> {
    return new Promise((resolve) => {
      let got = '';
      let timer: TimerHandle | undefined;
      const clock = this.deps.clock;
      const stopper = { abort: (): void => finish() };
      const finish = (): void => {
        clock.clearTimeout(timer);
        this.s.call.attempts.delete(stopper);
        this.digitWaiter = undefined;
        resolve(got);
      };
      const arm = (ms: number): void => {
        clock.clearTimeout(timer);
        timer = clock.setTimeout(finish, ms);
      };
      const drain = (): void => {
        while (this.digits.length > 0) {
          const d = this.digits.shift()!;
          if (opts.endKey !== undefined && d === opts.endKey) return finish();
          got += d;
          if (got.length >= opts.max) return finish();
        }
        if (this.gone()) return finish();
        arm(got === '' ? opts.firstTimeoutMs : (opts.interDigitMs ?? opts.firstTimeoutMs));
      };
      this.digitWaiter = drain;
      this.s.call.attempts.add(stopper);
      drain();
    });
  }

  private outcome(r: Awaited<ReturnType<CallService['connect']>>): RingOutcome {
    if (r.ok) return 'answered';
    if (this.gone() || r.cancelled) return 'gone';
    if (r.reason === 'busy') return 'busy';
    if (r.reason === 'no-answer') return 'no-answer';
    if (r.reason === 'declined') return 'busy';
    return 'unavailable';
  }

  private async connect(targets: RingTarget[], mode: RingMode, ringTimeMs: number): Promise<RingOutcome> {
    if (this.gone()) return 'gone';
    const ep = this.s.callerLeg.endpoint;
    // A caller Relais answered hears our ringback while the targets ring (an unanswered one hears their 180).
    if (this.answered() && ep) void ep.play([{ tone: 'ringback' }], { loop: true }).catch(() => undefined);
    try {
      return this.outcome(await this.deps.calls.connect(this.s, { targets, mode, ringTimeMs }));
    } finally {
      if (!this.gone() && this.s.call.state !== 'answered') ep?.stopPlay();
    }
  }

  ring(targets: RingTarget[], mode: RingMode, ringTimeMs: number): Promise<RingOutcome> {
    return this.connect(targets, mode, ringTimeMs);
  }

  transfer(to: string, ringTimeMs: number): Promise<RingOutcome> {
    const ext = this.deps.extensions.findByNumber(to);
    return this.connect([ext ? { kind: 'extension', number: ext.number } : { kind: 'external', number: to }], 'simultaneous', ringTimeMs);
  }

  async voicemail(mailbox: string | undefined, opts: { greeting?: string | undefined; maxLengthMs?: number | undefined }): Promise<void> {
    if (this.gone()) return;
    const ext = mailbox !== undefined ? this.deps.extensions.findByNumber(mailbox) : undefined;
    const greetingFile = opts.greeting !== undefined ? this.deps.speech.soundFile(opts.greeting) : undefined;
    await this.deps.calls.toVoicemail(this.s, ext ?? this.numberBox, 'scenario', {
      ...(greetingFile ? { greetingFile } : {}),
      ...(opts.maxLengthMs !== undefined ? { maxLengthMs: opts.maxLengthMs } : {}),
    });
  }

  ringingFor(ms: number): Promise<void> {
    if (this.gone()) return Promise.resolve();
    if (!this.ringing && !this.s.res.sent) {
      this.ringing = true;
      this.s.res.send(180, 'Ringing');
    }
    return new Promise((resolve) => {
      // The caller's CANCEL aborts the call's attempts: stop waiting then.
      const stopper = { abort: (): void => done() };
      const done = (): void => {
        this.deps.clock.clearTimeout(timer);
        this.s.call.attempts.delete(stopper);
        resolve();
      };
      const timer = this.deps.clock.setTimeout(done, ms);
      this.s.call.attempts.add(stopper);
    });
  }

  async reject(status: number, reason: string): Promise<void> {
    if (this.gone()) return;
    if (this.answered()) {
      await this.deps.calls.hangup(this.s.call, `rejected-${status}`);
      return;
    }
    this.deps.calls.reject(this.s, status, `rejected-${status}`, reason);
  }

  async hangup(cause: string): Promise<void> {
    if (this.s.call.state === 'ended') return;
    if (!this.answered()) {
      this.deps.calls.reject(this.s, 480, cause, 'Temporarily Unavailable');
      return;
    }
    await this.deps.calls.hangup(this.s.call, cause);
  }
}

/** Sound library and system prompts from the data dir and the prompt library (TTS when given). */
export function speechFrom(opts: {
  dataDir: string;
  sounds: { findByName(name: string): { file: string } | undefined };
  prompts?: { path(lang: string, key: string): string } | undefined;
  say?: ((lang: string, text: string) => Promise<string>) | undefined;
}): SpeechSources {
  return {
    soundFile: (name) => {
      const s = opts.sounds.findByName(name);
      return s ? path.join(opts.dataDir, 'sounds', s.file) : undefined;
    },
    promptFile: (lang, key) => opts.prompts?.path(lang, key),
    say: opts.say,
  };
}
