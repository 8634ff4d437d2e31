// When a write-behind store commits: soon after a change, less often the more its commits cost (docs/security.md,
// "After a crash").
import type { Clock, TimerHandle } from './clock.js';

export interface WritePacerOptions {
  /** The shortest time between two commits (default 0: a change after a commit waits only for the next turn). */
  minIntervalMs?: number;
  /** The longest a change waits under any load. */
  maxIntervalMs: number;
}

/**
 * Commits may take at most this share of the event loop's time: after a commit that took d ms, the next one comes
 * d / COMMIT_SHARE ms later at the earliest (within the min and max intervals).
 */
export const COMMIT_SHARE = 0.02;

/**
 * Paces the commits of a write-behind store (the dialog journal, the call history, the bindings).
 *
 * - A change made when no commit is due is committed on the next turn of the event loop (a 0 ms timer) if the last
 *   commit is far enough behind. At an office's load every change reaches the disk within about a millisecond, so a
 *   crash loses none of them.
 * - How far is far enough depends on what the last commit cost: a commit that took d ms is followed by the next no
 *   sooner than d / COMMIT_SHARE ms later (so commits take at most about 2 % of the event loop), and no later than
 *   `maxIntervalMs`. The changes of that wait go in one commit together. Under a burst of calls the wait grows with
 *   the commits' cost up to `maxIntervalMs`; a crash then loses at most the changes of that wait.
 *
 * The store writes through `write()`, on time or early (a read or a stop writes first).
 */
export class WritePacer {
  private timer: TimerHandle | undefined;
  private nextAllowed = Number.NEGATIVE_INFINITY;
  private readonly minIntervalMs: number;
  private readonly maxIntervalMs: number;

  constructor(
    private readonly clock: Clock,
    opts: WritePacerOptions,
    private readonly commit: () => void,
  ) {
    this.maxIntervalMs = opts.maxIntervalMs;
    this.minIntervalMs = Math.min(opts.minIntervalMs ?? 0, opts.maxIntervalMs);
  }

  /** A change is waiting to be written: commit it on time. */
  changed(): void {
    if (this.timer) return;
    const wait = Math.max(0, this.nextAllowed - this.clock.monotonic());
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.commit();
    }, wait);
  }

  /** Runs the store's write of everything waiting, timed: the next commit is paced from its cost. */
  write<T>(fn: () => T): T {
    this.cancel();
    const start = this.clock.monotonic();
    try {
      return fn();
    } finally {
      const end = this.clock.monotonic();
      const gap = Math.min(this.maxIntervalMs, Math.max(this.minIntervalMs, (end - start) / COMMIT_SHARE));
      this.nextAllowed = end + gap;
    }
  }

  /** Nothing is waiting any more (written, or dropped): no commit is due. */
  cancel(): void {
    if (!this.timer) return;
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** When the next commit may come at the earliest, on the clock's monotonic time (tests, diagnostics). */
  get earliestNext(): number {
    return this.nextAllowed;
  }
}
