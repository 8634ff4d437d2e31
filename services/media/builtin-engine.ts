// Built-in MediaEngine: endpoints on the main thread speak SDP; all RTP lives in one worker_threads worker.
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { DEFAULT_MEDIA_REALTIME, Logger, silentLogger, type ModuleHealth } from '../shared/index.js';
import { BuiltinEndpoint } from './builtin-endpoint.js';
import {
  DEFAULT_CODECS,
  DEFAULT_RTP_TIMEOUT_MS,
  CODEC_PT,
  MediaError,
  negotiate,
  parseRemoteSdp,
  type MediaEndpoint,
  type MediaEngine,
  type MediaEngineConfig,
  type OpenEndpointOptions,
} from './engine.js';
import { MEDIA_WORKER_YOUNG_GENERATION_MB, type WorkerCommand, type WorkerMessage, type WorkerStats } from './worker/protocol.js';
import { chooseSrtp } from './srtp-negotiation.js';

type DistributiveOmit<T, K extends keyof T> = T extends unknown ? Omit<T, K> : never;
export type CommandBody = DistributiveOmit<WorkerCommand, 'id'>;

export interface BuiltinMediaEngineOptions extends MediaEngineConfig {
  logger?: Logger;
  /** Nice value asked for the media thread (applied only when permitted; 0 = same as the process). */
  workerNice?: number;
  /** Interval of our RTCP reports (default 5000 ms, RFC 3550 §6.2). */
  rtcpIntervalMs?: number;
  /** The relay's native fast path (default on; docs/media.md, "The relay's fast path"). */
  fastPath?: boolean;
  /** Forwarding threads of the fast path (default 1; more spread the pairs over threads of their own). */
  fastPathThreads?: number;
  /**
   * SCHED_FIFO priority asked for the forwarding threads (default DEFAULT_FAST_PATH_REALTIME; 0: none, they keep the
   * media thread's nice value). Applied only when the process may (CAP_SYS_NICE or RLIMIT_RTPRIO).
   */
  fastPathRealtime?: number;
}

/** Worker commands that may wait for the end of the event-loop turn (see `outbox`). */
const DEFERRABLE: ReadonlySet<WorkerCommand['op']> = new Set(['open', 'configure', 'bridge', 'unbridge', 'close']);

/** The media thread outranks signalling when the process may raise a thread's priority. */
export const DEFAULT_WORKER_NICE = -10;

/**
 * The forwarding threads run at real-time priority when allowed, as Asterisk (`-p`) and FreeSWITCH (`-rp`) can run:
 * a packet is forwarded as soon as it arrives instead of waiting for a signalling burst, a backup or an update
 * check to give up the core. Low on the real-time scale (threaded interrupts sit at 50); the thread
 * sleeps in epoll between packets and does a bounded amount of work per packet (docs/media.md, "Thread priorities").
 */
export const DEFAULT_FAST_PATH_REALTIME = DEFAULT_MEDIA_REALTIME;

/** First non-internal IPv4 address of the machine, for SDP when bound to 0.0.0.0. */
function hostAddress(): string {
  for (const list of Object.values(os.networkInterfaces())) {
    for (const i of list ?? []) if (i.family === 'IPv4' && !i.internal) return i.address;
  }
  return '127.0.0.1';
}

export class BuiltinMediaEngine implements MediaEngine {
  readonly name = 'media';
  /** Commands leave for the worker in the order given, and the worker runs an endpoint's commands in that order. */
  readonly ordered = true;
  private worker: Worker | undefined;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: MediaError) => void }>();
  /**
   * The first command of an event-loop turn is posted at once (as before: a command and the packets sent after it
   * keep their order); the others of the same turn wait here and leave together from setImmediate, so a call
   * set-up's several commands wake the worker twice per turn at most, not once each.
   * Commands that nothing given later could overtake (open, configure, bridge, unbridge, close; unlike a play still
   * loading its files, which a stopPlay posted with it would overtake) always wait for the end of the turn, so a
   * call's callee answer and bridge leave as one message, and so do its two closes at hang-up: each postMessage wakes
   * the worker and was about a tenth of the main thread's time per call set-up at 200 calls/s.
   */
  private outbox: WorkerCommand[] = [];
  private outboxScheduled = false;
  private nextCommand = 1;
  private nextEndpoint = 1;
  readonly endpoints = new Map<number, BuiltinEndpoint>();
  private readonly log: Logger;
  readonly sdpAddress: string;
  readonly rtpTimeoutMs: number;
  /** "PID/TID" of the worker thread, once started. */
  workerThread: string | undefined;
  /** The worker thread's nice value, once started. */
  workerNice: number | undefined;
  /** The relay's fast path as the worker reported it at start ('native', 'off', 'unavailable: …'). */
  fastPathState = 'off';
  /** What the forwarding threads run at, as the worker reported it ('SCHED_FIFO 10', 'normal', 'normal (…: why)'). */
  fastPathScheduling = '';
  private failed: string | undefined;
  private stopping = false;
  /** postMessage calls each way (each wakes the other thread): what batching commands saves. */
  messagesOut = 0;
  messagesIn = 0;
  /** Times the worker died and was started again. */
  restarts = 0;

  constructor(readonly config: BuiltinMediaEngineOptions) {
    this.log = (config.logger ?? silentLogger).child({ module: 'media' });
    this.sdpAddress = config.sdpAddress ?? (config.bind === '0.0.0.0' ? hostAddress() : config.bind);
    this.rtpTimeoutMs = config.rtpTimeoutMs ?? DEFAULT_RTP_TIMEOUT_MS;
    if (config.rtpPortMax - config.rtpPortMin < 3) {
      throw new MediaError('media.config', `RTP port range ${config.rtpPortMin}-${config.rtpPortMax} holds no RTP/RTCP port pair`);
    }
  }

  async start(): Promise<void> {
    if (this.worker) return;
    this.stopping = false;
    const worker = new Worker(new URL('./worker/media-worker.js', import.meta.url), {
      workerData: {
        bind: this.config.bind,
        rtpPortMin: this.config.rtpPortMin,
        rtpPortMax: this.config.rtpPortMax,
        nice: this.config.workerNice ?? DEFAULT_WORKER_NICE,
        rtcpIntervalMs: this.config.rtcpIntervalMs,
        fastPath: this.config.fastPath ?? true,
        fastPathThreads: this.config.fastPathThreads,
        fastPathRealtime: this.config.fastPathRealtime ?? DEFAULT_FAST_PATH_REALTIME,
      },
      resourceLimits: { maxYoungGenerationSizeMb: MEDIA_WORKER_YOUNG_GENERATION_MB },
    });
    this.worker = worker;
    this.failed = undefined;
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => reject(new MediaError('media.worker', `media worker failed to start: ${err.message}`));
      worker.once('error', onError);
      worker.on('message', (batch: WorkerMessage | WorkerMessage[]) => {
        this.messagesIn++;
        if (Array.isArray(batch)) {
          for (const m of batch) this.onMessage(m);
          return;
        }
        const m = batch;
        if (m.type === 'ready') {
          this.workerThread = m.thread;
          this.workerNice = m.nice;
          this.fastPathState = m.fastPath;
          this.fastPathScheduling = m.fastPathScheduling;
          if (m.fastPath.startsWith('unavailable')) this.log.warn('media fast path unavailable: the worker relays every packet itself', { reason: m.fastPath });
          worker.off('error', onError);
          resolve();
        } else this.onMessage(m);
      });
    });
    worker.on('error', (err) => {
      this.failed = err.message;
      this.log.error('media worker crashed', { error: err.message });
    });
    worker.on('exit', (code) => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      this.failed ??= `media worker exited with code ${code}`;
      this.outbox = [];
      for (const p of this.pending.values()) p.reject(new MediaError('media.worker', this.failed));
      this.pending.clear();
      for (const e of [...this.endpoints.values()]) e.markClosed();
      if (this.stopping) return;
      // Its calls are lost (their endpoints emit `closed`), but new calls must get media again.
      this.restarts++;
      this.log.error('media worker exited; restarting it', { code, restarts: this.restarts });
      this.start().catch((err: Error) => {
        this.failed = err.message;
        this.log.error('media worker restart failed', { error: err.message });
      });
    });
    this.log.info('media engine started', { rtp: `${this.config.bind}:${this.config.rtpPortMin}-${this.config.rtpPortMax}`, thread: this.workerThread });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    const worker = this.worker;
    if (!worker) return;
    await Promise.allSettled([...this.endpoints.values()].map((e) => e.close()));
    this.worker = undefined;
    await worker.terminate();
    for (const e of [...this.endpoints.values()]) e.markClosed();
  }

  health(): ModuleHealth {
    if (!this.worker) return { status: 'down', detail: { error: this.failed ?? 'not started' } };
    return { status: this.restarts ? 'degraded' : 'ok', detail: { endpoints: this.endpoints.size, thread: this.workerThread, nice: this.workerNice, fastPath: this.fastPathState, fastPathScheduling: this.fastPathScheduling, restarts: this.restarts, messagesOut: this.messagesOut, messagesIn: this.messagesIn } };
  }

  endpointCount(): number {
    return this.endpoints.size;
  }

  /** Test hook: ends the worker abruptly, as a crash would. */
  async crashWorkerForTest(): Promise<void> {
    await this.worker?.terminate();
  }

  /** Test hook: blocks the worker thread for `ms`, as a starved thread would be. */
  async stallWorkerForTest(ms: number): Promise<void> {
    await this.command({ op: 'stall', ms });
  }

  /** Counters summed over the worker's endpoints (benchmarks, diagnostics). */
  stats(): Promise<WorkerStats> {
    return this.command({ op: 'stats' }) as Promise<WorkerStats>;
  }

  /** @internal: sends one command to the worker. */
  command(body: CommandBody): Promise<unknown> {
    const worker = this.worker;
    if (!worker) return Promise.reject(new MediaError('media.stopped', `media engine is not running${this.failed ? `: ${this.failed}` : ''}`));
    const id = this.nextCommand++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      const cmd = { ...body, id } as WorkerCommand;
      if (!this.outboxScheduled) {
        this.outboxScheduled = true;
        setImmediate(this.flushOutboxBound);
        if (!DEFERRABLE.has(cmd.op)) {
          this.messagesOut++;
          worker.postMessage(cmd);
          return;
        }
      }
      this.outbox.push(cmd);
    });
  }

  private readonly flushOutboxBound = (): void => this.flushOutbox();

  /** Posts the commands queued in this turn, in order, as one message. */
  private flushOutbox(): void {
    this.outboxScheduled = false;
    const batch = this.outbox;
    if (batch.length === 0) return;
    this.outbox = [];
    const worker = this.worker;
    if (!worker) {
      for (const c of batch) {
        const p = this.pending.get(c.id);
        this.pending.delete(c.id);
        p?.reject(new MediaError('media.stopped', `media engine is not running${this.failed ? `: ${this.failed}` : ''}`));
      }
      return;
    }
    this.messagesOut++;
    worker.postMessage(batch.length === 1 ? batch[0] : batch);
  }

  private onMessage(m: WorkerMessage): void {
    switch (m.type) {
      case 'reply': {
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        if (m.ok) p.resolve(m.value);
        else p.reject(new MediaError(m.code, m.message));
        return;
      }
      case 'dtmf':
        this.endpoints.get(m.ep)?.emitDtmf(m.digit, m.method);
        return;
      case 'playDone':
        this.endpoints.get(m.ep)?.onPlayDone(m.play, m.result);
        return;
      case 'rtpTimeout':
        this.endpoints.get(m.ep)?.emit('rtpTimeout');
        return;
      case 'error':
        this.endpoints.get(m.ep)?.emitError(new MediaError(m.code, m.message));
        return;
      case 'ready':
        return;
    }
  }

  async openEndpoint(opts: OpenEndpointOptions): Promise<MediaEndpoint> {
    const codecs = opts.codecs?.length ? [...opts.codecs] : [...DEFAULT_CODECS];
    for (const c of codecs) if (!(c in CODEC_PT)) throw new MediaError('media.codec_unsupported', `unknown codec "${c}" (PCMU, PCMA, G722)`);
    // Parse first so a bad offer costs no port.
    const offer = opts.remoteSdp !== undefined ? parseRemoteSdp(opts.remoteSdp) : undefined;
    if (offer) {
      negotiate(offer, codecs);
      chooseSrtp(offer, opts.srtp ?? 'off');
    }
    const ep = this.nextEndpoint++;
    const opening = this.command({ op: 'open', ep }) as Promise<{ port: number }>;
    const make = (port: number): BuiltinEndpoint => {
      const e = new BuiltinEndpoint(this, ep, opts.callId, { address: this.sdpAddress, port }, codecs, opts.rtpTimeoutMs ?? this.rtpTimeoutMs, this.log, opts.srtp ?? 'off');
      this.endpoints.set(ep, e);
      return e;
    };
    if (opts.remoteSdp === undefined) {
      const endpoint = make((await opening).port);
      endpoint.makeOffer('sendrecv');
      return endpoint;
    }
    // An offer: its configure leaves with the open, in one message, and the worker answers both in one (the worker
    // holds an endpoint's commands until its open is done). Our answer is written once the open gave the port.
    const endpoint = make(0);
    try {
      await endpoint.setRemoteSdp(opts.remoteSdp, offer, opening);
    } catch (err) {
      if (await opening.then(() => true, () => false)) await endpoint.close();
      else endpoint.markClosed();
      throw err;
    }
    return endpoint;
  }

  /** @internal */
  forget(ep: number): void {
    this.endpoints.delete(ep);
  }
}
