// Messages between the main thread (BuiltinMediaEngine) and the media worker: commands with replies, and events.
// Each side sends what one event-loop turn produced as one message (an array when there are several): a
// postMessage wakes the other thread, and a call set-up issues several commands at once.
import type { Codec, DtmfMethod, PlayItem, PlayResult } from '../engine.js';

/**
 * Young generation of the media worker's V8 heap (MB; 3 MB = 1 MB semi-spaces). Every received datagram is a
 * Buffer with its own backing store, and a scavenge's pause grows with the dead ones it frees: with V8's default
 * (semi-spaces growing to several MB) the worker paused 1-3 ms every ~300 ms at 200 calls, long enough to show in
 * the relay's p99; with 1 MB it pauses about 0.3-0.5 ms every ~90 ms for the same total GC time.
 */
export const MEDIA_WORKER_YOUNG_GENERATION_MB = 3;

export interface WorkerInit {
  bind: string;
  rtpPortMin: number;
  rtpPortMax: number;
  /** Thread priority to ask for (nice value, e.g. -10); undefined or 0 = leave it. */
  nice?: number;
  /** RTCP report interval (ms, default 5000). */
  rtcpIntervalMs?: number;
  /** Hand bridged legs that only relay to the native forwarder (default true; docs/media.md). */
  fastPath?: boolean;
  /** Forwarding threads of the fast path (default 1). */
  fastPathThreads?: number;
  /** SCHED_FIFO priority asked for the forwarding threads (0 or absent: none). */
  fastPathRealtime?: number;
}

/** Negotiated media of one endpoint, as the worker needs it. */
export interface EndpointConfig {
  remoteAddress: string;
  remotePort: number;
  remoteRtcpPort: number;
  codec: Codec;
  pt: number;
  /** telephone-event payload type, -1 when not negotiated (then in-band DTMF is detected and sent). */
  tePt: number;
  ptime: number;
  /** We may send to the remote (our direction sendrecv/sendonly and theirs lets it in). */
  send: boolean;
  /** The remote is expected to send: arms the RTP timeout. */
  expectRtp: boolean;
  /** 0 = no timeout. */
  rtpTimeoutMs: number;
  /** SDES-SRTP keys of the leg (base64 key||salt for each direction); null = plain RTP. */
  srtp: { suite: 'AES_CM_128_HMAC_SHA1_80' | 'AES_CM_128_HMAC_SHA1_32'; tx: string; rx: string } | null;
}

export type WorkerCommand =
  | { op: 'open'; id: number; ep: number }
  | { op: 'configure'; id: number; ep: number; cfg: EndpointConfig }
  | { op: 'bridge'; id: number; ep: number; other: number }
  | { op: 'unbridge'; id: number; ep: number }
  | { op: 'play'; id: number; ep: number; play: number; items: PlayItem[]; loop: boolean; interrupt: boolean }
  | { op: 'stopPlay'; id: number; ep: number; result: PlayResult }
  | { op: 'record'; id: number; ep: number; file: string; direction: 'in' | 'out' | 'both'; stereo: boolean }
  | { op: 'stopRecord'; id: number; ep: number }
  | { op: 'sendDtmf'; id: number; ep: number; digits: string }
  | { op: 'close'; id: number; ep: number }
  | { op: 'stats'; id: number }
  /** Test hook: keeps the worker thread busy for `ms`, as a starved thread would be. */
  | { op: 'stall'; id: number; ms: number };

export interface WorkerStats {
  endpoints: number;
  /** "PID/TID" of the worker thread (for CPU sampling by benchmarks). */
  thread: string;
  rxPackets: number;
  txPackets: number;
  relayed: number;
  dropped: number;
  rtcpPackets: number;
  lateTicks: number;
  /** The worker thread's nice value. */
  nice: number;
  /** The relay's fast path: 'native', 'off' (configured so), or 'unavailable: <why>'. */
  fastPath: string;
  /** What the forwarding threads run at: 'SCHED_FIFO <p>', 'normal', 'normal (SCHED_FIFO <p>: <why not>)'; '' without them. */
  fastPathScheduling: string;
  /** Bridged pairs the fast path relays now. */
  fastPairs: number;
  /** Hand-overs the fast path refused (the pair stayed with the worker). */
  fastFailures: number;
}

export type WorkerMessage =
  | { type: 'ready'; thread: string; nice: number; fastPath: string; fastPathScheduling: string }
  | { type: 'reply'; id: number; ok: true; value?: unknown }
  | { type: 'reply'; id: number; ok: false; code: string; message: string }
  | { type: 'dtmf'; ep: number; digit: string; method: DtmfMethod }
  | { type: 'playDone'; ep: number; play: number; result: PlayResult }
  | { type: 'rtpTimeout'; ep: number }
  | { type: 'error'; ep: number; code: string; message: string };
