// The call as the scenario interpreter drives it: one interface for live calls (services/call) and the simulator.
import type { RingMode, RingTarget } from '../call/index.js';
import type { Language, SoundRef } from '../directory/index.js';

/** What to say: a sound of the library, a system prompt, or text spoken by TTS, in a language. */
export interface Utterance extends SoundRef {
  language: Language;
}

export type PlayOutcome = 'done' | 'interrupted' | 'gone';

/** How ringing (call_user, the number's users, transfer, forward) ended. */
export type RingOutcome = 'answered' | 'no-answer' | 'busy' | 'unavailable' | 'failed' | 'gone';

/**
 * One inbound call under the interpreter. Every method is safe once the caller has left (it reports 'gone' or
 * does nothing). Live: services/scenario/live-port.ts; simulated: services/scenario/simulator.ts.
 */
export interface CallPort {
  /** The caller's number (From user; `anonymous` when withheld). */
  readonly caller: string;
  /** The caller hung up (or the call ended another way). */
  gone(): boolean;
  /** Whether the caller has been answered (by Relais or a callee). */
  answered(): boolean;
  /** Answers the caller with Relais's own media; false when the caller left. */
  answer(): Promise<boolean>;
  /** 183 Session Progress with SDP: what is played next is heard before any answer. False when not possible. */
  earlyMedia(): Promise<boolean>;
  /** Plays in order; with `bargeIn` a DTMF key stops the playing (the key stays readable by readDigits). */
  play(items: Utterance[], opts?: { bargeIn?: boolean }): Promise<PlayOutcome>;
  /** Forgets keys pressed so far. */
  clearDigits(): void;
  /**
   * Reads keys: keys already pressed first (barge-in), then waits. Ends at `max` keys, at `endKey` (not
   * included), when `firstTimeoutMs` passes without a first key or `interDigitMs` without a next one. '' = none.
   */
  readDigits(opts: { max: number; firstTimeoutMs: number; interDigitMs?: number; endKey?: string }): Promise<string>;
  /** Rings targets through the ring engine; on 'answered' the caller is bridged to the winner and the port is done. */
  ring(targets: RingTarget[], mode: RingMode, ringTimeMs: number): Promise<RingOutcome>;
  /** Sends the call to a number (an extension, or outside through the outbound routes); 'answered' = bridged. */
  transfer(to: string, ringTimeMs: number): Promise<RingOutcome>;
  /** Records a message in a mailbox (an extension number, or the number's own when undefined); ends the call. */
  voicemail(mailbox: string | undefined, opts: { greeting?: string | undefined; maxLengthMs?: number | undefined }): Promise<void>;
  /** Plays the ringback for up to ms (the caller not answered), then gives up. Resolves early when the caller leaves. */
  ringingFor(ms: number): Promise<void>;
  /** Refuses a caller not answered yet (486 busy, 480…) and ends the call. */
  reject(status: number, reason: string): Promise<void>;
  /** Ends the call (BYE if answered, else 480). */
  hangup(cause: string): Promise<void>;
}
