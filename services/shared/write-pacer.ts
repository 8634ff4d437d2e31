// When a write-behind store commits: soon after a change, at most once per interval (docs/security.md, "After a crash").
import type { Clock, TimerHandle } from './clock.js';

/**
 * Paces the commits of a write-behind store (the dialog journal, the call history).
 *
 * - A change made when the store has not committed for `minIntervalMs` is committed on the next turn of the event
 *   loop (a 0 ms timer). At an office's load every change reaches the disk within about a millisecond, so a crash
 *   loses none of them.
 * - Changes that follow within the interval wait for its end and go in one commit together. Under a burst of calls
 *   the store commits at most once per interval, which keeps SQLite's cost per call low; a crash then loses at most
 *   the changes of that wait.
 *
 * The store calls `committed()` whenever it writes, on time or early (a read or a stop writes first).
 */
export class WritePacer {
  private timer: TimerHandle | undefined;
  private lastCommit = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly clock: Clock,
    private readonly minIntervalMs: number,
    private readonly commit: () => void,
  ) {}

  /** A change is waiting to be written: commit it on time. */
  changed(): void {
    if (this.timer) return;
    const wait = Math.max(0, this.lastCommit + this.minIntervalMs - this.clock.monotonic());
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.commit();
    }, wait);
  }

  /** The store wrote everything waiting: the next change is paced from now. */
  committed(): void {
    this.cancel();
    this.lastCommit = this.clock.monotonic();
  }

  /** Nothing is waiting any more (written, or dropped): no commit is due. */
  cancel(): void {
    if (!this.timer) return;
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** A commit is due (tests, diagnostics). */
  get scheduled(): boolean {
    return this.timer !== undefined;
  }
}
