// Built-in MediaEngine: endpoints on the main thread speak SDP; all RTP lives in one worker_threads worker.
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { Logger, TypedEmitter, silentLogger, type ModuleHealth } from '../shared/index.js';
import {
  DEFAULT_CODECS,
  DEFAULT_RTP_TIMEOUT_MS,
  DEFAULT_TELEPHONE_EVENT_PT,
  CODEC_PT,
  MediaError,
  buildLocalSdp,
  checkDtmfDigits,
  directionReceives,
  directionSends,
  negotiate,
  parseRemoteSdp,
  type Codec,
  type DtmfMethod,
  type MediaAddress,
  type MediaDirection,
  type MediaEndpoint,
  type MediaEndpointEvents,
  type MediaEngine,
  type MediaEngineConfig,
  type Negotiated,
  type OpenEndpointOptions,
  type PlayItem,
  type PlayOptions,
  type PlayResult,
  type RecordOptions,
} from './engine.js';
import type { EndpointConfig, WorkerCommand, WorkerMessage, WorkerStats } from './worker/protocol.js';

type DistributiveOmit<T, K extends keyof T> = T extends unknown ? Omit<T, K> : never;
type CommandBody = DistributiveOmit<WorkerCommand, 'id'>;

export interface BuiltinMediaEngineOptions extends MediaEngineConfig {
  logger?: Logger;
  /** Nice value asked for the media thread (applied only when permitted; 0 = same as the process). */
  workerNice?: number;
}

/** The media thread outranks signalling when the process may raise a thread's priority. */
export const DEFAULT_WORKER_NICE = -10;

/** First non-internal IPv4 address of the machine, for SDP when bound to 0.0.0.0. */
function hostAddress(): string {
  for (const list of Object.values(os.networkInterfaces())) {
    for (const i of list ?? []) if (i.family === 'IPv4' && !i.internal) return i.address;
  }
  return '127.0.0.1';
}

export class BuiltinMediaEngine implements MediaEngine {
  readonly name = 'media';
  private worker: Worker | undefined;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: MediaError) => void }>();
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
  private failed: string | undefined;
  private stopping = false;
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
      },
    });
    this.worker = worker;
    this.failed = undefined;
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => reject(new MediaError('media.worker', `media worker failed to start: ${err.message}`));
      worker.once('error', onError);
      worker.on('message', (m: WorkerMessage) => {
        if (m.type === 'ready') {
          this.workerThread = m.thread;
          this.workerNice = m.nice;
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
    return { status: this.restarts ? 'degraded' : 'ok', detail: { endpoints: this.endpoints.size, thread: this.workerThread, nice: this.workerNice, restarts: this.restarts } };
  }

  endpointCount(): number {
    return this.endpoints.size;
  }

  /** Test hook: ends the worker abruptly, as a crash would. */
  async crashWorkerForTest(): Promise<void> {
    await this.worker?.terminate();
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
      worker.postMessage({ ...body, id } as WorkerCommand);
    });
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
    if (offer) negotiate(offer, codecs);
    const ep = this.nextEndpoint++;
    const { port } = (await this.command({ op: 'open', ep })) as { port: number };
    const endpoint = new BuiltinEndpoint(this, ep, opts.callId, { address: this.sdpAddress, port }, codecs, opts.rtpTimeoutMs ?? this.rtpTimeoutMs, this.log);
    this.endpoints.set(ep, endpoint);
    try {
      if (opts.remoteSdp !== undefined) await endpoint.setRemoteSdp(opts.remoteSdp);
      else endpoint.makeOffer('sendrecv');
    } catch (err) {
      await endpoint.close();
      throw err;
    }
    return endpoint;
  }

  /** @internal */
  forget(ep: number): void {
    this.endpoints.delete(ep);
  }
}

export class BuiltinEndpoint extends TypedEmitter<MediaEndpointEvents> implements MediaEndpoint {
  readonly id: string;
  localSdp = '';
  remoteSdp: string | undefined;
  codec: Codec | undefined;
  closed = false;
  private negotiated: Negotiated | undefined;
  /** Set while our offer awaits its answer. */
  private offered: MediaDirection | undefined;
  private onHold = false;
  private readonly sessionId = String(Math.floor(Math.random() * 1e9));
  private sessionVersion = 0;
  private peer: BuiltinEndpoint | undefined;
  private playSeq = 0;
  private currentPlay: { id: number; interrupt: boolean; resolve: (r: PlayResult) => void } | undefined;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly engine: BuiltinMediaEngine,
    readonly ep: number,
    readonly callId: string,
    readonly local: MediaAddress,
    private readonly codecs: Codec[],
    private readonly rtpTimeoutMs: number,
    private readonly log: Logger,
  ) {
    super();
    this.id = `${callId}#${ep}`;
  }

  private check(): void {
    if (this.closed) throw new MediaError('media.endpoint_closed', `media endpoint ${this.id} is closed`);
  }

  /** @internal: writes our offer with every accepted codec. */
  makeOffer(direction: MediaDirection): string {
    this.offered = direction;
    this.localSdp = buildLocalSdp({
      address: this.local.address,
      port: this.local.port,
      sessionId: this.sessionId,
      sessionVersion: this.sessionVersion++,
      payloads: this.codecs.map((c) => ({ pt: CODEC_PT[c], name: c })),
      telephoneEventPt: DEFAULT_TELEPHONE_EVENT_PT,
      ptime: this.negotiated?.ptime ?? 20,
      direction,
    });
    return this.localSdp;
  }

  async setRemoteSdp(sdp: string): Promise<string> {
    this.check();
    const remote = parseRemoteSdp(sdp);
    const weOffered = this.offered !== undefined;
    const wanted = this.offered ?? (this.onHold ? 'sendonly' : 'sendrecv');
    const n = negotiate(remote, this.codecs, { wantedDirection: wanted, weOffered });
    if (weOffered && this.negotiated === undefined && !this.codecs.includes(n.codec)) {
      throw new MediaError('media.codec_mismatch', `answer chose ${n.codec}, which we did not offer`);
    }
    this.offered = undefined;
    this.negotiated = n;
    this.remoteSdp = sdp;
    this.codec = n.codec;
    if (!weOffered) {
      // Our answer: only the chosen codec (so the remote cannot switch mid-call) and telephone-event if offered.
      this.localSdp = buildLocalSdp({
        address: this.local.address,
        port: this.local.port,
        sessionId: this.sessionId,
        sessionVersion: this.sessionVersion++,
        payloads: [{ pt: n.pt, name: n.codec }],
        telephoneEventPt: n.telephoneEventPt,
        ptime: n.ptime,
        direction: n.direction,
      });
    }
    await this.engine.command({ op: 'configure', ep: this.ep, cfg: this.workerConfig(n) });
    return this.localSdp;
  }

  private workerConfig(n: Negotiated): EndpointConfig {
    const remoteDir = n.remote.direction;
    return {
      remoteAddress: n.remote.address,
      remotePort: n.remote.port,
      remoteRtcpPort: n.remote.rtcpPort,
      codec: n.codec,
      pt: n.pt,
      tePt: n.telephoneEventPt ?? -1,
      ptime: n.ptime,
      send: directionSends(n.direction) && directionReceives(remoteDir) && n.remote.port !== 0,
      expectRtp: directionReceives(n.direction) && directionSends(remoteDir),
      rtpTimeoutMs: this.rtpTimeoutMs,
    };
  }

  async bridge(other: MediaEndpoint): Promise<void> {
    this.check();
    if (!(other instanceof BuiltinEndpoint) || other.engine !== this.engine) {
      throw new MediaError('media.bridge_invalid', 'can only bridge endpoints of the same built-in media engine');
    }
    other.check();
    if (this.codec && other.codec && this.codec !== other.codec && (this.codec === 'G722' || other.codec === 'G722')) {
      throw new MediaError('media.codec_mismatch', `cannot bridge ${this.codec} with ${other.codec}: G.722 is relayed only between G.722 legs`);
    }
    await this.engine.command({ op: 'bridge', ep: this.ep, other: other.ep });
    if (this.peer && this.peer !== other) this.peer.peer = undefined;
    if (other.peer && other.peer !== this) other.peer.peer = undefined;
    this.peer = other;
    other.peer = this;
  }

  async unbridge(): Promise<void> {
    if (this.closed) return;
    await this.engine.command({ op: 'unbridge', ep: this.ep });
    if (this.peer) this.peer.peer = undefined;
    this.peer = undefined;
  }

  async play(items: PlayItem[], opts: PlayOptions = {}): Promise<PlayResult> {
    this.check();
    if (!Array.isArray(items) || items.length === 0) throw new MediaError('media.play_invalid', 'play needs at least one item');
    const id = ++this.playSeq;
    const done = new Promise<PlayResult>((resolve) => {
      this.currentPlay?.resolve('stopped');
      this.currentPlay = { id, interrupt: !!opts.interruptOnDtmf, resolve };
    });
    try {
      await this.engine.command({ op: 'play', ep: this.ep, play: id, items, loop: !!opts.loop, interrupt: !!opts.interruptOnDtmf });
    } catch (err) {
      if (this.currentPlay?.id === id) this.currentPlay = undefined;
      throw err;
    }
    return done;
  }

  stopPlay(): void {
    if (this.closed || !this.currentPlay) return;
    this.engine.command({ op: 'stopPlay', ep: this.ep, result: 'stopped' }).catch(() => {});
  }

  /** @internal */
  onPlayDone(play: number, result: PlayResult): void {
    const p = this.currentPlay;
    if (!p || p.id !== play) return;
    this.currentPlay = undefined;
    p.resolve(result);
    this.emit('playDone', result);
  }

  record(file: string, opts: RecordOptions): void {
    this.check();
    if (!['in', 'out', 'both'].includes(opts.direction)) {
      throw new MediaError('media.record_invalid', `record direction "${String(opts.direction)}" is not in, out or both`);
    }
    this.engine
      .command({ op: 'record', ep: this.ep, file, direction: opts.direction, stereo: !!opts.stereo && opts.direction === 'both' })
      .catch((err: MediaError) => this.emitError(err));
  }

  async stopRecord(): Promise<void> {
    if (this.closed) return;
    await this.engine.command({ op: 'stopRecord', ep: this.ep });
  }

  async sendDtmf(digits: string): Promise<void> {
    this.check();
    const d = checkDtmfDigits(digits);
    if (!d) return;
    await this.engine.command({ op: 'sendDtmf', ep: this.ep, digits: d });
  }

  async hold(on: boolean): Promise<string> {
    this.check();
    this.onHold = on;
    const remoteDir = this.negotiated?.remote.direction ?? 'sendrecv';
    // RFC 6337 §5.3: hold offers sendonly, or inactive when the remote already sends nothing.
    const dir: MediaDirection = on ? (directionSends(remoteDir) ? 'sendonly' : 'inactive') : 'sendrecv';
    return this.makeOffer(dir);
  }

  injectDtmf(digit: string, method: DtmfMethod): void {
    if (this.closed) return;
    const d = checkDtmfDigits(digit);
    for (const c of d) this.emitDtmf(c, method);
  }

  /** @internal */
  emitDtmf(digit: string, method: DtmfMethod): void {
    this.emit('dtmf', digit, { method });
    // The worker interrupts on digits it detects itself; INFO digits arrive here.
    if (method === 'info' && this.currentPlay?.interrupt) {
      this.engine.command({ op: 'stopPlay', ep: this.ep, result: 'interrupted' }).catch(() => {});
    }
  }

  /** @internal: an `error` event with no listener would throw, so log instead. */
  emitError(err: MediaError): void {
    if (this.listenerCount('error') > 0) this.emit('error', err);
    else this.log.warn('media endpoint error', { endpoint: this.id, code: err.code, error: err.message });
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      try {
        await this.engine.command({ op: 'close', ep: this.ep });
      } catch {
        /* worker gone: nothing left to release */
      }
      this.markClosed();
    })();
    return this.closing;
  }

  /** @internal */
  markClosed(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.peer) this.peer.peer = undefined;
    this.peer = undefined;
    this.currentPlay?.resolve('stopped');
    this.currentPlay = undefined;
    this.engine.forget(this.ep);
    this.emit('closed');
  }
}
