// Shared shape of the four RFC 3261 §17 state machines: explicit states, checked transitions, named timers.
import { type Clock, type Logger, type TimerHandle } from '../../shared/index.js';
import { type SipRequest } from '../message/index.js';
import { type TransportLayer } from '../transport/index.js';
import { type TimerConfig } from './timers.js';

export interface TransactionContext {
  transport: TransportLayer;
  clock: Clock;
  log: Logger;
  timers: TimerConfig;
  /** Called once when the transaction reaches Terminated, so the layer can forget it. */
  onTerminated(tx: Transaction<string>): void;
}

export abstract class Transaction<S extends string> {
  state: S;
  private readonly timerHandles = new Map<string, TimerHandle>();

  protected constructor(
    readonly key: string,
    readonly request: SipRequest,
    protected readonly ctx: TransactionContext,
    initial: S,
    private readonly allowed: Record<S, readonly S[]>,
  ) {
    this.state = initial;
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
    this.timerHandles.set(
      name,
      this.ctx.clock.setTimeout(() => {
        this.timerHandles.delete(name);
        fire();
      }, ms),
    );
  }

  protected stopTimer(name: string): void {
    const h = this.timerHandles.get(name);
    if (h) {
      this.ctx.clock.clearTimeout(h);
      this.timerHandles.delete(name);
    }
  }

  private clearAllTimers(): void {
    for (const h of this.timerHandles.values()) this.ctx.clock.clearTimeout(h);
    this.timerHandles.clear();
  }

  /** Names of running timers (tests assert on them). */
  runningTimers(): string[] {
    return [...this.timerHandles.keys()];
  }
}
