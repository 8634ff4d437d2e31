// Voicemail: takes unanswered calls (prompt, beep, record until silence or max length), MWI, and *97 to listen with a PIN.
import fs from 'node:fs';
import path from 'node:path';
import type { Clock, Logger, TimerHandle } from '../shared/index.js';
import { errorMessage } from '../shared/index.js';
import type { Extension, ExtensionRepository } from '../directory/index.js';
import type { MediaEndpoint, PlayItem } from '../media/index.js';
import { VoicemailRepository } from './call-history.js';
import { finishInterruptedWav } from '../media/sounds/index.js';
import type { CallHistory } from './call-history.js';
import { applyLateAnswer, type UnansweredCall, type VoicemailHandler } from './call-service.js';
import type { FeatureCall, FeatureCodes } from './feature-codes.js';
import type { CallDialog, CallPresence, CallSipHost } from './sip-host.js';

/** The prompts voicemail speaks (PromptLibrary from media/sounds fits). */
export interface VoicemailPrompts {
  path(lang: string, key: string): string;
  sayNumber(lang: string, n: number): string[];
}

export interface VoicemailOptions {
  sip: CallSipHost;
  db: import('../storage/index.js').Database;
  extensions: ExtensionRepository;
  history: CallHistory;
  clock: Clock;
  logger: Logger;
  dataDir: string;
  prompts?: VoicemailPrompts | undefined;
  presence?: CallPresence | undefined;
  language?: string;
  /** Longest message (default 120 s). */
  maxLengthMs?: number;
  /** Recording stops after this much silence (default 5 s). */
  silenceMs?: number;
  /** RMS (0..1) under which 20 ms of audio counts as silence (default 0.01). */
  silenceThreshold?: number;
  /** A message with less sound than this is dropped (default 300 ms). */
  minSoundMs?: number;
  /** Feature code to listen to one's messages (default *97). */
  listenCode?: string;
}

/** Why a recording stopped. */
export type RecordingEnd = 'hangup' | 'silence' | 'max-length';

export interface VoicemailEvents {
  deposited: { extension: string; id: number; file: string; durationMs: number; caller: string };
}

/** RMS of 16-bit mono PCM samples in buf (0..1). */
export function pcmRms(buf: Buffer): number {
  const n = Math.floor(buf.length / 2);
  if (n === 0) return 0;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const v = buf.readInt16LE(i * 2) / 32768;
    sum += v * v;
  }
  return Math.sqrt(sum / n);
}

/** Milliseconds of 20 ms frames above threshold in 16-bit mono PCM. */
export function soundMs(buf: Buffer, threshold: number): number {
  const frame = 320;
  let ms = 0;
  for (let off = 0; off + frame <= buf.length; off += frame) if (pcmRms(buf.subarray(off, off + frame)) > threshold) ms += 20;
  return ms;
}

export class Voicemail implements VoicemailHandler {
  readonly repo: VoicemailRepository;
  private readonly log: Logger;
  private readonly lang: string;
  private readonly maxLengthMs: number;
  private readonly silenceMs: number;
  private readonly threshold: number;
  private readonly minSoundMs: number;
  readonly listenCode: string;
  /** Called after each stored message (tests, console). */
  onDeposited: ((e: VoicemailEvents['deposited']) => void) | undefined;

  constructor(private readonly opts: VoicemailOptions) {
    this.repo = new VoicemailRepository(opts.db);
    this.log = opts.logger.child({ module: 'voicemail' });
    this.lang = opts.language ?? 'en';
    this.maxLengthMs = opts.maxLengthMs ?? 120_000;
    this.silenceMs = opts.silenceMs ?? 5000;
    this.threshold = opts.silenceThreshold ?? 0.01;
    this.minSoundMs = opts.minSoundMs ?? 300;
    this.listenCode = opts.listenCode ?? '*97';
  }

  /** MWI state of an extension, pushed to its subscribers. */
  publishMailbox(ext: Extension): void {
    try {
      this.opts.presence?.setMailbox(ext.number, this.repo.counts(ext.id));
    } catch (err) {
      this.log.debug('MWI update failed', { ext: ext.number, error: errorMessage(err) });
    }
  }

  private prompt(key: string): PlayItem[] {
    try {
      return this.opts.prompts ? [{ file: this.opts.prompts.path(this.lang, key) }] : [];
    } catch (err) {
      this.log.warn('prompt missing', { key, error: errorMessage(err) });
      return [];
    }
  }

  private number(n: number): PlayItem[] {
    try {
      return this.opts.prompts ? this.opts.prompts.sayNumber(this.lang, n).map((file) => ({ file })) : [];
    } catch {
      return [];
    }
  }

  /** Answers the caller; resolves with the dialog and a flag set when the caller hangs up (undefined if it could not). */
  private async answer(
    u: { call: { legs: { dialog: CallDialog | undefined }[] }; req: UnansweredCall['req']; res: UnansweredCall['res'] },
    ep: MediaEndpoint,
  ): Promise<{ dialog: CallDialog; gone: { value: boolean }; hungUp: Promise<void> } | undefined> {
    let dialog: CallDialog;
    const existing = u.call.legs[0]?.dialog;
    try {
      // A caller a scenario already answered keeps its dialog; anyone else is answered here.
      dialog = existing ?? (await this.opts.sip.createUas(u.req, u.res, { localSdp: ep.localSdp }));
    } catch (err) {
      // The caller hung up as we answered (CANCEL crossing our 200, no ACK): nothing to do.
      this.log.info('voicemail could not answer', { call: u.req.msg.callId, error: errorMessage(err) });
      return undefined;
    }
    const leg = u.call.legs[0];
    if (leg) leg.dialog = dialog;
    if (!existing && u.req.msg.body.length === 0) await applyLateAnswer(ep, dialog);
    const gone = { value: false };
    const hungUp = new Promise<void>((resolve) => {
      const left = (): void => {
        gone.value = true;
        ep.stopPlay();
        resolve();
      };
      dialog.on('destroy', left);
      // Its BYE came with its ACK (both handled in one turn on a busy box) and the destroy event has gone by: without
      // this the greeting played on to nobody and the call stayed open seconds after the caller left.
      if (dialog.destroyed) left();
    });
    // A caller whose phone died (no RTP) is released instead of being recorded until the max length.
    ep.on('rtpTimeout', () => void Promise.resolve(dialog.destroy()).catch(() => undefined));
    return { dialog, gone, hungUp };
  }

  async deposit(u: UnansweredCall): Promise<void> {
    const ep = u.callerEndpoint;
    const answered = await this.answer(u, ep);
    if (!answered) return;
    const { gone, hungUp } = answered;
    u.call.answeredAt = this.opts.clock.now();
    const box = u.target.number;
    const ext = 'id' in u.target ? u.target : undefined;
    this.opts.history.event(u.call.id, this.opts.clock.now(), 'voicemail.answered', { extension: box, reason: u.reason });
    if (gone.value) return;
    await ep.play([...(u.greetingFile ? [{ file: u.greetingFile }] : this.prompt('leave-message-after-tone')), { tone: 'beep' }]);
    if (gone.value) return;

    const rel = path.join('voicemail', box, `${u.call.id}.wav`);
    const abs = path.join(this.opts.dataDir, rel);
    fs.mkdirSync(path.dirname(abs), { recursive: true });
    ep.record(abs, { direction: 'in' });
    const started = this.opts.clock.now();
    const end = await this.waitRecordingEnd(abs, hungUp, u.maxLengthMs ?? this.maxLengthMs);
    await ep.stopRecord();
    const pcm = this.readPcm(abs);
    const durationMs = Math.round(pcm.length / 16);
    const heard = soundMs(pcm, this.threshold);
    this.log.info('voicemail recorded', { call: u.call.id, extension: box, end, durationMs, soundMs: heard, wallMs: this.opts.clock.now() - started });
    if (heard < this.minSoundMs) {
      fs.rmSync(abs, { force: true });
      this.opts.history.event(u.call.id, this.opts.clock.now(), 'voicemail.empty', { extension: box });
      return;
    }
    this.opts.history.flush(); // the voicemails row refers to the calls row
    const v = ext
      ? this.repo.add({ extensionId: ext.id, callId: u.call.id, caller: u.call.caller.number, file: rel, durationMs, createdAt: this.opts.clock.now() })
      : this.repo.addToNumber({ numberId: (u.target as { numberId: number }).numberId, callId: u.call.id, caller: u.call.caller.number, file: rel, durationMs, createdAt: this.opts.clock.now() });
    this.opts.history.event(u.call.id, this.opts.clock.now(), 'voicemail.stored', { extension: box, id: v.id, durationMs, end });
    if (ext) this.publishMailbox(ext);
    this.onDeposited?.({ extension: box, id: v.id, file: rel, durationMs, caller: u.call.caller.number });
    if (!gone.value) await ep.play([...this.prompt('message-recorded'), ...this.prompt('goodbye')]);
  }

  /**
   * Messages that a stop (kill -9, power cut) cut short: the recorder writes the WAV as the caller speaks, but its
   * header gets its length, and the message its voicemails row, only at the end. For each call the last run left open
   * (`interruptedCalls`, ended by this start) whose recording is still in voicemail/<box>/<call>.wav without a row,
   * the header is set to the samples on disk and the message is filed as the deposit would have (or dropped, like
   * any message with too little sound). Returns how many were filed.
   */
  recoverInterrupted(interruptedCalls: readonly string[]): number {
    if (interruptedCalls.length === 0) return 0;
    const root = path.join(this.opts.dataDir, 'voicemail');
    let boxes: string[];
    try {
      boxes = fs.readdirSync(root);
    } catch {
      return 0; // no message was ever recorded
    }
    const filed = new Set((this.opts.db.prepare('SELECT file FROM voicemails').all() as { file: string }[]).map((r) => r.file));
    let recovered = 0;
    for (const callId of interruptedCalls) {
      for (const box of boxes) {
        const rel = path.join('voicemail', box, `${callId}.wav`);
        const abs = path.join(this.opts.dataDir, rel);
        if (filed.has(rel) || !fs.existsSync(abs)) continue;
        try {
          if (this.fileInterrupted(callId, box, rel, abs)) recovered++;
        } catch (err) {
          this.log.warn('an interrupted voicemail message was not filed; its file is kept', { call: callId, file: rel, error: errorMessage(err) });
        }
      }
    }
    return recovered;
  }

  private fileInterrupted(callId: string, box: string, rel: string, abs: string): boolean {
    const now = this.opts.clock.now();
    const call = this.opts.db.prepare('SELECT caller FROM calls WHERE id = ?').get(callId) as { caller: string } | undefined;
    const ext = this.opts.extensions.findByNumber(box);
    const numberId = ext ? undefined : (this.opts.db.prepare('SELECT id FROM numbers WHERE did = ?').get(box) as { id: number } | undefined)?.id;
    if (!call || (!ext && numberId === undefined)) {
      this.log.warn('an interrupted voicemail message has no call or mailbox to go to; its file is kept', { call: callId, file: rel });
      return false;
    }
    const mtimeMs = fs.statSync(abs).mtimeMs;
    const pcm = this.readPcm(abs);
    if (soundMs(pcm, this.threshold) < this.minSoundMs) {
      fs.rmSync(abs, { force: true });
      this.opts.history.event(callId, now, 'voicemail.empty', { extension: box, interrupted: true });
      return false;
    }
    const finished = finishInterruptedWav(abs);
    if (!finished) throw new Error('the file does not start with the header the recorder writes');
    const durationMs = Math.round(finished.dataLength / 16);
    const createdAt = Math.round(mtimeMs);
    const v = ext
      ? this.repo.add({ extensionId: ext.id, callId, caller: call.caller, file: rel, durationMs, createdAt })
      : this.repo.addToNumber({ numberId: numberId!, callId, caller: call.caller, file: rel, durationMs, createdAt });
    this.opts.history.event(callId, now, 'voicemail.stored', { extension: box, id: v.id, durationMs, end: 'interrupted' });
    this.log.warn('voicemail message cut short by the last stop filed', { call: callId, extension: box, id: v.id, durationMs });
    this.onDeposited?.({ extension: box, id: v.id, file: rel, durationMs, caller: call.caller });
    return true;
  }

  private readPcm(file: string): Buffer {
    try {
      const b = fs.readFileSync(file);
      return b.length > 44 ? b.subarray(44) : Buffer.alloc(0);
    } catch {
      return Buffer.alloc(0);
    }
  }

  /** Watches the growing WAV (the worker appends as it records): silence for silenceMs after sound, max length, or hangup. */
  private waitRecordingEnd(file: string, hungUp: Promise<void>, maxLengthMs: number): Promise<RecordingEnd> {
    return new Promise((resolve) => {
      const clock = this.opts.clock;
      let done = false;
      const finish = (why: RecordingEnd): void => {
        if (done) return;
        done = true;
        clock.clearTimeout(maxTimer);
        clock.clearTimeout(poll);
        resolve(why);
      };
      const maxTimer = clock.setTimeout(() => finish('max-length'), maxLengthMs);
      void hungUp.then(() => finish('hangup'));
      const tailBytes = Math.floor(this.silenceMs * 16);
      let poll: TimerHandle | undefined;
      const tick = (): void => {
        if (done) return;
        try {
          const size = fs.statSync(file).size;
          if (size - 44 >= tailBytes) {
            const fd = fs.openSync(file, 'r');
            const tail = Buffer.alloc(tailBytes);
            fs.readSync(fd, tail, 0, tailBytes, size - tailBytes);
            fs.closeSync(fd);
            if (soundMs(tail, this.threshold) === 0) {
              finish('silence');
              return;
            }
          }
        } catch {
          /* file not there yet */
        }
        poll = clock.setTimeout(tick, 250);
      };
      poll = clock.setTimeout(tick, 250);
    });
  }

  /** Collects DTMF digits until `#`, `max` digits, or a pause; resolves with what was keyed ('' on timeout). */
  private collectDigits(ep: MediaEndpoint, gone: { value: boolean }, hungUp: Promise<void>, max: number, timeoutMs = 8000): Promise<string> {
    return new Promise((resolve) => {
      let digits = '';
      let timer = this.opts.clock.setTimeout(() => finish(), timeoutMs);
      const finish = (): void => {
        this.opts.clock.clearTimeout(timer);
        ep.off('dtmf', onDigit);
        resolve(digits);
      };
      const onDigit = (d: string): void => {
        if (d === '#') return finish();
        digits += d;
        if (digits.length >= max) return finish();
        this.opts.clock.clearTimeout(timer);
        timer = this.opts.clock.setTimeout(() => finish(), 4000);
      };
      ep.on('dtmf', onDigit);
      void hungUp.then(() => finish());
      if (gone.value) finish();
    });
  }

  /** Claims the listen code (*97) on the feature-code registry. */
  registerCodes(codes: FeatureCodes): () => void {
    return codes.register(this.listenCode, (f) => this.listen(f), 'voicemail: listen to your messages (PIN if set)');
  }

  /** *97: the caller's own mailbox, PIN first when one is set. */
  async listen(f: FeatureCall): Promise<void> {
    const ep = f.callerEndpoint;
    const answered = await this.answer(f, ep);
    if (!answered) return;
    const { gone, hungUp } = answered;
    this.opts.history.answered(f.call.id, this.opts.clock.now(), null);
    this.opts.history.event(f.call.id, this.opts.clock.now(), 'voicemail.listen', { extension: f.caller.number });
    const ext = f.caller;
    const pin = ext.voicemailPin;
    if (pin) {
      let ok = false;
      for (let attempt = 0; attempt < 3 && !gone.value && !ok; attempt++) {
        const collecting = this.collectDigits(ep, gone, hungUp, pin.length + 8);
        await ep.play(this.prompt('enter-pin'), { interruptOnDtmf: true });
        const keyed = await collecting;
        ok = keyed === pin;
        if (!ok && !gone.value) await ep.play(this.prompt('invalid-pin'));
      }
      if (!ok) {
        this.opts.history.event(f.call.id, this.opts.clock.now(), 'voicemail.pin_refused', { extension: ext.number });
        if (!gone.value) await ep.play(this.prompt('goodbye'));
        return;
      }
    }
    const fresh = this.repo.list(ext.id, { onlyNew: true });
    const intro: PlayItem[] =
      fresh.length === 0
        ? this.prompt('no-new-messages')
        : [...this.prompt('you-have'), ...this.number(fresh.length), ...this.prompt(fresh.length === 1 ? 'new-message' : 'new-messages')];
    if (!gone.value) await ep.play(intro);
    for (const [i, v] of fresh.entries()) {
      if (gone.value) break;
      const result = await ep.play([...this.prompt('message'), ...this.number(i + 1), { silenceMs: 300 }, { file: path.join(this.opts.dataDir, v.file) }]);
      if (result === 'stopped' && gone.value) break;
      this.repo.markOld(v.id);
      this.opts.history.event(f.call.id, this.opts.clock.now(), 'voicemail.played', { id: v.id });
      this.publishMailbox(ext);
    }
    if (!gone.value && fresh.length > 0) await ep.play([...this.prompt('no-more-messages'), ...this.prompt('goodbye')]);
  }
}
