// The relay's fast path (docs/media.md, "The relay's fast path"): the native forwarder of services/media/native,
// loaded by the media worker, and the layout of the slot through which an endpoint's state moves to it and back.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/**
 * Words (uint32) of an endpoint's slot. 0-5 are the endpoint's live counters (C_* in relay-endpoint.ts), which the
 * forwarder increments while it has the leg; the rest is written by the worker before a hand-over and by the
 * forwarder when it gives the state back (sync, detach). Keep in step with the enum in native/rtp-forward.c.
 */
export const FP = {
  PT: 8,
  TE_PT: 9,
  CODEC: 10,
  SEND: 11,
  LATCHED: 12,
  REMOTE_IP: 13,
  REMOTE_PORT: 14,
  RX_VALID: 15,
  RX_SSRC: 16,
  RX_COUNT: 17,
  BASE_SEQ: 18,
  MAX_SEQ: 19,
  CYCLES: 20,
  TRANSIT_VALID: 21,
  LAST_SEQ: 22,
  LAST_TS: 23,
  SEND_AGO_MS: 24,
  SRC_KIND: 25,
  SRC_SSRC: 26,
  SEQ_OFF: 27,
  TS_OFF: 28,
  TE_VALID: 29,
  TE_TS: 30,
  TE_EVENT: 31,
  TE_REPORTED: 32,
  SSRC: 33,
  /** Float64 index (words 40-41) of the interarrival jitter. */
  JITTER_F64: 20,
} as const;
export const SLOT_WORDS = 48;
export const SLOT_BYTES = SLOT_WORDS * 4;
/** SEND_AGO_MS when the leg never sent. */
export const NEVER = 0xffffffff;

/** The native module's functions (rtp-forward.c). */
export interface RtpForward {
  readonly slotWords: number;
  /**
   * Starts `threads` forwarding threads (1-8); a pair stays on the one it was attached to (the least busy). With
   * `rtPriority` 1-99 they ask for SCHED_FIFO at that priority (0: they keep the worker's). Returns what they run at:
   * `SCHED_FIFO <p>`, `normal`, or `normal (SCHED_FIFO <p>: <why not>)`.
   */
  open(onDigit: (ep: number, event: number) => void, ulawToAlaw: Uint8Array, alawToUlaw: Uint8Array, threads: number, rtPriority: number): string;
  /** Both legs forward natively from now on; returns the pair's handle. Throws when the sockets cannot be handed over. */
  attach(epA: number, fdA: number, slotA: ArrayBuffer, epB: number, fdB: number, slotB: ArrayBuffer): number;
  /** Both legs' state into their slots, the pair still forwarded natively. */
  sync(handle: number): void;
  /** Both legs' state into their slots; the forwarder lets go of both sockets before it returns. */
  detach(handle: number): void;
}

/** Where scripts/build puts the module: dist/native/, three levels above this file's dist/services/media/worker/. */
const MODULE_URL = new URL('../../../native/rtp_forward.node', import.meta.url);

/** Loads the forwarder; a string says why it is not there (then the worker relays every packet itself). */
export function loadRtpForward(): RtpForward | string {
  try {
    const mod = createRequire(import.meta.url)(fileURLToPath(MODULE_URL)) as RtpForward;
    if (mod.slotWords !== SLOT_WORDS) return `rtp_forward.node has a slot of ${mod.slotWords} words, this build expects ${SLOT_WORDS}: rebuild with scripts/build`;
    return mod;
  } catch (err) {
    return `rtp_forward.node did not load (${(err as Error).message.split('\n')[0]}): run scripts/build`;
  }
}

/** Dotted IPv4 → uint32 (host order), or -1 when the text is not an IPv4 address. */
export function ipv4ToUint32(text: string): number {
  const parts = text.split('.');
  if (parts.length !== 4) return -1;
  let v = 0;
  for (const p of parts) {
    const n = Number(p);
    if (p === '' || !Number.isInteger(n) || n < 0 || n > 255) return -1;
    v = v * 256 + n;
  }
  return v;
}

export function uint32ToIpv4(v: number): string {
  return `${v >>> 24}.${(v >>> 16) & 0xff}.${(v >>> 8) & 0xff}.${v & 0xff}`;
}
