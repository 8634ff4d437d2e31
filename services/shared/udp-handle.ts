// The libuv handle under a dgram socket: its descriptor, and stopping/starting its reading (Node has no public accessor).
// Used by the SIP send thread (services/sip/transport) and the media worker's RTP fast path (services/media/worker).
import type dgram from 'node:dgram';

/** What the send thread and the media fast path use of a dgram socket's libuv handle. */
export interface UdpHandle {
  fd?: number;
  recvStop?: () => number;
  recvStart?: () => number;
}

/** The libuv handle under a dgram socket, found in its internal state (undefined when Node keeps it elsewhere). */
export function udpHandle(socket: dgram.Socket): UdpHandle | undefined {
  for (const sym of Object.getOwnPropertySymbols(socket)) {
    const v = (socket as unknown as Record<symbol, unknown>)[sym];
    if (v && typeof v === 'object' && 'handle' in v) return (v as { handle?: UdpHandle }).handle;
  }
  return undefined;
}

