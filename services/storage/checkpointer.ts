// WAL checkpoints on their own thread (docs/performance.md, "Session 10").
//
// In WAL mode SQLite folds the log back into the database file every 1,000 pages, inside whichever commit crosses
// that mark: the copy and its fsync then run on the signalling thread. Measured at 800 call set-ups a second on
// this machine's disk, every such commit held the event loop 9-24 ms, about once every 0.7 s; on a Raspberry Pi's SD
// card an fsync alone can take longer. This module turns the automatic checkpoint off on the store's connection and
// has a worker thread, with a connection of its own, run a PASSIVE checkpoint every interval instead: it copies what
// no reader still needs without waiting for anybody, and the signalling thread's commits only append to the log.
// Should the thread fail, the store goes back to SQLite's automatic checkpoint.
import { Worker } from 'node:worker_threads';
import { Logger, silentLogger, type Module, type ModuleHealth } from '../shared/index.js';
import type { CheckpointReply, CheckpointRequest, CheckpointWorkerData } from './checkpoint-protocol.js';
import type { Store } from './store.js';

/** SQLite's own default (pages): what the store's connection goes back to without the thread. */
const AUTOCHECKPOINT_PAGES = 1000;

export interface WalCheckpointerOptions {
  /** How often the thread checkpoints (default 1000 ms: the log stays about one second of writes long). */
  intervalMs?: number;
  logger?: Logger;
}

export class WalCheckpointer implements Module {
  readonly name = 'checkpointer';
  private worker: Worker | undefined;
  private readonly intervalMs: number;
  private readonly log: Logger;
  private stopping = false;
  private failure: string | undefined;
  private checkpoints = 0;
  private frames = 0;
  private lastMs = 0;
  private maxMs = 0;
  private errors = 0;
  private onStopped: (() => void) | undefined;

  constructor(
    private readonly store: Store,
    opts: WalCheckpointerOptions = {},
  ) {
    this.intervalMs = opts.intervalMs ?? 1000;
    this.log = opts.logger ?? silentLogger;
  }

  async start(): Promise<void> {
    if (this.store.file === ':memory:' || this.worker) return;
    this.stopping = false;
    const worker = new Worker(new URL('./checkpoint-worker.js', import.meta.url), {
      name: 'relais-checkpoint',
      workerData: { file: this.store.file, intervalMs: this.intervalMs } satisfies CheckpointWorkerData,
      // It holds one connection and a few numbers.
      resourceLimits: { maxYoungGenerationSizeMb: 2, maxOldGenerationSizeMb: 16 },
    });
    this.worker = worker;
    const ready = new Promise<boolean>((resolve) => {
      worker.on('message', (m: CheckpointReply) => {
        if (m.op === 'ready') resolve(true);
        else if (m.op === 'failed') {
          this.fallBack(m.message);
          resolve(false);
        } else if (m.op === 'checkpointed') {
          this.checkpoints++;
          this.frames += m.frames;
          this.lastMs = m.ms;
          this.maxMs = Math.max(this.maxMs, m.ms);
        } else if (m.op === 'error') {
          this.errors++;
          if (this.errors === 1) this.log.warn('WAL checkpoint failed; the thread tries again', { error: m.message });
        } else if (m.op === 'stopped') this.onStopped?.();
      });
      worker.on('error', (err) => {
        this.fallBack(err.message);
        resolve(false);
      });
      worker.on('exit', (code) => {
        if (!this.stopping) this.fallBack(`the checkpoint thread exited (${code})`);
        this.onStopped?.();
        resolve(false);
      });
    });
    const ok = await ready;
    // Only now: while it was opening, nothing else may have kept the event loop alive.
    worker.unref();
    if (ok) {
      this.store.db.pragma('wal_autocheckpoint = 0');
      this.log.info('WAL checkpoints on their own thread', { intervalMs: this.intervalMs });
    }
  }

  /** Stops the thread and gives the store its automatic checkpoint back (the store's close then folds the log in). */
  async stop(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    this.stopping = true;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 2000);
      this.onStopped = () => {
        clearTimeout(timer);
        resolve();
      };
      worker.postMessage({ op: 'stop' } satisfies CheckpointRequest);
    });
    this.onStopped = undefined;
    await worker.terminate();
    this.worker = undefined;
    this.restoreAutocheckpoint();
  }

  health(): ModuleHealth {
    // The fallback is SQLite's own checkpoint: everything still works, so it is not a degraded box.
    return {
      status: 'ok',
      detail: {
        thread: this.worker !== undefined && this.failure === undefined,
        ...(this.failure ? { fallback: this.failure } : {}),
        checkpoints: this.checkpoints,
        frames: this.frames,
        lastMs: Math.round(this.lastMs * 10) / 10,
        maxMs: Math.round(this.maxMs * 10) / 10,
        errors: this.errors,
      },
    };
  }

  private fallBack(why: string): void {
    if (this.failure !== undefined || this.stopping) return;
    this.failure = why;
    const w = this.worker;
    this.worker = undefined;
    void w?.terminate().catch(() => undefined);
    this.restoreAutocheckpoint();
    this.log.warn('WAL checkpoint thread unavailable; SQLite checkpoints on the main thread again', { error: why });
  }

  private restoreAutocheckpoint(): void {
    if (this.store.db.open) this.store.db.pragma(`wal_autocheckpoint = ${AUTOCHECKPOINT_PAGES}`);
  }
}
