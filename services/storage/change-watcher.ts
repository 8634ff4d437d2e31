// Notices that the configuration in the database changed, so a running Relais applies it to the next call without a
// restart: writes by another process (`relais import` on a running box) show as a new `PRAGMA data_version`, polled
// cheaply; writes by this process (the API) are announced with `touch()`. Listeners reload what they cache.
import type { Database } from 'better-sqlite3';
import { TypedEmitter, errorMessage, type Clock, type Logger, type Module, type ModuleHealth, type TimerHandle } from '../shared/index.js';

export type ChangeWatcherEvents = {
  /** The database changed; `external` when another connection (process) wrote it. */
  changed: [external: boolean];
};

export class ChangeWatcher extends TypedEmitter<ChangeWatcherEvents> implements Module {
  readonly name = 'config-watch';
  private last = 0;
  private timer: TimerHandle | undefined;
  private running = false;
  private counts = { external: 0, local: 0 };

  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    /** Poll period; a PRAGMA read costs a few microseconds. */
    private readonly intervalMs = 200,
    private readonly logger?: Logger,
  ) {
    super();
  }

  async start(): Promise<void> {
    this.last = this.version();
    this.running = true;
    this.schedule();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  health(): ModuleHealth {
    return { status: this.running ? 'ok' : 'down', detail: { reloads: this.counts } };
  }

  /** SQLite's counter of commits by other connections (https://sqlite.org/pragma.html#pragma_data_version). */
  private version(): number {
    return this.db.pragma('data_version', { simple: true }) as number;
  }

  /** Checks now; true when another process changed the database since the last check. */
  poll(): boolean {
    if (!this.db.open) return false;
    const v = this.version();
    if (v === this.last) return false;
    this.last = v;
    this.counts.external++;
    this.emit('changed', true);
    return true;
  }

  /** This process changed the configuration (API): listeners reload now. */
  touch(): void {
    this.counts.local++;
    this.emit('changed', false);
  }

  private schedule(): void {
    if (!this.running) return;
    this.timer = this.clock.setTimeout(() => {
      try {
        this.poll();
      } catch (err) {
        // A listener failing to reload must not stop the watch (nor the process).
        this.logger?.error('reloading the configuration failed', { error: errorMessage(err) });
      } finally {
        this.schedule();
      }
    }, this.intervalMs);
  }
}
