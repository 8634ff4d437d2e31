// Timers of one fixed duration (Timer J, K, I, D: the wait of a finished transaction) share one clock timer.
import { type Clock, type TimerHandle } from '../../shared/index.js';

/** Told when its timer falls due (a transaction's end timer): no closure per timer. */
export interface FixedTimerOwner {
  fixedTimerFired(timer: FixedTimer): void;
}

/** One pending timer of a FixedTimerQueue; cancel() drops its callback at once (no closure kept for 32 s). */
export class FixedTimer {
  constructor(
    readonly due: number,
    public fn: (() => void) | undefined,
    public owner: FixedTimerOwner | undefined = undefined,
  ) {}

  get pending(): boolean {
    return this.fn !== undefined || this.owner !== undefined;
  }

  cancel(): void {
    this.fn = undefined;
    this.owner = undefined;
  }
}

/**
 * Every timer set here runs for the same `ms`, so they fall due in the order they were set: a FIFO with one clock
 * timer armed for its head replaces one clock timer per transaction (a REGISTER burst keeps ~100 000 Timer Js of
 * 64*T1 alive). Each timer still fires when its own duration has elapsed, as RFC 3261 §17 sets it.
 */
export class FixedTimerQueue {
  private queue: FixedTimer[] = [];
  private head = 0;
  private armed: TimerHandle | undefined;

  constructor(
    private readonly clock: Clock,
    readonly ms: number,
  ) {}

  add(fn: () => void): FixedTimer {
    return this.push(new FixedTimer(this.clock.monotonic() + this.ms, fn));
  }

  /** A timer that calls owner.fixedTimerFired(timer) when due. */
  addFor(owner: FixedTimerOwner): FixedTimer {
    return this.push(new FixedTimer(this.clock.monotonic() + this.ms, undefined, owner));
  }

  private push(t: FixedTimer): FixedTimer {
    this.queue.push(t);
    if (!this.armed) this.arm();
    return t;
  }

  cancel(t: FixedTimer): void {
    t.cancel();
  }

  /** Timers not yet fired nor cancelled (tests, health). */
  pending(): number {
    let n = 0;
    for (let i = this.head; i < this.queue.length; i++) if (this.queue[i]!.pending) n++;
    return n;
  }

  private arm(): void {
    while (this.head < this.queue.length && !this.queue[this.head]!.pending) this.head++;
    this.compact();
    const next = this.queue[this.head];
    if (!next) return;
    this.armed = this.clock.setTimeout(() => this.fire(), Math.max(0, next.due - this.clock.monotonic()));
  }

  private fire(): void {
    this.armed = undefined;
    const now = this.clock.monotonic();
    while (this.head < this.queue.length) {
      const t = this.queue[this.head]!;
      if (t.pending && t.due > now) break;
      this.head++;
      const fn = t.fn;
      const owner = t.owner;
      t.cancel();
      if (owner) owner.fixedTimerFired(t);
      else fn?.();
    }
    if (!this.armed) this.arm();
  }

  private compact(): void {
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }
}

/** The queues of one clock, by duration; a handful of values (64*T1, T4, 32 s, 0 is not queued). */
export class FixedTimers {
  private readonly queues = new Map<number, FixedTimerQueue>();

  constructor(private readonly clock: Clock) {}

  queue(ms: number): FixedTimerQueue {
    let q = this.queues.get(ms);
    if (!q) {
      q = new FixedTimerQueue(this.clock, ms);
      this.queues.set(ms, q);
    }
    return q;
  }
}
