// MediaEngine backed by an rtpengine daemon (ng protocol): endpoints, DTMF from its DTMF log, tone files it can read.
import dgram from 'node:dgram';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SystemClock, silentLogger, type Clock, type Logger, type ModuleHealth, type TimerHandle } from '../../shared/index.js';
import { DEFAULT_RTP_TIMEOUT_MS, MediaError, type MediaAddress, type MediaEngine, type OpenEndpointOptions, type PlayItem } from '../engine.js';
import { dtmfSamples, toneWav, writeWav } from '../sounds/index.js';
import { NgClient } from './ng-client.js';
import { RtpengineEndpoint, TAG_PHONE } from './rtpengine-endpoint.js';

export interface RtpengineEngineOptions {
  /** rtpengine's ng control address (--listen-ng). */
  ng: { host: string; port: number };
  /**
   * Where this engine listens for rtpengine's DTMF log (rtpengine --dtmf-log-dest must point here);
   * false = no DTMF from rtpengine (only SIP INFO via injectDtmf).
   */
  dtmfListen?: { host: string; port: number } | false;
  /** rtpengine's --recording-dir (with --recording-method=pcap); without it, record() emits an error. */
  recordingDir?: string;
  /** Address of the sink socket that takes media of unbridged endpoints (must be reachable from rtpengine). */
  sinkAddress?: string;
  /** Directory for generated tone/silence WAVs (rtpengine reads them: same host). */
  toneDir?: string;
  /**
   * Mark streams for RFC 4733 injection (rtpengine inject-DTMF) so sendDtmf sends events. It makes rtpengine decode
   * every relayed packet (about twice the CPU per call), so it is off by default: sendDtmf then plays in-band tones.
   */
  injectDtmf?: boolean;
  rtpTimeoutMs?: number;
  /** How often the RTP timeout is checked through "query" (default 2 s, or a third of the timeout if shorter). */
  pollMs?: number;
  ngTimeoutMs?: number;
  /** How often rtpengine is pinged so health shows it gone (default 10 s; 0 = never). */
  healthPingMs?: number;
  clock?: Clock;
  logger?: Logger;
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host.startsWith('127.');
}

export class RtpengineEngine implements MediaEngine {
  readonly name = 'media';
  readonly ng: NgClient;
  readonly endpoints = new Map<string, RtpengineEndpoint>();
  private readonly clock: Clock;
  private readonly log: Logger;
  private sink: dgram.Socket | undefined;
  private sinkAddress: MediaAddress | undefined;
  private dtmf: dgram.Socket | undefined;
  private started = false;
  private lastError: string | undefined;
  private pingTimer: TimerHandle | undefined;
  private readonly toneDir: string;
  private readonly toneFiles = new Map<string, string>();
  /** DTMF log lines received (health and tests). */
  dtmfEvents = 0;

  constructor(readonly opts: RtpengineEngineOptions) {
    this.clock = opts.clock ?? new SystemClock();
    this.log = (opts.logger ?? silentLogger).child({ module: 'media', backend: 'rtpengine' });
    this.ng = new NgClient(opts.ng.host, opts.ng.port, opts.ngTimeoutMs ?? 3000);
    this.toneDir = opts.toneDir ?? path.join(os.tmpdir(), `relais-rtpengine-${process.getuid?.() ?? 0}`);
  }

  async start(): Promise<void> {
    if (this.started) return;
    const where = `${this.opts.ng.host}:${this.opts.ng.port}`;
    try {
      await this.ng.send('ping');
    } catch (err) {
      this.ng.close();
      throw new MediaError(
        'media.rtpengine',
        `rtpengine at ${where} does not answer (is it running with --listen-ng=${where}?): ${(err as Error).message}`,
        { cause: err },
      );
    }
    const sinkHost = this.opts.sinkAddress ?? (isLoopback(this.opts.ng.host) ? '127.0.0.1' : '0.0.0.0');
    this.sink = await bindUdp(sinkHost, 0);
    this.sink.on('message', () => {
      /* media of unbridged endpoints: dropped on purpose */
    });
    const port = this.sink.address().port;
    this.sinkAddress = { address: sinkHost === '0.0.0.0' ? localAddressFor(this.opts.ng.host) : sinkHost, port };
    if (this.opts.dtmfListen) {
      try {
        this.dtmf = await bindUdp(this.opts.dtmfListen.host, this.opts.dtmfListen.port);
      } catch (err) {
        this.sink.close();
        throw new MediaError('media.rtpengine', `cannot listen for rtpengine DTMF events on ${this.opts.dtmfListen.host}:${this.opts.dtmfListen.port}: ${(err as Error).message}`);
      }
      this.dtmf.on('message', (msg) => this.onDtmfLog(msg));
    }
    fs.mkdirSync(this.toneDir, { recursive: true });
    this.started = true;
    this.schedulePing();
    this.log.info('rtpengine media backend ready', { rtpengine: where, dtmf: this.opts.dtmfListen || 'off', recordingDir: this.opts.recordingDir ?? 'off' });
  }

  async stop(): Promise<void> {
    if (!this.started) return;
    this.clock.clearTimeout(this.pingTimer);
    this.pingTimer = undefined;
    await Promise.all([...this.endpoints.values()].map((e) => e.close().catch(() => {})));
    this.started = false;
    this.sink?.close();
    this.dtmf?.close();
    this.sink = undefined;
    this.dtmf = undefined;
    this.ng.close();
  }

  health(): ModuleHealth {
    return {
      status: this.started ? (this.lastError ? 'degraded' : 'ok') : 'down',
      detail: { backend: 'rtpengine', rtpengine: `${this.opts.ng.host}:${this.opts.ng.port}`, endpoints: this.endpoints.size, ...(this.lastError ? { lastError: this.lastError } : {}) },
    };
  }

  /** Pings rtpengine now and then: a dead daemon shows as degraded health (calls cannot get media). */
  private schedulePing(): void {
    const every = this.opts.healthPingMs ?? 10_000;
    if (every <= 0) return;
    this.pingTimer = this.clock.setTimeout(() => {
      this.pingTimer = undefined;
      if (!this.started) return;
      this.ng
        .send('ping')
        .then(() => {
          if (this.lastError) this.log.info('rtpengine answers again');
          this.lastError = undefined;
        })
        .catch((err: unknown) => {
          if (!this.lastError) this.log.error('rtpengine does not answer', { error: (err as Error).message });
          this.lastError = (err as Error).message;
        })
        .finally(() => {
          if (this.started) this.schedulePing();
        });
    }, every);
  }

  endpointCount(): number {
    return this.endpoints.size;
  }

  async openEndpoint(opts: OpenEndpointOptions): Promise<RtpengineEndpoint> {
    if (!this.started || !this.sinkAddress) throw new MediaError('media.stopped', 'the rtpengine media backend is not started');
    if (!opts.callId) throw new MediaError('media.endpoint', 'openEndpoint needs a callId');
    const timeout = this.opts.rtpTimeoutMs ?? DEFAULT_RTP_TIMEOUT_MS;
    const ep = new RtpengineEndpoint(
      {
        ng: this.ng,
        clock: this.clock,
        log: this.log,
        sink: this.sinkAddress,
        injectDtmf: this.opts.injectDtmf ?? false,
        recordingDir: this.opts.recordingDir,
        itemFile: (item) => this.itemFile(item),
        dtmfFile: (digits) => this.cachedFile(`dtmf-${digits.replace(/\*/g, 's').replace(/#/g, 'h')}`, () => writeWav(dtmfSamples(digits), 8000, 1)),
        rtpTimeoutMs: timeout,
        pollMs: this.opts.pollMs ?? Math.max(200, Math.min(2000, Math.floor((opts.rtpTimeoutMs ?? timeout) / 3) || 2000)),
        onClosed: (e) => this.endpoints.delete(e.rtpeCallId),
      },
      opts.callId,
      { codecs: opts.codecs, rtpTimeoutMs: opts.rtpTimeoutMs, srtp: opts.srtp },
    );
    this.endpoints.set(ep.rtpeCallId, ep);
    try {
      await ep.init(opts.remoteSdp);
    } catch (err) {
      this.endpoints.delete(ep.rtpeCallId);
      await this.ng.send('delete', { 'call-id': ep.rtpeCallId }).catch(() => {});
      if (err instanceof MediaError && err.code === 'media.rtpengine') this.lastError = err.message;
      throw err;
    }
    this.lastError = undefined;
    return ep;
  }

  /** rtpengine's DTMF log: one JSON object per event, {callid, source_tag, event, duration, ...}. */
  private onDtmfLog(msg: Buffer): void {
    let ev: { callid?: unknown; source_tag?: unknown; event?: unknown };
    try {
      ev = JSON.parse(msg.toString('utf8')) as typeof ev;
    } catch {
      this.log.warn('unreadable DTMF log line from rtpengine', { line: msg.toString('utf8', 0, 200) });
      return;
    }
    this.dtmfEvents++;
    if (typeof ev.callid !== 'string' || typeof ev.event !== 'number') return;
    // Events injected by us toward the phone are logged with our tag: only the phone's own digits count.
    if (ev.source_tag !== TAG_PHONE) return;
    this.endpoints.get(ev.callid)?.receiveDtmf(ev.event);
  }

  /** A WAV for a tone or silence item, generated once into the tone directory. */
  private itemFile(item: Exclude<PlayItem, { file: string }>): string {
    let key: string;
    let make: () => Buffer;
    if ('tone' in item) {
      const country = item.country ?? 'FR';
      // Without a duration a tone lasts until stopped: a minute of it, replayed by the loop option if needed.
      const ms = item.durationMs ?? (item.tone === 'beep' ? 250 : 60_000);
      key = `tone-${item.tone}-${country}-${ms}`;
      make = () => toneWav(item.tone, country, ms);
    } else {
      const ms = Math.max(20, Math.round(item.silenceMs));
      key = `silence-${ms}`;
      make = () => writeWav(new Int16Array(ms * 8), 8000, 1);
    }
    return this.cachedFile(key, make);
  }

  private cachedFile(key: string, make: () => Buffer): string {
    let file = this.toneFiles.get(key);
    if (file && fs.existsSync(file)) return file;
    file = path.join(this.toneDir, `${key}.wav`);
    if (!fs.existsSync(file)) {
      const tmp = `${file}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, make());
      fs.renameSync(tmp, file);
    }
    this.toneFiles.set(key, file);
    return file;
  }
}

function bindUdp(host: string, port: number): Promise<dgram.Socket> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    s.once('error', reject);
    s.bind(port, host, () => {
      s.off('error', reject);
      s.on('error', () => {});
      resolve(s);
    });
  });
}

/** The local IPv4 address this host would use toward `host` (first non-internal interface; loopback for loopback). */
function localAddressFor(host: string): string {
  if (isLoopback(host)) return '127.0.0.1';
  for (const list of Object.values(os.networkInterfaces())) {
    for (const i of list ?? []) if (i.family === 'IPv4' && !i.internal) return i.address;
  }
  return '127.0.0.1';
}
