// One media leg on rtpengine: its own rtpengine call with two monologues, the phone ("phone" tag) and Relais ("relais").
import fs from 'node:fs';
import path from 'node:path';
import { TypedEmitter, randomToken, type Clock, type Logger, type TimerHandle } from '../../shared/index.js';
import {
  MediaError,
  buildLocalSdp,
  checkDtmfDigits,
  negotiate,
  parseRemoteSdp,
  DEFAULT_CODECS,
  DEFAULT_TELEPHONE_EVENT_PT,
  CODEC_PT,
  type Codec,
  type DtmfMethod,
  type MediaAddress,
  type MediaDirection,
  type MediaEndpoint,
  type MediaEndpointEvents,
  type PlayItem,
  type PlayOptions,
  type PlayResult,
  type RecordOptions,
} from '../engine.js';
import { parseWav, wavHeader, writeWav } from '../sounds/index.js';
import type { SrtpPolicy } from '../sdes.js';
import { requireSdes } from '../srtp-negotiation.js';
import type { NgClient } from './ng-client.js';
import type { NgParams, NgResponse } from 'rtpengine-client';
import { interleave, LiveTrack, mixTracks, PcapStream, readPcapRtp, tracksFromCapture } from './pcap-to-wav.js';

/*
 * How an endpoint maps onto rtpengine (which is a proxy between two parties, not a media server):
 *
 *   phone ──RTP── [rtpengine call "<callId>~<token>": monologue "phone" | monologue "relais"] ──RTP── X target
 *
 * The "relais" side (X) is described by an SDP we write. Its target is a sink socket of the engine while the
 * endpoint stands alone (IVR, prompts), or the X port of another endpoint's rtpengine call while bridged:
 * rtpengine then relays phone A → call A → call B → phone B (one hairpin hop inside rtpengine). This keeps every
 * endpoint independent (open, bridge, unbridge, re-bridge, close in any order), at the cost of a second relay
 * inside rtpengine. `port-latching` keeps the phone-facing ports stable while X is re-pointed.
 *
 * play media with from-tag "phone" is heard by the phone; play DTMF with from-tag "relais" is sent to the phone
 * (needs inject-DTMF); DTMF from the phone arrives through rtpengine's --dtmf-log-dest with source_tag "phone".
 */
export const TAG_PHONE = 'phone';
export const TAG_RELAIS = 'relais';

/** Rounds rtpengine plays a looped single sound before we ask again (a 1-minute sound: about 17 hours). */
const LOOP_REPEATS = 1000;
/** Longest delay a Node timer takes (2^31 - 1 ms); longer ones would fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** rtpengine's RFC 4733 event codes → digits. */
const EVENT_DIGITS = '0123456789*#ABCD';

export interface EndpointContext {
  ng: NgClient;
  clock: Clock;
  log: Logger;
  /** Where X media goes while the endpoint is not bridged. */
  sink: MediaAddress;
  injectDtmf: boolean;
  recordingDir: string | undefined;
  /** Makes (or reuses) a WAV file for a tone or silence item that rtpengine can read. */
  itemFile: (item: Exclude<PlayItem, { file: string }>) => string;
  /** A WAV of in-band DTMF tones for `digits`. */
  dtmfFile: (digits: string) => string;
  rtpTimeoutMs: number;
  pollMs: number;
  onClosed: (ep: RtpengineEndpoint) => void;
}

interface Playing {
  resolve: (r: PlayResult) => void;
  interruptOnDtmf: boolean;
  timer: TimerHandle | undefined;
  wake: (() => void) | undefined;
  done: boolean;
}

/**
 * Suites rtpengine would add to our offers besides RFC 4568's AES_CM_128_HMAC_SHA1_80/_32, left out: desk phones do
 * those two; offered everything, baresip 1.0 chose a suite with a 16-byte tag and could not decrypt what rtpengine sent.
 */
const SDES_SUITES_OFF = [
  'no-AEAD_AES_256_GCM', 'no-AEAD_AES_128_GCM', 'no-AES_256_CM_HMAC_SHA1_80', 'no-AES_256_CM_HMAC_SHA1_32',
  'no-AES_192_CM_HMAC_SHA1_80', 'no-AES_192_CM_HMAC_SHA1_32', 'no-F8_128_HMAC_SHA1_80', 'no-F8_128_HMAC_SHA1_32',
  'no-NULL_HMAC_SHA1_80', 'no-NULL_HMAC_SHA1_32',
];

function audioAddress(sdp: string): MediaAddress {
  const a = parseRemoteSdp(sdp);
  return { address: a.address, port: a.port };
}

export class RtpengineEndpoint extends TypedEmitter<MediaEndpointEvents> implements MediaEndpoint {
  readonly id: string;
  readonly rtpeCallId: string;
  localSdp = '';
  remoteSdp: string | undefined;
  local: MediaAddress = { address: '0.0.0.0', port: 0 };
  codec: Codec | undefined;
  closed = false;
  peer: RtpengineEndpoint | undefined;
  /** The codec on the hairpin between two bridged calls (both X sides speak it; rtpengine transcodes a leg that differs). */
  hairpinCodec: Codec | undefined;

  /** Where rtpengine receives X media for this call (known once both sides negotiated). */
  xLocal: MediaAddress | undefined;
  private readonly codecs: readonly Codec[];
  /** Codecs in the X SDP: ours, or those of the phone's offer in its order (so rtpengine's answer keeps its preference). */
  private xCodecs: readonly Codec[];
  private awaitingAnswer = false;
  private established = false;
  private offerer: 'phone' | 'relais' = 'phone';
  private xDirection: MediaDirection = 'sendrecv';
  private xApplied = '';
  private xVersion = 1;
  private readonly xSessionId = String(Math.floor(Math.random() * 1e9));
  private queue: Promise<unknown> = Promise.resolve();
  private mediaOps: Promise<unknown> = Promise.resolve();
  private playing: Playing | undefined;
  private recording: { file: string; opts: RecordOptions; live: LiveRecording | undefined } | undefined;
  private pollTimer: TimerHandle | undefined;
  private lastPackets = -1;
  private lastChangeAt = 0;
  private timedOut = false;
  private readonly rtpTimeoutMs: number;

  constructor(
    private readonly ctx: EndpointContext,
    readonly callId: string,
    opts: { codecs?: readonly Codec[] | undefined; rtpTimeoutMs?: number | undefined; srtp?: SrtpPolicy | undefined },
  ) {
    super();
    this.id = randomToken(6);
    this.rtpeCallId = `${callId}~${this.id}`;
    this.codecs = opts.codecs?.length ? opts.codecs : DEFAULT_CODECS;
    this.xCodecs = this.codecs;
    this.rtpTimeoutMs = opts.rtpTimeoutMs ?? ctx.rtpTimeoutMs;
    this.srtpPolicy = opts.srtp ?? 'off';
  }

  private readonly srtpPolicy: SrtpPolicy;

  /** SDES-SRTP runs on the phone side (rtpengine encrypts and decrypts it; the X side is always plain RTP). */
  get secure(): boolean {
    return this.localSdp.includes('a=crypto:') && (this.remoteSdp?.includes('a=crypto:') ?? false);
  }

  /**
   * ng options for SDES on the phone side (docs/rtpengine.md): a phone's offer reaches the X side as plain RTP/AVP
   * without a=crypto, and an OSRTP offer (RTP/AVP with a=crypto) is still answered with SRTP; our offers to the
   * phone are RTP/SAVP when SRTP is required, OSRTP when optional; never DTLS-SRTP (desk phones do SDES).
   */
  private srtpOfferParams(from: 'phone' | 'relais'): NgParams {
    if (from === 'phone') return { 'transport protocol': 'RTP/AVP', SDES: ['off'], DTLS: 'off' };
    if (this.srtpPolicy === 'mandatory') return { 'transport protocol': 'RTP/SAVP', DTLS: 'off', SDES: SDES_SUITES_OFF };
    if (this.srtpPolicy === 'optional') return { OSRTP: ['offer'], DTLS: 'off', SDES: SDES_SUITES_OFF };
    return {};
  }

  // ---------------------------------------------------------------- signalling (offer/answer on rtpengine)

  /** First negotiation: answer the phone's offer, or make our offer. */
  async init(remoteSdp: string | undefined): Promise<void> {
    if (remoteSdp !== undefined) await this.serial(() => this.applyPhoneOffer(remoteSdp));
    else await this.serial(() => this.makeOffer());
    this.startRtpWatch();
  }

  setRemoteSdp(sdp: string): Promise<string> {
    if (this.closed) return Promise.reject(this.closedError());
    return this.serial(async () => {
      if (this.awaitingAnswer) await this.applyPhoneAnswer(sdp);
      else await this.applyPhoneOffer(sdp);
      return this.localSdp;
    }).then(async (local) => {
      if (this.peer) await this.peer.refreshX();
      return local;
    });
  }

  hold(on: boolean): Promise<string> {
    if (this.closed) return Promise.reject(this.closedError());
    return this.serial(async () => {
      this.xDirection = on ? 'sendonly' : 'sendrecv';
      await this.makeOffer();
      return this.localSdp;
    });
  }

  private flags(): string[] {
    return this.ctx.injectDtmf ? ['port-latching', 'inject-DTMF'] : ['port-latching'];
  }

  private common(): NgParams {
    return { 'call-id': this.rtpeCallId, flags: this.flags(), ICE: 'remove', 'record call': 'no' };
  }

  /** Offers may be answered with any of our codecs: rtpengine then transcodes (PCMU<->PCMA across a bridge). */
  private offerParams(): NgParams {
    return { ...this.common(), codec: { transcode: [...this.codecs] } };
  }

  /** The SDP of the Relais side: where rtpengine sends the phone's media (sink or the bridged peer). */
  private xSdp(): string {
    const target = this.peer?.xLocal ?? this.ctx.sink;
    return buildLocalSdp({
      address: target.address,
      port: target.port,
      sessionId: this.xSessionId,
      sessionVersion: this.xVersion++,
      payloads: (this.hairpinCodec ? [this.hairpinCodec] : this.xCodecs).map((c) => ({ pt: CODEC_PT[c], name: c })),
      telephoneEventPt: DEFAULT_TELEPHONE_EVENT_PT,
      ptime: 20,
      direction: this.xDirection,
    });
  }

  private xKey(): string {
    const t = this.peer?.xLocal ?? this.ctx.sink;
    return `${t.address}:${t.port}/${this.xDirection}/${this.hairpinCodec ?? ''}`;
  }

  private async applyPhoneOffer(sdp: string): Promise<void> {
    const remote = parseRemoteSdp(sdp);
    negotiate(remote, this.codecs);
    const offered = remote.payloads.map((p) => p.name).filter((n): n is Codec => (this.codecs as readonly string[]).includes(n));
    this.xCodecs = [...new Set(offered)];
    requireSdes(remote, sdp, this.srtpPolicy);
    const r1 = await this.ng('offer', { ...this.offerParams(), ...this.srtpOfferParams('phone'), 'from-tag': TAG_PHONE, ...(this.established ? { 'to-tag': TAG_RELAIS } : {}), sdp });
    this.xLocal = audioAddress(String(r1.sdp));
    const key = this.xKey();
    const r2 = await this.ng('answer', { ...this.common(), OSRTP: ['accept'], 'from-tag': TAG_PHONE, 'to-tag': TAG_RELAIS, sdp: this.xSdp() });
    this.xApplied = key;
    this.offerer = 'phone';
    this.awaitingAnswer = false;
    this.established = true;
    this.remoteSdp = sdp;
    this.setLocal(String(r2.sdp));
    this.codec = this.firstCodec(this.localSdp);
  }

  private async makeOffer(): Promise<void> {
    if (!this.established) this.xCodecs = this.codecs;
    const key = this.xKey();
    const r = await this.ng('offer', { ...this.offerParams(), ...this.srtpOfferParams('relais'), 'from-tag': TAG_RELAIS, ...(this.established ? { 'to-tag': TAG_PHONE } : {}), sdp: this.xSdp() });
    this.xApplied = key;
    this.offerer = 'relais';
    this.awaitingAnswer = true;
    this.setLocal(String(r.sdp));
  }

  private async applyPhoneAnswer(sdp: string): Promise<void> {
    const remote = parseRemoteSdp(sdp);
    negotiate(remote, this.codecs, { weOffered: true });
    requireSdes(remote, sdp, this.srtpPolicy);
    const r = await this.ng('answer', { ...this.common(), 'from-tag': TAG_RELAIS, 'to-tag': TAG_PHONE, sdp });
    this.xLocal = audioAddress(String(r.sdp));
    this.awaitingAnswer = false;
    this.established = true;
    this.remoteSdp = sdp;
    this.codec = this.firstCodec(sdp);
  }

  /** Re-points the X side (after bridge/unbridge) without touching what the phone sees. */
  refreshX(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return this.serial(async () => {
      if (this.closed || !this.established || this.awaitingAnswer || this.xKey() === this.xApplied) return;
      const key = this.xKey();
      if (this.offerer === 'phone') {
        // The phone's offer is replayed (ports kept by port-latching) so rtpengine can set up transcoding when the
        // X side now answers with another codec; a bare re-answer would not.
        const r1 = await this.ng('offer', { ...this.offerParams(), ...this.srtpOfferParams('phone'), 'from-tag': TAG_PHONE, 'to-tag': TAG_RELAIS, sdp: this.remoteSdp! });
        this.xLocal = audioAddress(String(r1.sdp));
        await this.ng('answer', { ...this.common(), OSRTP: ['accept'], 'from-tag': TAG_PHONE, 'to-tag': TAG_RELAIS, sdp: this.xSdp() });
      } else {
        await this.ng('offer', { ...this.offerParams(), ...this.srtpOfferParams('relais'), 'from-tag': TAG_RELAIS, 'to-tag': TAG_PHONE, sdp: this.xSdp() });
        const r = await this.ng('answer', { ...this.common(), 'from-tag': TAG_RELAIS, 'to-tag': TAG_PHONE, sdp: this.remoteSdp! });
        this.xLocal = audioAddress(String(r.sdp));
      }
      this.xApplied = key;
    });
  }

  private setLocal(sdp: string): void {
    this.localSdp = sdp;
    this.local = audioAddress(sdp);
  }

  private firstCodec(sdp: string): Codec | undefined {
    const name = parseRemoteSdp(sdp).payloads.find((p) => p.name === 'PCMU' || p.name === 'PCMA' || p.name === 'G722')?.name;
    return name as Codec | undefined;
  }

  // ---------------------------------------------------------------- bridging

  async bridge(other: MediaEndpoint): Promise<void> {
    this.checkOpen();
    if (!(other instanceof RtpengineEndpoint)) throw new MediaError('media.bridge', 'can only bridge endpoints of the same rtpengine engine');
    if (other === this) throw new MediaError('media.bridge', 'cannot bridge an endpoint to itself');
    if (other.closed) throw new MediaError('media.closed', `endpoint ${other.id} is closed`);
    if (this.peer === other) return;
    if (this.peer) await this.unbridge();
    if (other.peer) await other.unbridge();
    this.peer = other;
    other.peer = this;
    this.hairpinCodec = other.hairpinCodec = other.codec ?? this.codec;
    await Promise.all([this.refreshX(), other.refreshX()]);
  }

  async unbridge(): Promise<void> {
    const p = this.peer;
    if (!p) return;
    this.peer = undefined;
    this.hairpinCodec = undefined;
    if (p.peer === this) {
      p.peer = undefined;
      p.hairpinCodec = undefined;
    }
    await Promise.all([this.refreshX(), p.refreshX()]);
  }

  // ---------------------------------------------------------------- playback

  play(items: PlayItem[], opts: PlayOptions = {}): Promise<PlayResult> {
    if (this.closed) return Promise.reject(this.closedError());
    if (this.playing) this.finishPlay('stopped', true);
    const p: Playing = { resolve: () => {}, interruptOnDtmf: opts.interruptOnDtmf ?? false, timer: undefined, wake: undefined, done: false };
    const promise = new Promise<PlayResult>((resolve) => (p.resolve = resolve));
    this.playing = p;
    void this.runPlay(p, items, opts.loop ?? false);
    return promise;
  }

  private async runPlay(p: Playing, items: PlayItem[], loop: boolean): Promise<void> {
    try {
      do {
        let played = 0;
        for (const item of items) {
          if (p.done) return;
          let file: string;
          try {
            // rtpengine opens the file itself, from its own working directory: always an absolute path.
            file = path.resolve('file' in item ? item.file : this.ctx.itemFile(item));
            fs.accessSync(file, fs.constants.R_OK);
          } catch (err) {
            this.emit('error', new MediaError('media.play_file', `cannot play ${'file' in item ? `"${item.file}"` : JSON.stringify(item)}: ${(err as Error).message}`));
            continue;
          }
          // A looped single sound (music on hold) is repeated by rtpengine itself: no gap between rounds.
          const repeat = loop && items.length === 1 ? LOOP_REPEATS : 1;
          let res: NgResponse;
          try {
            res = await this.mediaSerial(() => (p.done ? Promise.resolve<NgResponse>({}) : this.ng('playMedia', { 'call-id': this.rtpeCallId, 'from-tag': TAG_PHONE, file, ...(repeat > 1 ? { 'repeat-times': repeat } : {}) })));
          } catch (err) {
            // A file rtpengine cannot decode is reported; the rest of the sequence still plays.
            if (p.done) return;
            this.emit('error', err instanceof MediaError ? err : new MediaError('media.play', (err as Error).message));
            continue;
          }
          if (p.done) return;
          const duration = (typeof res.duration === 'number' && res.duration > 0 ? res.duration : wavDurationMs(file)) * repeat;
          played++;
          // rtpengine does not report the end of a playback: wait for its announced duration (+ one packet).
          await new Promise<void>((resolve) => {
            p.wake = resolve;
            p.timer = this.ctx.clock.setTimeout(resolve, Math.min(duration + 20, MAX_TIMER_MS));
          });
          p.timer = undefined;
          p.wake = undefined;
        }
        if (!played) break; // nothing playable: do not spin on a loop
      } while (loop && !p.done);
      if (!p.done) this.finishPlay('done', false);
    } catch (err) {
      if (!p.done) {
        this.emit('error', err instanceof MediaError ? err : new MediaError('media.play', (err as Error).message));
        this.finishPlay('stopped', false);
      }
    }
  }

  private finishPlay(result: PlayResult, stopMedia: boolean): void {
    const p = this.playing;
    if (!p || p.done) return;
    p.done = true;
    this.playing = undefined;
    this.ctx.clock.clearTimeout(p.timer);
    p.wake?.();
    if (stopMedia && !this.closed) {
      this.mediaSerial(() => this.ng('stopMedia', { 'call-id': this.rtpeCallId, 'from-tag': TAG_PHONE })).catch(() => {
        /* nothing playing any more: fine */
      });
    }
    p.resolve(result);
    this.emit('playDone', result);
  }

  stopPlay(): void {
    this.finishPlay('stopped', true);
  }

  // ---------------------------------------------------------------- DTMF

  /** A digit from the phone (rtpengine's DTMF log) or from SIP INFO. */
  receiveDtmf(event: number, method: DtmfMethod = 'rfc4733'): void {
    const digit = EVENT_DIGITS[event];
    if (digit === undefined || this.closed) return;
    this.injectDtmf(digit, method);
  }

  injectDtmf(digit: string, method: DtmfMethod): void {
    if (this.closed) return;
    this.emit('dtmf', digit, { method });
    if (this.playing?.interruptOnDtmf) this.finishPlay('interrupted', true);
  }

  async sendDtmf(digits: string): Promise<void> {
    this.checkOpen();
    const d = checkDtmfDigits(digits);
    if (this.ctx.injectDtmf && this.remoteTelephoneEvent()) {
      try {
        for (const c of d) {
          await this.ng('playDTMF', { 'call-id': this.rtpeCallId, 'from-tag': TAG_RELAIS, code: c, duration: 100, volume: 10 });
          // Keep digits apart (RFC 4733 §2.5.1.5: events are separate when there is a pause between them).
          await new Promise<void>((r) => this.ctx.clock.setTimeout(r, 160));
        }
        return;
      } catch (err) {
        // rtpengine injects events into the RTP stream it relays toward the phone; with nothing relayed yet
        // (an unbridged leg) it has no stream to inject into: fall back to in-band tones.
        if (!(err instanceof MediaError) || !/SSRC/i.test(err.message)) throw err;
      }
    }
    const file = this.ctx.dtmfFile(d);
    await this.play([{ file }]);
  }

  private phoneSends(): boolean {
    try {
      const d = this.remoteSdp === undefined ? 'sendrecv' : parseRemoteSdp(this.remoteSdp).direction;
      return d === 'sendrecv' || d === 'sendonly';
    } catch {
      return true;
    }
  }

  private remoteTelephoneEvent(): boolean {
    try {
      return this.remoteSdp !== undefined && parseRemoteSdp(this.remoteSdp).telephoneEventPt !== undefined;
    } catch {
      return false;
    }
  }

  // ---------------------------------------------------------------- recording (rtpengine pcap → WAV)

  record(file: string, opts: RecordOptions): void {
    this.checkOpen();
    if (!this.ctx.recordingDir) {
      this.emit('error', new MediaError('media.record_unsupported', 'recording with rtpengine needs its recording directory (--rtpengine-recording-dir / RELAIS_RTPENGINE_RECORDING_DIR = rtpengine --recording-dir, --recording-method=pcap)'));
      return;
    }
    const rec: NonNullable<typeof this.recording> = { file, opts, live: undefined };
    this.recording = rec;
    this.ng('startRecording', { 'call-id': this.rtpeCallId })
      .then(() => {
        // One direction is also written as it arrives (voicemail watches the growing file for silence);
        // the final file is rebuilt from the whole capture at stopRecord.
        if (this.recording === rec && opts.direction !== 'both') rec.live = this.startLive(rec.file, opts.direction === 'in' ? this.local.port : this.xLocal?.port ?? -1);
      })
      .catch((err: unknown) => {
        if (this.recording === rec) this.recording = undefined;
        this.emit('error', err instanceof MediaError ? err : new MediaError('media.record', String(err)));
      });
  }

  private startLive(file: string, port: number): LiveRecording | undefined {
    let fd: number;
    try {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fd = fs.openSync(file, 'w');
      fs.writeSync(fd, wavHeader({ sampleRate: 8000, channels: 1, bitsPerSample: 16, dataLength: 0 }));
    } catch (err) {
      this.emit('error', new MediaError('media.record', `cannot write ${file}: ${(err as Error).message}`));
      return undefined;
    }
    const live: LiveRecording = { fd, timer: undefined, stream: new PcapStream(), track: new LiveTrack(port), pcap: undefined, offset: 0 };
    const pcapDir = path.join(this.ctx.recordingDir!, 'pcaps');
    const tick = (): void => {
      live.timer = undefined;
      try {
        live.pcap ??= fs.readdirSync(pcapDir).find((n) => n.startsWith(`${this.rtpeCallId}-`) && n.endsWith('.pcap'));
        if (live.pcap) {
          const size = fs.statSync(path.join(pcapDir, live.pcap)).size;
          if (size > live.offset) {
            const chunk = Buffer.alloc(size - live.offset);
            const pfd = fs.openSync(path.join(pcapDir, live.pcap), 'r');
            fs.readSync(pfd, chunk, 0, chunk.length, live.offset);
            fs.closeSync(pfd);
            live.offset = size;
            // Each packet goes where its timestamp says (a late one fills its place; a gap reads as silence).
            for (const { at, samples } of live.track.add(live.stream.push(chunk))) {
              fs.writeSync(live.fd, Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength), 0, samples.byteLength, 44 + at * 2);
            }
          }
        }
      } catch (err) {
        this.emit('error', new MediaError('media.record', `recording to ${file}: ${(err as Error).message}`));
        closeLive(live);
        return;
      }
      live.timer = this.ctx.clock.setTimeout(tick, 250);
    };
    live.timer = this.ctx.clock.setTimeout(tick, 250);
    return live;
  }

  async stopRecord(): Promise<void> {
    const rec = this.recording;
    if (!rec) return;
    this.recording = undefined;
    if (rec.live) {
      this.ctx.clock.clearTimeout(rec.live.timer);
      closeLive(rec.live);
    }
    try {
      if (!this.closed) await this.ng('stopRecording', { 'call-id': this.rtpeCallId });
      await this.convertRecording(rec.file, rec.opts);
    } catch (err) {
      this.emit('error', err instanceof MediaError ? err : new MediaError('media.record', `recording to ${rec.file} failed: ${(err as Error).message}`));
    }
  }

  private async convertRecording(file: string, opts: RecordOptions): Promise<void> {
    const pcapDir = path.join(this.ctx.recordingDir!, 'pcaps');
    const prefix = `${this.rtpeCallId}-`;
    const names = fs.readdirSync(pcapDir).filter((n) => n.startsWith(prefix) && n.endsWith('.pcap'));
    if (!names.length) throw new MediaError('media.record', `rtpengine wrote no capture for ${this.rtpeCallId} in ${pcapDir}`);
    const packets = names.flatMap((n) => readPcapRtp(fs.readFileSync(path.join(pcapDir, n))));
    const [inTrack, outTrack] = tracksFromCapture(packets, [this.local.port, this.xLocal?.port ?? -1]);
    let samples: Int16Array;
    let channels = 1;
    if (opts.direction === 'in') samples = inTrack!;
    else if (opts.direction === 'out') samples = outTrack!;
    else if (opts.stereo) {
      samples = interleave(inTrack!, outTrack!);
      channels = 2;
    } else samples = mixTracks(inTrack!, outTrack!);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const tmp = `${file}.${randomToken(4)}.tmp`;
    try {
      fs.writeFileSync(tmp, writeWav(samples, 8000, channels));
      fs.renameSync(tmp, file);
    } finally {
      fs.rmSync(tmp, { force: true });
    }
    for (const n of names) {
      fs.rmSync(path.join(pcapDir, n), { force: true });
      fs.rmSync(path.join(this.ctx.recordingDir!, 'metadata', `rtpengine-meta-${n.replace(/\.pcap$/, '')}.txt`), { force: true });
    }
  }

  // ---------------------------------------------------------------- RTP timeout (polled through "query")

  private startRtpWatch(): void {
    if (this.rtpTimeoutMs <= 0) return;
    this.lastChangeAt = this.ctx.clock.monotonic();
    const tick = (): void => {
      this.pollTimer = undefined;
      if (this.closed || this.timedOut) return;
      this.ng('query', { 'call-id': this.rtpeCallId })
        .then((q) => {
          const packets = phonePackets(q);
          const now = this.ctx.clock.monotonic();
          // On hold either way (we asked the phone to only receive, or it said it will not send) silence is expected.
          if (packets !== this.lastPackets || this.xDirection !== 'sendrecv' || !this.phoneSends()) {
            this.lastPackets = packets;
            this.lastChangeAt = now;
          } else if (now - this.lastChangeAt >= this.rtpTimeoutMs) {
            this.timedOut = true;
            this.emit('rtpTimeout');
            return;
          }
        })
        .catch(() => {
          /* rtpengine busy or call gone: the next tick decides */
        })
        .finally(() => {
          if (!this.closed && !this.timedOut) this.pollTimer = this.ctx.clock.setTimeout(tick, this.ctx.pollMs);
        });
    };
    this.pollTimer = this.ctx.clock.setTimeout(tick, this.ctx.pollMs);
  }

  // ---------------------------------------------------------------- teardown

  async close(): Promise<void> {
    if (this.closed) return;
    if (this.recording) await this.stopRecord();
    this.finishPlay('stopped', false);
    this.closed = true;
    this.ctx.clock.clearTimeout(this.pollTimer);
    const p = this.peer;
    if (p) {
      this.peer = undefined;
      if (p.peer === this) {
        p.peer = undefined;
        p.hairpinCodec = undefined;
      }
      await p.refreshX().catch(() => {});
    }
    try {
      // No delete delay: the ports go back to rtpengine's pool now (default is to keep the call 30 s).
      await this.ng('delete', { 'call-id': this.rtpeCallId, 'delete delay': 0 });
    } catch (err) {
      this.ctx.log.debug('rtpengine delete failed', { callId: this.rtpeCallId, error: (err as Error).message });
    }
    this.ctx.onClosed(this);
    this.emit('closed');
  }

  // ---------------------------------------------------------------- helpers

  private checkOpen(): void {
    if (this.closed) throw this.closedError();
  }

  private closedError(): MediaError {
    return new MediaError('media.closed', `endpoint ${this.id} is closed`);
  }

  private ng(command: Parameters<NgClient['send']>[0], params: NgParams): Promise<NgResponse> {
    return this.ctx.ng.send(command, params);
  }

  /**
   * Runs play/stop media commands one after the other: rtpengine handles control messages on several threads,
   * so a "stop media" sent just before the next "play media" could otherwise be applied after it.
   */
  private mediaSerial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.mediaOps.then(fn, fn);
    this.mediaOps = run.catch(() => {});
    return run;
  }

  /** Runs signalling steps of this endpoint one at a time (rtpengine must see offer then answer, never interleaved). */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => {});
    return run;
  }
}

/** A WAV's duration from its header (0 if unreadable): when rtpengine does not say how long a playback lasts. */
function wavDurationMs(file: string): number {
  try {
    return parseWav(fs.readFileSync(file)).durationMs;
  } catch {
    return 0;
  }
}

interface LiveRecording {
  fd: number;
  timer: TimerHandle | undefined;
  stream: PcapStream;
  track: LiveTrack;
  pcap: string | undefined;
  offset: number;
}

function closeLive(live: LiveRecording): void {
  try {
    fs.closeSync(live.fd);
  } catch {
    /* already closed */
  }
  live.fd = -1;
}

/** RTP packets rtpengine received from the phone, from a "query" answer (-1 if not found). */
export function phonePackets(q: NgResponse): number {
  const tags = q.tags as Record<string, { medias?: { streams?: { stats?: { packets?: number } }[] }[] }> | undefined;
  const stream = tags?.[TAG_PHONE]?.medias?.[0]?.streams?.[0];
  return typeof stream?.stats?.packets === 'number' ? stream.stats.packets : -1;
}
