// One relayed media leg inside the worker: its sockets, latching, the in-place rewriting relay, DTMF, player and recorder.
import type dgram from 'node:dgram';
import type { PlayResult } from '../engine.js';
import { DtmfDetector } from './dtmf-detector.js';
import {
  ALAW_DECODE,
  ALAW_ENCODE,
  ALAW_TO_ULAW,
  ULAW_DECODE,
  ULAW_ENCODE,
  ULAW_TO_ALAW,
  decodeInto,
  encodeInto,
  mapInPlace,
} from './g711.js';
import { Player } from './player.js';
import type { EndpointConfig, WorkerMessage } from './protocol.js';
import type { Recorder } from './recorder.js';
import { RTP_HEADER_LENGTH, rtpPayloadEnd, rtpPayloadOffset, rtpSeq, rtpSsrc, rtpTimestamp, writeRtpHeader } from './rtp-packet.js';
import { rtcpPacketCount } from './rtcp-compound.js';
import type { ReportBlock } from './rtcp-report-block.js';
import { RtcpReceiverReport } from './rtcp-receiver-report.js';
import { RTCP_SR, RtcpSenderReport } from './rtcp-sender-report.js';
import { digitEvent, eventDigit, writeTelephoneEvent } from './telephone-event.js';
import { dtmfTone } from './tones.js';
import { SrtpContext } from './srtp.js';
import { FP, NEVER, type RtpForward, SLOT_BYTES, ipv4ToUint32, uint32ToIpv4 } from './fast-path.js';
import { udpHandle } from '../../shared/udp-handle.js';

export const TICK_MS = 20;
const TICK_SAMPLES = 160;
/** Timeouts are checked every 5 ticks (100 ms). */
const TIMEOUT_CHECK_TICKS = 5;

const CODEC_PCMU = 0;
const CODEC_PCMA = 1;
export const CODEC_G722 = 2;
const CODEC_ID = { PCMU: CODEC_PCMU, PCMA: CODEC_PCMA, G722: CODEC_G722 } as const;

const SRC_NONE = 0;
const SRC_RELAY = 1;
const SRC_LOCAL = 2;

// Per-endpoint counters (typed array slots).
export const C_RX = 0;
export const C_TX = 1;
export const C_RELAYED = 2;
export const C_DROPPED = 3;
export const C_RTCP = 4;
/** Payload octets sent (RTCP SR octet count). */
const C_TX_OCTETS = 5;
export const C_COUNT = 6;

// RFC 4733 sending: 100 ms per key press, end packet sent 3 times (§2.5.1.4), 60 ms pause between keys.
const DTMF_EVENT_TICKS = 5;
const DTMF_END_REPEATS = 3;
const DTMF_GAP_TICKS = 3;
const DTMF_VOLUME = 10;

/**
 * The native forwarder (fast-path.ts), set by the worker when it loaded; null: every packet is relayed here. A pair
 * of bridged legs that only relay is handed to it (docs/media.md, "The relay's fast path").
 */
export const fastPath: { forward: RtpForward | null; pairs: number; failures: number } = { forward: null, pairs: 0, failures: 0 };

/** The worker's 20 ms clock, advanced by the worker's one timer; endpoints read it (no time call per packet). */
export const mediaClock = { tick: 0 };
/** RTCP report interval in ticks (RFC 3550 §6.2: 5 s minimum for a two-party session); the worker may set it. */
export const rtcpSettings = { intervalTicks: 250 };
/**
 * Endpoints with work on every tick (a player, DTMF being sent, a recorder). The clock visits only these each
 * 20 ms; an endpoint that only relays is visited at its RTCP slot and by the timeout check (mediaTick).
 */
const ticking = new Set<RelayEndpoint>();
/** RTCP slots: the endpoints reporting on a tick ≡ slot (mod the interval), spread by id so they never report together. */
let rtcpSlots: Set<RelayEndpoint>[] = [];
const rtcpSlotOf = (id: number): number => {
  const n = rtcpSettings.intervalTicks;
  return (((-id * 37) % n) + n) % n;
};
/** Seconds from 1900 (NTP era 0) to 1970. */
const NTP_UNIX_OFFSET = 2_208_988_800;
/** Scratch PCM for decoding one packet (up to 60 ms). */
const pcm = new Int16Array(960);
const frame = new Int16Array(960);

interface DtmfSend {
  digits: string;
  index: number;
  /** Ticks into the current digit (event + end repeats + gap). */
  step: number;
  eventTs: number;
  /** In-band: the rendered key press; null for RFC 4733. */
  player: Player | null;
  done: () => void;
}

export class RelayEndpoint {
  /** State shared with the fast path: the counters live here, the rest moves at each hand-over (FP in fast-path.ts). */
  private readonly slot = new ArrayBuffer(SLOT_BYTES);
  readonly counters = new Uint32Array(this.slot, 0, C_COUNT);
  private readonly words = new Uint32Array(this.slot);
  private readonly floats = new Float64Array(this.slot);
  /** Handle of the pair in the fast path (both legs hold it), -1 while this worker relays the leg's packets. */
  private fastHandle = -1;
  private fastPeer: RelayEndpoint | null = null;
  /** Set when close() starts: a closing leg is never handed over again. */
  private closing = false;
  /** RX counter at the last timeout check, for a leg the fast path relays. */
  private rxSeen = 0;
  configured = false;
  remoteAddress = '';
  remotePort = 0;
  remoteRtcpPort = 0;
  latched = false;
  /**
   * The RTP socket is connected to the latched source: sends skip the address conversion and the kernel's route
   * lookup, and the kernel drops RTP from any other source until the remote changes (a new SDP address unlatches).
   */
  private rtpConnected = false;
  rtcpLatched = false;
  codec = CODEC_PCMU;
  pt = 0;
  tePt = -1;
  ptime = 20;
  spp = 160;
  send = false;
  expectRtp = false;
  timeoutTicks = 0;
  lastRxTick = 0;
  timeoutFired = false;
  peer: RelayEndpoint | null = null;

  // Reception statistics of the remote's stream for our RTCP reports (RFC 3550 A.1, A.3, A.8).
  private rxSsrc = -1;
  private rxCount = 0;
  private baseSeq = 0;
  private maxSeq = 0;
  private cycles = 0;
  private lastTransit = 0;
  /** False after a hand-over: the next packet only sets the transit base (the two sides' clocks differ). */
  private transitValid = false;
  /** Interarrival jitter in timestamp units, as a float (reported truncated). */
  private jitter = 0;
  private expectedPrior = 0;
  private receivedPrior = 0;
  /** Middle 32 bits of the last SR's NTP time from the remote, and when it came (ms), for LSR/DLSR. */
  private lastSrNtp = 0;
  private lastSrAt = 0;
  private txAtLastReport = 0;

  // Outgoing stream towards the remote: one SSRC whatever the source (RFC 3550 §8.2 would allow a new one,
  // but phones and SBCs often mute a stream whose SSRC changes mid-call).
  readonly ssrc = (Math.random() * 0x100000000) >>> 0;
  lastSeq = (Math.random() * 0x10000) & 0xffff;
  lastTs = (Math.random() * 0x100000000) >>> 0;
  lastSendTick = -1;
  srcKind = SRC_NONE;
  srcSsrc = 0;
  seqOff = 0;
  tsOff = 0;

  // RFC 4733 receive state: an event is identified by its RTP timestamp.
  teTs = -1;
  teEvent = 0;
  teReported = true;

  private playerField: Player | null = null;
  playAccumMs = 0;
  private dtmfSendField: DtmfSend | null = null;
  detector: DtmfDetector | null = null;
  private recorderField: Recorder | null = null;
  // Rotating send buffers: a datagram queued by the kernel must not see its bytes rewritten by the next one.
  // SDES-SRTP (srtp.ts): what we send is protected with our key, what we receive checked with the remote's; null on
  // a plain RTP leg. A re-INVITE with the same keys keeps the contexts (their ROC and replay state).
  srtpTx: SrtpContext | null = null;
  srtpRx: SrtpContext | null = null;
  private srtpKeys = '';
  private readonly txBufs: Buffer[] = [0, 1, 2, 3].map(() => Buffer.alloc(RTP_HEADER_LENGTH + 480).fill(0x80, 0, 1));
  private txNext = 0;

  constructor(
    readonly id: number,
    readonly rtp: dgram.Socket,
    readonly rtcp: dgram.Socket,
    readonly port: number,
    private readonly post: (m: WorkerMessage) => void,
  ) {
    this.onRtp = this.onRtp.bind(this);
    this.onRtcp = this.onRtcp.bind(this);
    rtp.on('message', this.onRtp);
    rtcp.on('message', this.onRtcp);
    const onError = (err: NodeJS.ErrnoException): void => {
      // A connected socket hears of ICMP port unreachable (the remote closed its port, as at the end of a call):
      // that packet is lost, nothing is wrong here.
      if (err.code === 'ECONNREFUSED') return;
      this.post({ type: 'error', ep: id, code: 'media.socket', message: `RTP socket ${this.port}: ${err.message}` });
    };
    rtp.on('error', onError);
    rtcp.on('error', onError);
    if (rtcpSlots.length !== rtcpSettings.intervalTicks) rtcpSlots = Array.from({ length: rtcpSettings.intervalTicks }, () => new Set());
    rtcpSlots[rtcpSlotOf(id)]!.add(this);
  }

  get player(): Player | null {
    return this.playerField;
  }
  set player(p: Player | null) {
    if (p !== null) this.leaveFastPath();
    this.playerField = p;
    if (p !== null) ticking.add(this);
    else this.refreshFastPath();
  }
  get recorder(): Recorder | null {
    return this.recorderField;
  }
  set recorder(r: Recorder | null) {
    if (r !== null) this.leaveFastPath();
    this.recorderField = r;
    if (r !== null) ticking.add(this);
    else this.refreshFastPath();
  }
  get dtmfSend(): DtmfSend | null {
    return this.dtmfSendField;
  }
  set dtmfSend(d: DtmfSend | null) {
    if (d !== null) this.leaveFastPath();
    this.dtmfSendField = d;
    if (d !== null) ticking.add(this);
    else this.refreshFastPath();
  }

  configure(cfg: EndpointConfig): void {
    this.leaveFastPath();
    const addressChanged = cfg.remoteAddress !== this.remoteAddress || cfg.remotePort !== this.remotePort;
    if (!this.configured || addressChanged) {
      this.remoteAddress = cfg.remoteAddress;
      this.remotePort = cfg.remotePort;
      this.remoteRtcpPort = cfg.remoteRtcpPort;
      // A new remote address (re-INVITE) means latch again on the first packet.
      this.unlatch();
      this.rtcpLatched = false;
    }
    this.codec = CODEC_ID[cfg.codec];
    this.pt = cfg.pt;
    this.tePt = cfg.tePt;
    this.ptime = cfg.ptime;
    this.spp = cfg.ptime * 8;
    this.send = cfg.send;
    if (cfg.expectRtp && !this.expectRtp) this.lastRxTick = mediaClock.tick;
    this.expectRtp = cfg.expectRtp;
    this.timeoutTicks = cfg.rtpTimeoutMs > 0 ? Math.ceil(cfg.rtpTimeoutMs / TICK_MS) : 0;
    this.timeoutFired = false;
    const s = cfg.srtp;
    const keys = s ? `${s.suite} ${s.tx} ${s.rx}` : '';
    if (keys !== this.srtpKeys) {
      this.srtpKeys = keys;
      this.srtpTx = s ? SrtpContext.fromKeySalt(s.suite, Buffer.from(s.tx, 'base64')) : null;
      this.srtpRx = s ? SrtpContext.fromKeySalt(s.suite, Buffer.from(s.rx, 'base64')) : null;
    }
    if (this.tePt < 0 && this.codec !== CODEC_G722) {
      this.detector ??= new DtmfDetector((d) => this.reportDigit(d, 'inband'));
    } else this.detector = null;
    this.configured = true;
    this.refreshFastPath();
  }

  /** Nothing but relaying to do: no player, DTMF to send, recorder, in-band detector or SRTP, an IPv4 remote. */
  private relaysOnly(): boolean {
    return (
      this.configured &&
      !this.closing &&
      this.playerField === null &&
      this.dtmfSendField === null &&
      this.recorderField === null &&
      this.detector === null &&
      this.srtpTx === null &&
      this.srtpRx === null &&
      ipv4ToUint32(this.remoteAddress) >= 0
    );
  }

  /**
   * Hands this leg and its peer to the fast path when both only relay, or takes them back when not. Called after
   * every change of what a leg does (configure, bridge, play, record, DTMF); a failed hand-over leaves the pair here.
   */
  refreshFastPath(): void {
    const fw = fastPath.forward;
    if (fw === null) return;
    const b = this.peer;
    const want = b !== null && b.peer === this && this.relaysOnly() && b.relaysOnly();
    if (this.fastHandle >= 0) {
      if (!want || this.fastPeer !== b) this.leaveFastPath();
      else return;
    }
    if (!want || b.fastHandle >= 0) return;
    const ha = udpHandle(this.rtp);
    const hb = udpHandle(b.rtp);
    if (ha?.fd === undefined || hb?.fd === undefined || !ha.recvStop || !ha.recvStart || !hb.recvStop || !hb.recvStart) {
      fastPath.failures++;
      return;
    }
    this.exportState();
    b.exportState();
    let handle: number;
    try {
      handle = fw.attach(this.id, ha.fd, this.slot, b.id, hb.fd, b.slot);
    } catch {
      fastPath.failures++;
      return;
    }
    // This thread reads neither socket until the pair comes back (libuv reads only between turns, so no packet
    // was read here since the attach).
    ha.recvStop();
    hb.recvStop();
    this.fastHandle = b.fastHandle = handle;
    this.fastPeer = b;
    b.fastPeer = this;
    fastPath.pairs++;
  }

  /** Takes the pair back from the fast path (with its state); a no-op when this worker relays it already. */
  leaveFastPath(): void {
    const h = this.fastHandle;
    const b = this.fastPeer;
    if (h < 0 || b === null) return;
    fastPath.forward!.detach(h);
    fastPath.pairs--;
    for (const e of [this, b]) {
      e.fastHandle = -1;
      e.fastPeer = null;
      e.importState();
      udpHandle(e.rtp)?.recvStart?.();
    }
  }

  /** The leg's relay state into its slot, for the fast path. */
  private exportState(): void {
    const w = this.words;
    w[FP.PT] = this.pt;
    w[FP.TE_PT] = this.tePt;
    w[FP.CODEC] = this.codec;
    w[FP.SEND] = this.send ? 1 : 0;
    w[FP.LATCHED] = this.latched ? 1 : 0;
    w[FP.REMOTE_IP] = ipv4ToUint32(this.remoteAddress);
    w[FP.REMOTE_PORT] = this.remotePort;
    w[FP.RX_VALID] = this.rxSsrc >= 0 ? 1 : 0;
    w[FP.RX_SSRC] = this.rxSsrc;
    w[FP.RX_COUNT] = this.rxCount;
    w[FP.BASE_SEQ] = this.baseSeq;
    w[FP.MAX_SEQ] = this.maxSeq;
    w[FP.CYCLES] = this.cycles;
    this.floats[FP.JITTER_F64] = this.jitter;
    w[FP.LAST_SEQ] = this.lastSeq;
    w[FP.LAST_TS] = this.lastTs;
    w[FP.SEND_AGO_MS] = this.lastSendTick < 0 ? NEVER : (mediaClock.tick - this.lastSendTick) * TICK_MS;
    w[FP.SRC_KIND] = this.srcKind;
    w[FP.SRC_SSRC] = this.srcSsrc;
    w[FP.SEQ_OFF] = this.seqOff;
    w[FP.TS_OFF] = this.tsOff;
    w[FP.TE_VALID] = this.teTs >= 0 ? 1 : 0;
    w[FP.TE_TS] = this.teTs;
    w[FP.TE_EVENT] = this.teEvent;
    w[FP.TE_REPORTED] = this.teReported ? 1 : 0;
    w[FP.SSRC] = this.ssrc;
  }

  /** The leg's relay state back from its slot (after sync or detach). */
  private importState(): void {
    const w = this.words;
    if (w[FP.LATCHED] === 1 && !this.latched) this.latch(uint32ToIpv4(w[FP.REMOTE_IP]!), w[FP.REMOTE_PORT]!);
    this.rxSsrc = w[FP.RX_VALID] === 1 ? w[FP.RX_SSRC]! : -1;
    this.rxCount = w[FP.RX_COUNT]!;
    this.baseSeq = w[FP.BASE_SEQ]!;
    this.maxSeq = w[FP.MAX_SEQ]!;
    this.cycles = w[FP.CYCLES]!;
    this.jitter = this.floats[FP.JITTER_F64]!;
    this.transitValid = false;
    this.lastSeq = w[FP.LAST_SEQ]!;
    this.lastTs = w[FP.LAST_TS]!;
    const ago = w[FP.SEND_AGO_MS]!;
    this.lastSendTick = ago === NEVER ? -1 : mediaClock.tick - Math.round(ago / TICK_MS);
    this.srcKind = w[FP.SRC_KIND]!;
    this.srcSsrc = w[FP.SRC_SSRC]!;
    this.seqOff = w[FP.SEQ_OFF]!;
    this.tsOff = w[FP.TS_OFF]!;
    this.teTs = w[FP.TE_VALID] === 1 ? w[FP.TE_TS]! : -1;
    this.teEvent = w[FP.TE_EVENT]!;
    this.teReported = w[FP.TE_REPORTED] === 1;
  }

  /** A key the fast path heard (RFC 4733 event code). */
  fastDigit(event: number): void {
    const d = eventDigit(event);
    if (d) this.reportDigit(d, 'rfc4733');
  }

  get busy(): boolean {
    return this.player !== null || this.dtmfSend !== null;
  }

  private reportDigit(digit: string, method: 'rfc4733' | 'inband'): void {
    this.post({ type: 'dtmf', ep: this.id, digit, method });
    if (this.player?.interruptOnDtmf) this.endPlay('interrupted');
    // A bridged leg without telephone-event (an old trunk, a gateway) would lose RFC 4733 digits: regenerate
    // them there as in-band tones. (In-band digits need nothing: they travel as audio.)
    const b = this.peer;
    if (method === 'rfc4733' && b !== null && b.tePt < 0 && b.codec !== CODEC_G722 && b.configured) b.queueDtmf(digit);
  }

  /** Adds digits to what this endpoint is sending (or starts sending them). */
  queueDtmf(digits: string): void {
    if (this.dtmfSend !== null) this.dtmfSend.digits += digits;
    else this.startDtmf(digits, () => {});
  }

  endPlay(result: PlayResult): void {
    const p = this.player;
    if (!p) return;
    this.player = null;
    this.post({ type: 'playDone', ep: this.id, play: p.id, result });
  }

  /** The relay's hot path: no allocation, closure, promise or log line per packet. */
  onRtp(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    let len = msg.length;
    const c = this.counters;
    c[C_RX]!++;
    if (!this.configured) {
      c[C_DROPPED]!++;
      return;
    }
    // SRTP: authenticated and decrypted in place before anything (latching included) trusts the packet.
    if (this.srtpRx !== null) {
      len = this.srtpRx.unprotectRtp(msg, len);
      if (len < 0) {
        c[C_DROPPED]!++;
        return;
      }
    }
    const off = rtpPayloadOffset(msg, len);
    if (off < 0) {
      c[C_DROPPED]!++;
      return;
    }
    // Symmetric RTP (RFC 4961): answer where the remote's packets come from, which is what crosses a NAT.
    if (!this.latched) this.latch(rinfo.address, rinfo.port);
    this.lastRxTick = mediaClock.tick;
    const pt = msg[1]! & 0x7f;
    if (pt === this.pt || pt === this.tePt) this.receptionStats(msg);
    const end = rtpPayloadEnd(msg, len);
    const b = this.peer;
    let outPt: number;
    if (pt === this.pt) {
      const n = end - off;
      if (this.codec !== CODEC_G722 && (this.detector !== null || this.recorder !== null) && n <= 960) {
        decodeInto(this.codec === CODEC_PCMU ? ULAW_DECODE : ALAW_DECODE, msg, off, n, pcm, 0);
        if (this.detector !== null) this.detector.feed(pcm, 0, n);
        if (this.recorder !== null) this.recorder.pushIn(pcm, 0, n);
      }
      if (b === null || !b.send || b.busy || !b.configured) return;
      if (b.codec !== this.codec) {
        if (this.codec === CODEC_G722 || b.codec === CODEC_G722) {
          c[C_DROPPED]!++;
          return;
        }
        mapInPlace(this.codec === CODEC_PCMU ? ULAW_TO_ALAW : ALAW_TO_ULAW, msg, off, n);
      }
      if (b.recorder !== null && b.codec !== CODEC_G722 && n <= 960) {
        decodeInto(b.codec === CODEC_PCMU ? ULAW_DECODE : ALAW_DECODE, msg, off, n, pcm, 0);
        b.recorder.pushOut(pcm, 0, n);
      }
      outPt = b.pt;
    } else if (pt === this.tePt) {
      if (end - off >= 4) this.onTelephoneEvent(msg[off]!, (msg[off + 1]! & 0x80) !== 0, rtpTimestamp(msg));
      if (b === null || !b.send || b.busy || !b.configured || b.tePt < 0) return;
      outPt = b.tePt;
    } else {
      // Comfort noise (PT 13, RFC 3389) and anything not negotiated: dropped without fuss.
      c[C_DROPPED]!++;
      return;
    }
    // Rewrite the stream identity in place when the source feeding B changes (transfer, end of MOH, new SSRC).
    const ssrc = rtpSsrc(msg);
    const seq = rtpSeq(msg);
    const ts = rtpTimestamp(msg);
    let marker = (msg[1]! & 0x80) !== 0;
    if (b.srcKind !== SRC_RELAY || b.srcSsrc !== ssrc) {
      const elapsed = b.lastSendTick < 0 ? 1 : Math.max(1, mediaClock.tick - b.lastSendTick);
      b.seqOff = (b.lastSeq + 1 - seq) & 0xffff;
      b.tsOff = (b.lastTs + elapsed * TICK_SAMPLES - ts) >>> 0;
      b.srcKind = SRC_RELAY;
      b.srcSsrc = ssrc;
      marker = true;
    }
    const oseq = (seq + b.seqOff) & 0xffff;
    const ots = (ts + b.tsOff) >>> 0;
    writeRtpHeader(msg, outPt, marker, oseq, ots, b.ssrc);
    b.lastSeq = oseq;
    b.lastTs = ots;
    b.lastSendTick = mediaClock.tick;
    b.sendRtp(msg, len);
    c[C_RELAYED]!++;
    b.counters[C_TX]!++;
    b.counters[C_TX_OCTETS]! += end - off;
  }

  /** RFC 3550 A.1 sequence bookkeeping and A.8 jitter, in plain number fields (no allocation). */
  private receptionStats(msg: Buffer): void {
    const ssrc = rtpSsrc(msg);
    const seq = rtpSeq(msg);
    const transit = performance.now() * 8 - rtpTimestamp(msg);
    if (ssrc !== this.rxSsrc) {
      this.rxSsrc = ssrc;
      this.rxCount = 0;
      this.baseSeq = seq;
      this.maxSeq = seq;
      this.cycles = 0;
      this.jitter = 0;
      this.expectedPrior = 0;
      this.receivedPrior = 0;
    } else {
      const delta = (seq - this.maxSeq) & 0xffff;
      if (delta !== 0 && delta < 0x8000) {
        if (seq < this.maxSeq) this.cycles += 0x10000;
        this.maxSeq = seq;
      }
      if (this.transitValid) {
        let d = transit - this.lastTransit;
        if (d < 0) d = -d;
        this.jitter += (d - this.jitter) / 16;
      }
    }
    this.lastTransit = transit;
    this.transitValid = true;
    this.rxCount++;
  }

  /** Our RTCP compound packet: SR when we sent since the last report, else RR; one block on the remote's stream. */
  private sendRtcpReport(): void {
    if (this.fastHandle >= 0) {
      // The fast path keeps the reception statistics and the outgoing stream: take a copy.
      fastPath.forward!.sync(this.fastHandle);
      this.importState();
    }
    const blocks: ReportBlock[] = [];
    if (this.rxSsrc >= 0 && this.rxCount > 0) {
      const extMax = this.cycles + this.maxSeq;
      const expected = extMax - this.baseSeq + 1;
      const lost = Math.max(-0x800000, Math.min(0x7fffff, expected - this.rxCount));
      const expectedInterval = expected - this.expectedPrior;
      const receivedInterval = this.rxCount - this.receivedPrior;
      this.expectedPrior = expected;
      this.receivedPrior = this.rxCount;
      const lostInterval = expectedInterval - receivedInterval;
      const fraction = expectedInterval > 0 && lostInterval > 0 ? Math.floor((lostInterval * 256) / expectedInterval) : 0;
      blocks.push({
        ssrc: this.rxSsrc,
        fractionLost: Math.min(255, fraction),
        packetsLost: lost,
        highestSeq: extMax >>> 0,
        jitter: Math.floor(this.jitter) >>> 0,
        lastSr: this.lastSrNtp,
        delaySinceLastSr: this.lastSrNtp ? Math.floor(((performance.now() - this.lastSrAt) / 1000) * 65536) >>> 0 : 0,
      });
    }
    const tx = this.counters[C_TX]!;
    let packet: Buffer;
    if (tx !== this.txAtLastReport) {
      const now = Date.now();
      const sec = Math.floor(now / 1000) + NTP_UNIX_OFFSET;
      const frac = Math.floor(((now % 1000) / 1000) * 0x100000000);
      const elapsed = this.lastSendTick < 0 ? 0 : (mediaClock.tick - this.lastSendTick) * TICK_SAMPLES;
      packet = new RtcpSenderReport(this.ssrc, sec >>> 0, frac >>> 0, (this.lastTs + elapsed) >>> 0, tx, this.counters[C_TX_OCTETS]!, blocks).serialize();
    } else packet = new RtcpReceiverReport(this.ssrc, blocks).serialize();
    this.txAtLastReport = tx;
    if (this.srtpTx !== null) packet = this.srtpTx.protectRtcp(packet, packet.length);
    this.rtcp.send(packet, 0, packet.length, this.remoteRtcpPort, this.remoteAddress);
  }

  private latch(address: string, port: number): void {
    this.remoteAddress = address;
    this.remotePort = port;
    this.latched = true;
    try {
      // Synchronous: the socket resolves addresses with syncLookup. remoteAddress() throws if it did not connect.
      this.rtp.connect(port, address);
      this.rtp.remoteAddress();
      this.rtpConnected = true;
    } catch {
      this.rtpConnected = false;
    }
  }

  private unlatch(): void {
    this.latched = false;
    if (!this.rtpConnected) return;
    this.rtpConnected = false;
    try {
      this.rtp.disconnect();
    } catch {
      /* was not connected */
    }
  }

  /** Sends `len` bytes of an RTP packet to the remote, as SRTP on an SRTP leg. */
  sendRtp(buf: Buffer, len: number): void {
    let out = buf;
    if (this.srtpTx !== null) {
      out = this.srtpTx.protectRtp(buf, len);
      len = out.length;
    }
    // The whole buffer when it can be (the common case): a length makes dgram slice it.
    if (this.rtpConnected) {
      if (len === out.length) this.rtp.send(out);
      else this.rtp.send(out, 0, len);
    } else if (len === out.length) this.rtp.send(out, this.remotePort, this.remoteAddress);
    else this.rtp.send(out, 0, len, this.remotePort, this.remoteAddress);
  }

  private onTelephoneEvent(event: number, end: boolean, ts: number): void {
    if (ts !== this.teTs) {
      // A new event while the previous one never showed its end (all end packets lost): report it now.
      if (!this.teReported) {
        const d = eventDigit(this.teEvent);
        if (d) this.reportDigit(d, 'rfc4733');
      }
      this.teTs = ts;
      this.teEvent = event;
      this.teReported = false;
    }
    // RFC 4733 §2.5.1.4: the end packet is sent three times; report the first, ignore the retransmissions.
    if (end && !this.teReported) {
      this.teReported = true;
      const d = eventDigit(event);
      if (d) this.reportDigit(d, 'rfc4733');
    }
  }

  onRtcp(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    // RTCP is terminated here (reports describe the leg's own stream, which the relay rewrites); we send our own.
    let len = msg.length;
    if (this.srtpRx !== null) len = this.srtpRx.unprotectRtcp(msg, len);
    if (len < 0 || rtcpPacketCount(msg, len) < 0) {
      this.counters[C_DROPPED]!++;
      return;
    }
    if (!this.rtcpLatched) {
      this.remoteRtcpPort = rinfo.port;
      this.rtcpLatched = true;
    }
    if (msg[1] === RTCP_SR) {
      // LSR (RFC 3550 §6.4.1): the middle 32 bits of the SR's 64-bit NTP timestamp.
      this.lastSrNtp = (((msg[10]! << 24) | (msg[11]! << 16) | (msg[12]! << 8) | msg[13]!) >>> 0);
      this.lastSrAt = performance.now();
    }
    this.counters[C_RTCP]!++;
  }

  /** Next header fields of a locally generated packet (player, DTMF), continuing the outgoing stream. */
  private nextLocal(samples: number): boolean {
    let marker = false;
    if (this.srcKind !== SRC_LOCAL) {
      const elapsed = this.lastSendTick < 0 ? 1 : Math.max(1, mediaClock.tick - this.lastSendTick);
      this.lastTs = (this.lastTs + elapsed * TICK_SAMPLES) >>> 0;
      this.srcKind = SRC_LOCAL;
      marker = true;
    } else this.lastTs = (this.lastTs + samples) >>> 0;
    this.lastSeq = (this.lastSeq + 1) & 0xffff;
    this.lastSendTick = mediaClock.tick;
    return marker;
  }

  private txBuf(): Buffer {
    const b = this.txBufs[this.txNext]!;
    this.txNext = (this.txNext + 1) & 3;
    return b;
  }

  /** Renders one packet of `src` to the remote. Returns false when the source has ended. */
  private sendAudio(src: Player, samples: number): boolean {
    const more = src.render(frame, samples);
    if (this.recorder !== null) this.recorder.pushOut(frame, 0, samples);
    if (!this.send || !this.configured) return more;
    const marker = this.nextLocal(samples);
    const buf = this.txBuf();
    writeRtpHeader(buf, this.pt, marker, this.lastSeq, this.lastTs, this.ssrc);
    encodeInto(this.codec === CODEC_PCMU ? ULAW_ENCODE : ALAW_ENCODE, frame, 0, samples, buf, RTP_HEADER_LENGTH);
    this.sendRtp(buf, RTP_HEADER_LENGTH + samples);
    this.counters[C_TX]!++;
    this.counters[C_TX_OCTETS]! += samples;
    return more;
  }

  /** One 20 ms step of the clock for an endpoint with a player, DTMF to send or a recorder; false once it has none. */
  private onTick(): boolean {
    if (this.dtmfSend !== null) this.stepDtmf(this.dtmfSend);
    else if (this.player !== null) {
      this.playAccumMs += TICK_MS;
      while (this.playAccumMs >= this.ptime && this.player !== null) {
        this.playAccumMs -= this.ptime;
        this.sendAudio(this.player, this.spp);
        if (this.player.finished) this.endPlay('done');
      }
    }
    if (this.recorder !== null) this.recorder.tick();
    return this.player !== null || this.dtmfSend !== null || this.recorder !== null;
  }

  private checkTimeout(): void {
    if (this.fastHandle >= 0 && this.counters[C_RX] !== this.rxSeen) {
      this.rxSeen = this.counters[C_RX]!;
      this.lastRxTick = mediaClock.tick;
    }
    if (this.expectRtp && this.timeoutTicks > 0 && !this.timeoutFired && mediaClock.tick - this.lastRxTick > this.timeoutTicks) {
      this.timeoutFired = true;
      this.post({ type: 'rtpTimeout', ep: this.id });
    }
  }

  /**
   * One 20 ms step of the worker's clock (mediaClock.tick already advanced): the endpoints with per-tick work, the
   * RTCP reports due on this tick, and every 100 ms the RTP timeouts of `all`. `recordersOnly`: a stalled thread
   * catching up, where only recordings keep the lost time.
   */
  static tickAll(all: Iterable<RelayEndpoint>, recordersOnly = false): void {
    const tick = mediaClock.tick;
    for (const e of ticking) {
      if (recordersOnly) e.recorder?.tick();
      else if (!e.onTick()) ticking.delete(e);
    }
    if (recordersOnly) return;
    const slot = rtcpSlots[tick % rtcpSettings.intervalTicks];
    if (slot !== undefined) for (const e of slot) if (e.configured && e.send) e.sendRtcpReport();
    if (tick % TIMEOUT_CHECK_TICKS === 0) for (const e of all) e.checkTimeout();
  }

  private stepDtmf(d: DtmfSend): void {
    const digit = d.digits[d.index]!;
    if (d.player !== null) {
      // In-band: the key press as audio, then the pause, paced like any play.
      this.sendAudio(d.player, TICK_SAMPLES);
      if (d.player.finished) this.nextDigit(d);
      return;
    }
    const total = DTMF_EVENT_TICKS + DTMF_END_REPEATS - 1;
    if (d.step <= total && this.send && this.configured) {
      const first = d.step === 0;
      if (first) {
        this.nextLocal(TICK_SAMPLES);
        d.eventTs = this.lastTs;
      } else this.lastSeq = (this.lastSeq + 1) & 0xffff;
      const endPkt = d.step >= DTMF_EVENT_TICKS - 1;
      const duration = Math.min(d.step + 1, DTMF_EVENT_TICKS) * TICK_SAMPLES;
      const buf = this.txBuf();
      writeRtpHeader(buf, this.tePt, first, this.lastSeq, d.eventTs, this.ssrc);
      writeTelephoneEvent(buf, RTP_HEADER_LENGTH, { event: digitEvent(digit), end: endPkt, volume: DTMF_VOLUME, duration });
      this.sendRtp(buf, RTP_HEADER_LENGTH + 4);
      this.counters[C_TX]!++;
      this.counters[C_TX_OCTETS]! += 4;
    }
    d.step++;
    if (d.step > total + DTMF_GAP_TICKS) this.nextDigit(d);
  }

  private nextDigit(d: DtmfSend): void {
    d.index++;
    d.step = 0;
    if (d.index >= d.digits.length) {
      this.dtmfSend = null;
      d.done();
      return;
    }
    if (d.player !== null) d.player = inbandKey(d.digits[d.index]!);
  }

  startDtmf(digits: string, done: () => void): void {
    if (this.dtmfSend !== null) this.dtmfSend.done();
    this.dtmfSend = { digits, index: 0, step: 0, eventTs: 0, player: this.tePt < 0 ? inbandKey(digits[0]!) : null, done };
  }

  async close(): Promise<void> {
    this.closing = true;
    this.leaveFastPath();
    this.endPlay('stopped');
    if (this.dtmfSend) {
      this.dtmfSend.done();
      this.dtmfSend = null;
    }
    if (this.peer) {
      this.peer.peer = null;
      this.peer = null;
    }
    this.rtp.close();
    this.rtcp.close();
    ticking.delete(this);
    rtcpSlots[rtcpSlotOf(this.id)]?.delete(this);
    const r = this.recorder;
    this.recorder = null;
    if (r) await r.stop();
  }
}

function inbandKey(digit: string): Player {
  return new Player(-1, [{ data: dtmfTone(digit, 100), total: 800 }, { data: null, total: 480 }], false, false);
}
