// Built-in media endpoint: SDP offer/answer on the main thread, everything RTP delegated to the media worker.
import { TypedEmitter, type Logger } from '../shared/index.js';
import {
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
  type Negotiated,
  type PlayItem,
  type PlayOptions,
  type PlayResult,
  type RecordOptions,
  type RemoteAudio,
} from './engine.js';
import type { BuiltinMediaEngine } from './builtin-engine.js';
import type { EndpointConfig } from './worker/protocol.js';
import { newSdesKey, offerCrypto, type SrtpKeys, type SrtpPolicy } from './sdes.js';
import { answerCrypto, chooseSrtp, srtpProfile } from './srtp-negotiation.js';

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
  /** Our SDES master key and salt on this leg (one for the endpoint's life), and the keys in force. */
  private sdesKeyValue: string | undefined;
  private srtpKeys: SrtpKeys | undefined;
  private srtpProfileInUse: 'RTP/AVP' | 'RTP/SAVP' | undefined;

  constructor(
    private readonly engine: BuiltinMediaEngine,
    readonly ep: number,
    readonly callId: string,
    readonly local: MediaAddress,
    private readonly codecs: Codec[],
    private readonly rtpTimeoutMs: number,
    private readonly log: Logger,
    private readonly srtpPolicy: SrtpPolicy = 'off',
  ) {
    super();
    this.id = `${callId}#${ep}`;
  }

  /** Made when first needed: 30 random bytes per endpoint were a visible cost of a call set-up without SRTP. */
  private get sdesKey(): string {
    return (this.sdesKeyValue ??= newSdesKey());
  }

  get secure(): boolean {
    return this.srtpKeys !== undefined;
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
      // A leg already on SRTP stays on it in re-offers (hold, resume), whatever the policy.
      ...(this.srtpPolicy !== 'off' || this.srtpKeys ? { profile: srtpProfile(this.srtpPolicy, this.srtpKeys ? this.srtpProfileInUse : undefined), crypto: offerCrypto(this.sdesKey) } : {}),
    });
    return this.localSdp;
  }

  /**
   * `parsed`: the same SDP already parsed (the engine checks an offer before it spends a port on it). `opening`: the
   * endpoint's open, still on its way (the engine sends this configure with it); our answer waits for its port.
   */
  async setRemoteSdp(sdp: string, parsed?: RemoteAudio, opening?: Promise<{ port: number }>): Promise<string> {
    this.check();
    const remote = parsed ?? parseRemoteSdp(sdp);
    const weOffered = this.offered !== undefined;
    const wanted = this.offered ?? (this.onHold ? 'sendonly' : 'sendrecv');
    const n = negotiate(remote, this.codecs, { wantedDirection: wanted, weOffered });
    if (weOffered && this.negotiated === undefined && !this.codecs.includes(n.codec)) {
      throw new MediaError('media.codec_mismatch', `answer chose ${n.codec}, which we did not offer`);
    }
    // An answer's crypto must be one we offered (its tag names our line); an offer's is chosen by us.
    const chosen = chooseSrtp(remote, this.srtpPolicy, weOffered && this.localSdp.includes('a=crypto:'));
    const srtpKeys = chosen ? { suite: chosen.suite, tx: this.sdesKey, rx: chosen.key } : undefined;
    this.offered = undefined;
    this.negotiated = n;
    this.srtpKeys = srtpKeys;
    if (chosen && !weOffered) this.srtpProfileInUse = remote.profile;
    else if (chosen) this.srtpProfileInUse ??= srtpProfile(this.srtpPolicy, undefined);
    this.remoteSdp = sdp;
    this.codec = n.codec;
    const configured = this.engine.command({ op: 'configure', ep: this.ep, cfg: this.workerConfig(n) });
    if (opening) {
      const [opened] = await Promise.all([opening, configured]);
      this.local.port = opened.port;
    }
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
        ...(chosen ? { profile: remote.profile, crypto: [answerCrypto(chosen, this.sdesKey)] } : {}),
      });
    }
    if (!opening) await configured;
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
      srtp: this.srtpKeys ?? null,
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
