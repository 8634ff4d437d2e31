// Media worker thread: owns every RTP/RTCP socket; relays, transcodes, detects and sends DTMF, plays and records on one 20 ms clock.
import dgram from 'node:dgram';
import fs from 'node:fs';
import os from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import type { PlayItem } from '../engine.js';
import { parseWav, telephoneFormatProblems } from '../sounds/wav.js';
import { Player, type PlaySource } from './player.js';
import type { WorkerCommand, WorkerInit, WorkerMessage, WorkerStats } from './protocol.js';
import { Recorder } from './recorder.js';
import { CODEC_G722, C_COUNT, C_DROPPED, C_RELAYED, C_RTCP, C_RX, C_TX, RelayEndpoint, TICK_MS, fastPath, mediaClock, rtcpSettings } from './relay-endpoint.js';
import { loadRtpForward } from './fast-path.js';
import { ALAW_TO_ULAW, ULAW_TO_ALAW } from './g711.js';
import { toneCycle, toneLength } from './tones.js';

const syncLookup = (address: string, _family: unknown, cb: (err: Error | null, address: string, family: number) => void): void =>
  cb(null, address, 4);

const init = workerData as WorkerInit;
if (init.rtcpIntervalMs) rtcpSettings.intervalTicks = Math.max(1, Math.round(init.rtcpIntervalMs / TICK_MS));
const port = parentPort!;
/**
 * Replies and events: the first of an event-loop turn is posted at once, the rest of that turn together from
 * setImmediate (in order), so the main thread is woken twice per turn at most.
 */
let outbox: WorkerMessage[] = [];
let outboxScheduled = false;
/** `batched`: wait for the end of the turn even when first (replies to set-up commands: an open and the configure sent with it answer in one message). */
function post(m: WorkerMessage, batched = false): void {
  if (outboxScheduled) {
    outbox.push(m);
    return;
  }
  outboxScheduled = true;
  setImmediate(flushOutbox);
  if (batched) outbox.push(m);
  else port.postMessage(m);
}

/** Commands whose replies may wait for the end of the worker's turn (the main thread's DEFERRABLE set). */
const SET_UP: ReadonlySet<WorkerCommand['op']> = new Set(['open', 'configure', 'bridge', 'unbridge', 'close']);
function flushOutbox(): void {
  outboxScheduled = false;
  const batch = outbox;
  outbox = [];
  if (batch.length > 0) port.postMessage(batch.length === 1 ? batch[0] : batch);
}

/** A late timer catches up at most this many ticks, then skips ahead (a stalled thread must not burst seconds of audio). */
const MAX_CATCH_UP = 5;
let lateTicks = 0;
/** Counters of closed endpoints, so totals survive them. */
const totals = new Float64Array(C_COUNT);

class MediaError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const endpoints = new Map<number, RelayEndpoint>();
/** RTP ports of the open endpoints (an allocation checks it instead of scanning every endpoint). */
const usedPorts = new Set<number>();
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
    if (usedPorts.has(p)) continue;
    const rtp = await bindSocket(p);
    if (!rtp) continue;
    const rtcp = await bindSocket(p + 1);
    if (!rtcp) {
      rtp.close();
      continue;
    }
    usedPorts.add(p);
    return { rtp, rtcp, port: p };
  }
  throw new MediaError('media.ports_exhausted', `no free RTP port pair in ${init.rtpPortMin}-${init.rtpPortMax} on ${init.bind}`);
}

const wavCache = new Map<string, { mtimeMs: number; size: number; data: Int16Array }>();

/** Samples of an 8 kHz mono 16-bit PCM WAV (the format the sound library produces); throws naming what is wrong. */
function decodeWav8kMono(buf: Buffer): Int16Array {
  const info = parseWav(buf);
  const problems = telephoneFormatProblems(info);
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

function endpoint(id: number): RelayEndpoint {
  const e = endpoints.get(id);
  if (!e) throw new MediaError('media.endpoint_closed', `media endpoint ${id} is closed`);
  return e;
}

function unbridge(e: RelayEndpoint): void {
  e.leaveFastPath();
  if (e.peer) {
    e.peer.peer = null;
    e.peer = null;
  }
}

async function handle(cmd: WorkerCommand): Promise<unknown> {
  switch (cmd.op) {
    case 'open': {
      const { rtp, rtcp, port: p } = await allocatePair();
      const e = new RelayEndpoint(cmd.ep, rtp, rtcp, p, post);
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
        a.refreshFastPath();
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
      for (let i = 0; i < C_COUNT; i++) totals[i]! += e.counters[i]!;
      await e.close();
      usedPorts.delete(e.port);
      return undefined;
    }
    case 'stats':
      return stats();
    case 'stall': {
      const until = performance.now() + cmd.ms;
      while (performance.now() < until) {
        /* busy on purpose */
      }
      return undefined;
    }
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

/**
 * The relay's fast path (fast-path.ts): on unless the engine was told otherwise; why not, when it is not there. Opened
 * after the priority is set: its thread inherits this thread's niceness.
 */
let fastPathState = 'off';
/** What the forwarding threads run at, as rtp-forward.c said ('' while the fast path is not there). */
let fastPathScheduling = '';
// One forwarding thread: on the quiet 2-core machine it cost less CPU per call and added less latency than two
// (docs/performance.md, "The relay's fast path").
const fastPathThreads = Math.max(1, Math.min(8, init.fastPathThreads ?? 1));
if (init.fastPath !== false) {
  const fw = loadRtpForward();
  if (typeof fw === 'string') fastPathState = `unavailable: ${fw}`;
  else {
    try {
      fastPathScheduling = fw.open((ep, event) => endpoints.get(ep)?.fastDigit(event), ULAW_TO_ALAW, ALAW_TO_ULAW, fastPathThreads, Math.max(0, Math.min(99, init.fastPathRealtime ?? 0)));
      fastPath.forward = fw;
      fastPathState = 'native';
    } catch (err) {
      fastPathState = `unavailable: ${(err as Error).message}`;
    }
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
    fastPath: fastPathState,
    fastPathScheduling,
    fastPairs: fastPath.pairs,
    fastFailures: fastPath.failures,
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

let catchUpDeferred = false;

function onClock(): void {
  if (endpoints.size === 0) {
    clockRunning = false;
    return;
  }
  const due = Math.floor((performance.now() - t0) / TICK_MS);
  let n = due - done;
  // Late (the thread was stalled): timers run before I/O in Node's loop, so the packets that arrived meanwhile
  // still sit in the sockets. Catch up in the check phase, after the poll phase has read them into the rings;
  // otherwise recordings would get silence for that time and the delayed audio would be cut at the end.
  if (n > 1 && !catchUpDeferred) {
    catchUpDeferred = true;
    setImmediate(onClock);
    return;
  }
  catchUpDeferred = false;
  if (n > MAX_CATCH_UP) {
    // Players skip the lost time (a burst of seconds of audio helps nobody), but recordings keep it: their
    // files must last as long as the call did, and the samples that arrived meanwhile wait in their rings.
    const skipped = n - MAX_CATCH_UP;
    lateTicks += skipped;
    for (let k = 0; k < skipped; k++) {
      mediaClock.tick++;
      RelayEndpoint.tickAll(endpoints.values(), true);
    }
    done += skipped;
    n = MAX_CATCH_UP;
  }
  for (let k = 0; k < n; k++) {
    mediaClock.tick++;
    done++;
    RelayEndpoint.tickAll(endpoints.values());
  }
  setTimeout(onClock, Math.max(0, t0 + (done + 1) * TICK_MS - performance.now()));
}

port.on('message', (m: WorkerCommand | WorkerCommand[]) => {
  if (Array.isArray(m)) for (const cmd of m) run(cmd);
  else run(m);
});

/**
 * Endpoints whose 'open' is still binding its sockets: the commands given for them meanwhile (a configure sent with
 * the open, a close) wait for it, in the order they came, instead of failing on an endpoint not there yet.
 */
const opening = new Map<number, Promise<void>>();
const ignore = (): void => undefined;

function run(cmd: WorkerCommand): void {
  let result: Promise<unknown>;
  if (cmd.op === 'open') {
    result = handle(cmd);
    const settled = result.then(ignore, ignore);
    opening.set(cmd.ep, settled);
    void settled.then(() => {
      if (opening.get(cmd.ep) === settled) opening.delete(cmd.ep);
    });
  } else {
    const a = 'ep' in cmd ? opening.get(cmd.ep) : undefined;
    const b = cmd.op === 'bridge' ? opening.get(cmd.other) : undefined;
    result = a || b ? Promise.all([a, b]).then(() => handle(cmd)) : handle(cmd);
  }
  const batched = SET_UP.has(cmd.op);
  result.then(
    (value) => post({ type: 'reply', id: cmd.id, ok: true, value }, batched),
    (err: unknown) =>
      post(
        {
          type: 'reply',
          id: cmd.id,
          ok: false,
          code: err instanceof MediaError ? err.code : 'media.internal',
          message: err instanceof Error ? err.message : String(err),
        },
        batched,
      ),
  );
}

post({ type: 'ready', thread, nice: niceness ?? 0, fastPath: fastPathState, fastPathScheduling });
