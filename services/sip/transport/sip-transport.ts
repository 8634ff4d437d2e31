// The seam every transport implements (UDP and TCP now; TLS and WebSocket/RFC 7118 later).
import { type Source, type Target, type TransportKind } from './source.js';

export interface TransportSink {
  /** One framed message's bytes and where they came from. */
  onMessage(buf: Buffer, source: Source): void;
  /** A stream could not be framed (e.g. no Content-Length); the transport closes the connection afterwards. */
  onFramingError(reason: string, partial: Buffer, source: Source): void;
}

export interface SipTransport {
  readonly kind: TransportKind;
  /** True for connection-oriented transports (§18: no retransmissions by the transaction layer). */
  readonly reliable: boolean;
  listen(sink: TransportSink): Promise<void>;
  /** Actual bound port (when 0 was asked for). */
  port(): number;
  /** Sends the bytes; resolves the source it went out on (the connection used, for TCP). */
  send(buf: Buffer, target: Target): Promise<Source>;
  hasConnection(connectionId: string): boolean;
  close(): Promise<void>;
  stats(): Record<string, number>;
  /** Datagram transports: join or leave a multicast group on interface `iface` (SIP plug-and-play); false if not. */
  setMulticast?(group: string, iface: string, join: boolean): boolean;
}
