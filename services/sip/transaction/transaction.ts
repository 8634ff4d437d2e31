// Shared shape of the four RFC 3261 §17 state machines: explicit states, checked transitions, named timers.
import { type Clock, type Logger, type TimerHandle } from '../../shared/index.js';
import { type SipRequest } from '../message/index.js';
import { type TransportLayer } from '../transport/index.js';
import { FixedTimer, type FixedTimers } from './fixed-timers.js';
import { type TimerConfig } from './timers.js';

export interface TransactionContext {
  transport: TransportLayer;
  clock: Clock;
  log: Logger;
  timers: TimerConfig;
  /** Called once when the transaction reaches Terminated, so the layer can forget it. */
  onTerminated(tx: Transaction<string>): void;
  /** Shared queues for the fixed-length waits of finished transactions (absent: one clock timer each). */
  fixedTimers?: FixedTimers;
}

export abstract class Transaction<S extends string> {
  state: S;
  /** §8.2.2.2 merged-request key, set by the layer for requests without a To tag. */
  mergeKey: string | undefined;
  private timerHandles: Record<string, TimerHandle | FixedTimer> | undefined;
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
   * A timer whose length is the same for every transaction of its kind (Timer J, K, I, D): it goes into the
   * shared queue for that length, which fires it after exactly `ms` like startTimer, without a clock timer each.
   */
  protected startFixedTimer(name: string, ms: number, fire: () => void): void {
    const fixed = this.ctx.fixedTimers;
    if (!fixed || ms <= 0) {
      this.startTimer(name, ms, fire);
      return;
    }
    this.stopTimer(name);
    const handles = (this.timerHandles ??= {});
    handles[name] = fixed.queue(ms).add(() => {
      delete handles[name];
      fire();
    });
  }

  protected stopTimer(name: string): void {
    const h = this.timerHandles?.[name];
    if (h) {
      this.cancel(h);
      delete this.timerHandles![name];
    }
  }

  private cancel(h: TimerHandle | FixedTimer): void {
    if (h instanceof FixedTimer) h.fn = undefined;
    else this.ctx.clock.clearTimeout(h);
  }

  private clearAllTimers(): void {
    if (!this.timerHandles) return;
    for (const k in this.timerHandles) this.cancel(this.timerHandles[k]!);
    this.timerHandles = undefined;
  }

  /** Names of running timers (tests assert on them). */
  runningTimers(): string[] {
    return this.timerHandles ? Object.keys(this.timerHandles) : [];
  }
}
