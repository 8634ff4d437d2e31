// Shared shape of the four RFC 3261 §17 state machines: explicit states, checked transitions, named timers.
import { type Clock, type Logger, type TimerHandle } from '../../shared/index.js';
import { type SipRequest } from '../message/index.js';
import { type Target, type TransportLayer } from '../transport/index.js';
import { FixedTimer, type FixedTimerOwner, type FixedTimers } from './fixed-timers.js';
import { type TimerConfig } from './timers.js';

export interface TransactionContext {
  transport: TransportLayer;
  clock: Clock;
  log: Logger;
  timers: TimerConfig;
  /** Called once when the transaction reaches Terminated, so the layer can forget it. */
  onTerminated(tx: Transaction<string>): void;
  /** A non-INVITE server transaction sent its final response: it no longer counts for merged-request detection. */
  onAnswered?(tx: Transaction<string>): void;
  /**
   * Takes over the Completed state of a non-INVITE server transaction on an unreliable transport: keeps its final
   * response for retransmissions until Timer J (64*T1). False when it cannot (the transaction then runs Timer J).
   */
  retainFinal?(key: string, bytes: Buffer, target: Target): boolean;
  /** Shared queues for the fixed-length waits of finished transactions (absent: one clock timer each). */
  fixedTimers?: FixedTimers;
}

export abstract class Transaction<S extends string> implements FixedTimerOwner {
  state: S;
  /** §8.2.2.2 merged-request key, set by the layer for requests without a To tag. */
  mergeKey: string | undefined;
  private timerHandles: Record<string, TimerHandle | FixedTimer> | undefined;
  /**
   * The wait of a finished transaction (Timer J, K, I or D): always the last timer, and its end is always
   * Terminated, so it is kept apart with its name instead of a closure and a handle record (a REGISTER burst keeps
   * hundreds of thousands of them for 32 s).
   */
  private endTimer: FixedTimer | undefined;
  private endTimerName: string | undefined;
  private req: SipRequest | undefined;

  protected constructor(
    readonly key: string,
    request: SipRequest,
    protected readonly ctx: TransactionContext,
    initial: S,
    private readonly allowed: Record<S, readonly S[]>,
  ) {
    this.state = initial;
    this.req = request;
  }

  /** The request that created the transaction (released once only the final response matters, to save memory). */
  get request(): SipRequest {
    if (!this.req) throw new Error(`${this.kind} transaction ${this.key}: request already released`);
    return this.req;
  }

  /**
   * A completed server transaction only resends its final response; dropping the parsed request keeps REGISTER
   * bursts (tens of thousands of transactions alive for Timer J's 32 s) cheap in memory.
   */
  protected releaseRequest(): void {
    this.req = undefined;
  }

  abstract readonly kind: string;

  /** Moves to `to`, refusing moves the RFC's state diagram does not have. */
  protected transition(to: S): void {
    if (!this.allowed[this.state].includes(to)) {
      throw new Error(`${this.kind} transaction ${this.key}: invalid transition ${this.state} → ${to}`);
    }
    this.state = to;
    if (to === ('Terminated' as S)) {
      this.clearAllTimers();
      this.ctx.onTerminated(this as unknown as Transaction<string>);
    }
  }

  protected startTimer(name: string, ms: number, fire: () => void): void {
    this.stopTimer(name);
    const handles = (this.timerHandles ??= {});
    handles[name] = this.ctx.clock.setTimeout(() => {
      delete handles[name];
      fire();
    }, ms);
  }

  /**
   * The end timer of a finished transaction (Timer J, K, I, D: the same length for every transaction of its kind,
   * and Terminated when it fires). It goes into the shared queue for that length, which fires it after exactly
   * `ms` like startTimer, without a clock timer or a closure each.
   */
  protected startEndTimer(name: string, ms: number): void {
    const fixed = this.ctx.fixedTimers;
    if (!fixed || ms <= 0) {
      this.startTimer(name, ms, () => this.transition('Terminated' as S));
      return;
    }
    this.endTimer?.cancel();
    this.endTimer = fixed.queue(ms).addFor(this);
    this.endTimerName = name;
  }

  /** FixedTimerOwner: the end timer fell due. */
  fixedTimerFired(timer: FixedTimer): void {
    if (timer !== this.endTimer) return;
    this.endTimer = undefined;
    this.endTimerName = undefined;
    if (this.state !== ('Terminated' as S)) this.transition('Terminated' as S);
  }

  protected stopTimer(name: string): void {
    if (name === this.endTimerName) {
      this.endTimer?.cancel();
      this.endTimer = undefined;
      this.endTimerName = undefined;
      return;
    }
    const h = this.timerHandles?.[name];
    if (h) {
      this.cancel(h);
      delete this.timerHandles![name];
    }
  }

  private cancel(h: TimerHandle | FixedTimer): void {
    if (h instanceof FixedTimer) h.cancel();
    else this.ctx.clock.clearTimeout(h);
  }

  private clearAllTimers(): void {
    if (this.endTimer) {
      this.endTimer.cancel();
      this.endTimer = undefined;
      this.endTimerName = undefined;
    }
    if (!this.timerHandles) return;
    for (const k in this.timerHandles) this.cancel(this.timerHandles[k]!);
    this.timerHandles = undefined;
  }

  /** Names of running timers (tests assert on them). */
  runningTimers(): string[] {
    const names = this.timerHandles ? Object.keys(this.timerHandles) : [];
    if (this.endTimerName !== undefined) names.push(this.endTimerName);
    return names;
  }
}
