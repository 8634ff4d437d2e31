// Media worker thread: owns every RTP/RTCP socket; relays, transcodes, detects and sends DTMF, plays and records on one 20 ms clock.
import dgram from 'node:dgram';
import fs from 'node:fs';
import os from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import type { PlayItem, PlayResult } from '../engine.js';
import { parseWav } from '../sounds/wav.js';
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
import { Player, type PlaySource } from './player.js';
import type { EndpointConfig, WorkerCommand, WorkerInit, WorkerMessage, WorkerStats } from './protocol.js';
import { Recorder } from './recorder.js';
import { RTP_HEADER_LENGTH, rtpPayloadEnd, rtpPayloadOffset, rtpSeq, rtpSsrc, rtpTimestamp, writeRtpHeader } from './rtp-packet.js';
import { rtcpPacketCount } from './rtcp-compound.js';
import { digitEvent, eventDigit, writeTelephoneEvent } from './telephone-event.js';
import { dtmfTone, toneCycle, toneLength } from './tones.js';

const TICK_MS = 20;
const TICK_SAMPLES = 160;
/** Timeouts are checked every 5 ticks (100 ms). */
const TIMEOUT_CHECK_TICKS = 5;
/** A late timer catches up at most this many ticks, then skips ahead (a stalled thread must not burst seconds of audio). */
const MAX_CATCH_UP = 5;

const CODEC_PCMU = 0;
const CODEC_PCMA = 1;
const CODEC_G722 = 2;
const CODEC_ID = { PCMU: CODEC_PCMU, PCMA: CODEC_PCMA, G722: CODEC_G722 } as const;

const SRC_NONE = 0;
const SRC_RELAY = 1;
const SRC_LOCAL = 2;

// Per-endpoint counters (typed array slots).
const C_RX = 0;
const C_TX = 1;
const C_RELAYED = 2;
const C_DROPPED = 3;
const C_RTCP = 4;
const C_COUNT = 5;

// RFC 4733 sending: 100 ms per key press, end packet sent 3 times (§2.5.1.4), 60 ms pause between keys.
const DTMF_EVENT_TICKS = 5;
const DTMF_END_REPEATS = 3;
const DTMF_GAP_TICKS = 3;
const DTMF_VOLUME = 10;

const syncLookup = (address: string, _family: unknown, cb: (err: Error | null, address: string, family: number) => void): void =>
  cb(null, address, 4);

const init = workerData as WorkerInit;
const port = parentPort!;
function post(m: WorkerMessage): void {
  port.postMessage(m);
}

let tick = 0;
let lateTicks = 0;
const totals = new Float64Array(C_COUNT);
/** Scratch PCM for decoding one packet (up to 60 ms). */
const pcm = new Int16Array(960);
const frame = new Int16Array(960);

class MediaError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

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

class Endpoint {
  readonly counters = new Uint32Array(C_COUNT);
  configured = false;
  remoteAddress = '';
  remotePort = 0;
  remoteRtcpPort = 0;
  latched = false;
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
  peer: Endpoint | null = null;

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

  player: Player | null = null;
  playAccumMs = 0;
  dtmfSend: DtmfSend | null = null;
  detector: DtmfDetector | null = null;
  recorder: Recorder | null = null;
  // Rotating send buffers: a datagram queued by the kernel must not see its bytes rewritten by the next one.
  private readonly txBufs: Buffer[] = [0, 1, 2, 3].map(() => Buffer.alloc(RTP_HEADER_LENGTH + 480).fill(0x80, 0, 1));
  private txNext = 0;

  constructor(
    readonly id: number,
    readonly rtp: dgram.Socket,
    readonly rtcp: dgram.Socket,
    readonly port: number,
  ) {
    this.onRtp = this.onRtp.bind(this);
    this.onRtcp = this.onRtcp.bind(this);
    rtp.on('message', this.onRtp);
    rtcp.on('message', this.onRtcp);
    const onError = (err: Error): void => post({ type: 'error', ep: id, code: 'media.socket', message: `RTP socket ${this.port}: ${err.message}` });
    rtp.on('error', onError);
    rtcp.on('error', onError);
  }

  configure(cfg: EndpointConfig): void {
    const addressChanged = cfg.remoteAddress !== this.remoteAddress || cfg.remotePort !== this.remotePort;
    if (!this.configured || addressChanged) {
      this.remoteAddress = cfg.remoteAddress;
      this.remotePort = cfg.remotePort;
      this.remoteRtcpPort = cfg.remoteRtcpPort;
      // A new remote address (re-INVITE) means latch again on the first packet.
      this.latched = false;
      this.rtcpLatched = false;
    }
    this.codec = CODEC_ID[cfg.codec];
    this.pt = cfg.pt;
    this.tePt = cfg.tePt;
    this.ptime = cfg.ptime;
    this.spp = cfg.ptime * 8;
    this.send = cfg.send;
    if (cfg.expectRtp && !this.expectRtp) this.lastRxTick = tick;
    this.expectRtp = cfg.expectRtp;
    this.timeoutTicks = cfg.rtpTimeoutMs > 0 ? Math.ceil(cfg.rtpTimeoutMs / TICK_MS) : 0;
    this.timeoutFired = false;
    if (this.tePt < 0 && this.codec !== CODEC_G722) {
      this.detector ??= new DtmfDetector((d) => this.reportDigit(d, 'inband'));
    } else this.detector = null;
    this.configured = true;
  }

  get busy(): boolean {
    return this.player !== null || this.dtmfSend !== null;
  }

  private reportDigit(digit: string, method: 'rfc4733' | 'inband'): void {
    post({ type: 'dtmf', ep: this.id, digit, method });
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
    post({ type: 'playDone', ep: this.id, play: p.id, result });
  }

  /** The relay's hot path: no allocation, closure, promise or log line per packet. */
  onRtp(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    const len = msg.length;
    const c = this.counters;
    c[C_RX]!++;
    if (!this.configured) {
      c[C_DROPPED]!++;
      return;
    }
    const off = rtpPayloadOffset(msg, len);
    if (off < 0) {
      c[C_DROPPED]!++;
      return;
    }
    // Symmetric RTP (RFC 4961): answer where the remote's packets come from, which is what crosses a NAT.
    if (!this.latched) {
      this.remoteAddress = rinfo.address;
      this.remotePort = rinfo.port;
      this.latched = true;
    }
    this.lastRxTick = tick;
    const pt = msg[1]! & 0x7f;
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
      const elapsed = b.lastSendTick < 0 ? 1 : Math.max(1, tick - b.lastSendTick);
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
    b.lastSendTick = tick;
    b.rtp.send(msg, 0, len, b.remotePort, b.remoteAddress);
    c[C_RELAYED]!++;
    b.counters[C_TX]!++;
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
    // RTCP is terminated here: reports describe the leg's own stream, which the relay rewrites anyway.
    if (rtcpPacketCount(msg, msg.length) < 0) {
      this.counters[C_DROPPED]!++;
      return;
    }
    if (!this.rtcpLatched) {
      this.remoteRtcpPort = rinfo.port;
      this.rtcpLatched = true;
    }
    this.counters[C_RTCP]!++;
  }

  /** Next header fields of a locally generated packet (player, DTMF), continuing the outgoing stream. */
  private nextLocal(samples: number): boolean {
    let marker = false;
    if (this.srcKind !== SRC_LOCAL) {
      const elapsed = this.lastSendTick < 0 ? 1 : Math.max(1, tick - this.lastSendTick);
      this.lastTs = (this.lastTs + elapsed * TICK_SAMPLES) >>> 0;
      this.srcKind = SRC_LOCAL;
      marker = true;
    } else this.lastTs = (this.lastTs + samples) >>> 0;
    this.lastSeq = (this.lastSeq + 1) & 0xffff;
    this.lastSendTick = tick;
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
    this.rtp.send(buf, 0, RTP_HEADER_LENGTH + samples, this.remotePort, this.remoteAddress);
    this.counters[C_TX]!++;
    return more;
  }

  /** One 20 ms step of the clock. */
  onTick(): void {
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
    if (tick % TIMEOUT_CHECK_TICKS === 0 && this.expectRtp && this.timeoutTicks > 0 && !this.timeoutFired && tick - this.lastRxTick > this.timeoutTicks) {
      this.timeoutFired = true;
      post({ type: 'rtpTimeout', ep: this.id });
    }
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
      this.rtp.send(buf, 0, RTP_HEADER_LENGTH + 4, this.remotePort, this.remoteAddress);
      this.counters[C_TX]!++;
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
    this.endPlay('stopped');
    if (this.dtmfSend) {
      this.dtmfSend.done();
      this.dtmfSend = null;
    }
    if (this.peer) {
      this.peer.peer = null;
      this.peer = null;
    }
    for (let i = 0; i < C_COUNT; i++) totals[i]! += this.counters[i]!;
    this.rtp.close();
    this.rtcp.close();
    const r = this.recorder;
    this.recorder = null;
    if (r) await r.stop();
  }
}

function inbandKey(digit: string): Player {
  return new Player(-1, [{ data: dtmfTone(digit, 100), total: 800 }, { data: null, total: 480 }], false, false);
}

const endpoints = new Map<number, Endpoint>();
let nextPort = init.rtpPortMin + (init.rtpPortMin & 1);

function bindSocket(portNo: number): Promise<dgram.Socket | null> {
  return new Promise((resolve) => {
    const s = dgram.createSocket({ type: 'udp4', lookup: syncLookup as never });
    const onErr = (): void => {
      s.close();
      resolve(null);
    };
    s.once('error', onErr);
    s.bind({ port: portNo, address: init.bind, exclusive: true }, () => {
      s.off('error', onErr);
      resolve(s);
    });
  });
}

/** Even RTP port from the configured range, RTCP on the odd port above (RFC 3550 §11). */
async function allocatePair(): Promise<{ rtp: dgram.Socket; rtcp: dgram.Socket; port: number }> {
  const first = init.rtpPortMin + (init.rtpPortMin & 1);
  const slots = Math.floor((init.rtpPortMax - first + 1) / 2);
  for (let i = 0; i < slots; i++) {
    const p = nextPort;
    nextPort += 2;
    if (nextPort + 1 > init.rtpPortMax) nextPort = first;
    if ([...endpoints.values()].some((e) => e.port === p)) continue;
    const rtp = await bindSocket(p);
    if (!rtp) continue;
    const rtcp = await bindSocket(p + 1);
    if (!rtcp) {
      rtp.close();
      continue;
    }
    return { rtp, rtcp, port: p };
  }
  throw new MediaError('media.ports_exhausted', `no free RTP port pair in ${init.rtpPortMin}-${init.rtpPortMax} on ${init.bind}`);
}

const wavCache = new Map<string, { mtimeMs: number; size: number; data: Int16Array }>();

/** Samples of an 8 kHz mono 16-bit PCM WAV (the format the sound library produces); throws naming what is wrong. */
function decodeWav8kMono(buf: Buffer): Int16Array {
  const info = parseWav(buf);
  const problems: string[] = [];
  if (info.format !== 1) problems.push(`format ${info.format} is not PCM (1)`);
  if (info.sampleRate !== 8000) problems.push(`sample rate ${info.sampleRate} Hz is not 8000 Hz`);
  if (info.channels !== 1) problems.push(`${info.channels} channels, not mono`);
  if (info.bitsPerSample !== 16) problems.push(`${info.bitsPerSample} bits per sample, not 16`);
  if (problems.length) throw new Error(`WAV must be 8 kHz mono 16-bit PCM: ${problems.join('; ')}`);
  const n = Math.floor(info.dataLength / 2);
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) out[i] = buf.readInt16LE(info.dataOffset + 2 * i);
  return out;
}

async function loadWav(file: string): Promise<Int16Array> {
  let st: fs.Stats;
  try {
    st = await fs.promises.stat(file);
  } catch (err) {
    throw new MediaError('media.file_unreadable', `cannot read sound file ${file}: ${(err as Error).message}`);
  }
  const hit = wavCache.get(file);
  if (hit && hit.mtimeMs === st.mtimeMs && hit.size === st.size) return hit.data;
  let data: Int16Array;
  try {
    data = decodeWav8kMono(await fs.promises.readFile(file));
  } catch (err) {
    throw new MediaError('media.file_invalid', `sound file ${file}: ${(err as Error).message}`);
  }
  if (wavCache.size >= 64) wavCache.delete(wavCache.keys().next().value!);
  wavCache.set(file, { mtimeMs: st.mtimeMs, size: st.size, data });
  return data;
}

async function resolveItems(items: PlayItem[]): Promise<PlaySource[]> {
  const out: PlaySource[] = [];
  for (const it of items) {
    if ('file' in it) {
      const data = await loadWav(it.file);
      out.push({ data, total: data.length });
    } else if ('tone' in it) {
      try {
        out.push({ data: toneCycle(it.tone, it.country), total: toneLength(it.tone, it.country, it.durationMs) });
      } catch (err) {
        throw new MediaError('media.tone_invalid', (err as Error).message);
      }
    } else if ('silenceMs' in it) {
      out.push({ data: null, total: Math.max(0, Math.round(it.silenceMs * 8)) });
    } else throw new MediaError('media.play_invalid', `play item ${JSON.stringify(it)} is not {file}, {tone} or {silenceMs}`);
  }
  return out;
}

function endpoint(id: number): Endpoint {
  const e = endpoints.get(id);
  if (!e) throw new MediaError('media.endpoint_closed', `media endpoint ${id} is closed`);
  return e;
}

function unbridge(e: Endpoint): void {
  if (e.peer) {
    e.peer.peer = null;
    e.peer = null;
  }
}

async function handle(cmd: WorkerCommand): Promise<unknown> {
  switch (cmd.op) {
    case 'open': {
      const { rtp, rtcp, port: p } = await allocatePair();
      const e = new Endpoint(cmd.ep, rtp, rtcp, p);
      endpoints.set(cmd.ep, e);
      ensureClock();
      return { port: p };
    }
    case 'configure':
      endpoint(cmd.ep).configure(cmd.cfg);
      return undefined;
    case 'bridge': {
      const a = endpoint(cmd.ep);
      const b = endpoint(cmd.other);
      if (a === b) throw new MediaError('media.bridge_invalid', 'an endpoint cannot be bridged to itself');
      if (a.peer !== b) {
        unbridge(a);
        unbridge(b);
        a.peer = b;
        b.peer = a;
      }
      return undefined;
    }
    case 'unbridge':
      unbridge(endpoint(cmd.ep));
      return undefined;
    case 'play': {
      const e = endpoint(cmd.ep);
      if (e.codec === CODEC_G722) throw new MediaError('media.codec_unsupported', 'playing to a G.722 leg is not supported (no G.722 encoder)');
      const sources = await resolveItems(cmd.items);
      if (!endpoints.has(cmd.ep)) throw new MediaError('media.endpoint_closed', `media endpoint ${cmd.ep} closed before playing`);
      e.endPlay('stopped');
      e.player = new Player(cmd.play, sources, cmd.loop, cmd.interrupt);
      e.playAccumMs = 0;
      return undefined;
    }
    case 'stopPlay':
      endpoints.get(cmd.ep)?.endPlay(cmd.result);
      return undefined;
    case 'record': {
      const e = endpoint(cmd.ep);
      if (e.codec === CODEC_G722) throw new MediaError('media.codec_unsupported', 'recording a G.722 leg is not supported');
      const old = e.recorder;
      e.recorder = null;
      if (old) await old.stop();
      const rec = new Recorder(cmd.file, cmd.direction, cmd.stereo, (err) => {
        post({ type: 'error', ep: cmd.ep, code: 'media.record_failed', message: `recording to ${cmd.file} stopped: ${err.code ?? ''} ${err.message}`.trim() });
        if (e.recorder === rec) e.recorder = null;
        void rec.stop();
      });
      e.recorder = rec;
      return undefined;
    }
    case 'stopRecord': {
      const e = endpoints.get(cmd.ep);
      const r = e?.recorder;
      if (e && r) {
        e.recorder = null;
        await r.stop();
      }
      return undefined;
    }
    case 'sendDtmf': {
      const e = endpoint(cmd.ep);
      if (e.codec === CODEC_G722 && e.tePt < 0) throw new MediaError('media.codec_unsupported', 'in-band DTMF on a G.722 leg is not supported');
      await new Promise<void>((resolve) => e.startDtmf(cmd.digits, resolve));
      return undefined;
    }
    case 'close': {
      const e = endpoints.get(cmd.ep);
      if (!e) return undefined;
      endpoints.delete(cmd.ep);
      await e.close();
      return undefined;
    }
    case 'stats':
      return stats();
  }
}

const thread = (() => {
  try {
    return fs.readlinkSync('/proc/thread-self').replace(/^\/?proc\//, '').replace('/task/', '/');
  } catch {
    return String(process.pid);
  }
})();

// Media is the one latency-sensitive thread of the box: when allowed (root or CAP_SYS_NICE), run it at a higher
// priority than signalling and the console, so a busy main thread does not delay packets. Linux applies
// setpriority() to a single thread when given its TID.
let niceness: number | null = null;
if (init.nice !== undefined && init.nice !== 0) {
  const tid = Number(thread.split('/')[1]);
  try {
    if (tid) {
      os.setPriority(tid, init.nice);
      niceness = init.nice;
    }
  } catch {
    /* not permitted: stay at the process's priority */
  }
}
if (niceness === null) {
  try {
    niceness = os.getPriority(Number(thread.split('/')[1]) || 0);
  } catch {
    niceness = 0;
  }
}

function stats(): WorkerStats {
  const sum = new Float64Array(C_COUNT);
  for (let i = 0; i < C_COUNT; i++) sum[i] = totals[i]!;
  for (const e of endpoints.values()) for (let i = 0; i < C_COUNT; i++) sum[i]! += e.counters[i]!;
  return {
    endpoints: endpoints.size,
    thread,
    rxPackets: sum[C_RX]!,
    txPackets: sum[C_TX]!,
    relayed: sum[C_RELAYED]!,
    dropped: sum[C_DROPPED]!,
    rtcpPackets: sum[C_RTCP]!,
    lateTicks,
    nice: niceness ?? 0,
  };
}

// The one clock of the worker: due times are t0 + k·20 ms, computed from the start, so timer lateness never accumulates.
let clockRunning = false;
let t0 = 0;
let done = 0;

function ensureClock(): void {
  if (clockRunning) return;
  clockRunning = true;
  t0 = performance.now();
  done = 0;
  setTimeout(onClock, TICK_MS);
}

function onClock(): void {
  if (endpoints.size === 0) {
    clockRunning = false;
    return;
  }
  const due = Math.floor((performance.now() - t0) / TICK_MS);
  let n = due - done;
  if (n > MAX_CATCH_UP) {
    lateTicks += n - MAX_CATCH_UP;
    done += n - MAX_CATCH_UP;
    n = MAX_CATCH_UP;
  }
  for (let k = 0; k < n; k++) {
    tick++;
    done++;
    for (const e of endpoints.values()) e.onTick();
  }
  setTimeout(onClock, Math.max(0, t0 + (done + 1) * TICK_MS - performance.now()));
}

port.on('message', (cmd: WorkerCommand) => {
  handle(cmd).then(
    (value) => post({ type: 'reply', id: cmd.id, ok: true, value }),
    (err: unknown) =>
      post({
        type: 'reply',
        id: cmd.id,
        ok: false,
        code: err instanceof MediaError ? err.code : 'media.internal',
        message: err instanceof Error ? err.message : String(err),
      }),
  );
});

post({ type: 'ready', thread, nice: niceness ?? 0 });
