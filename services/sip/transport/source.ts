// Where a message came from / goes to: the flow a response or a later request reuses.

/** Transports this stack runs; 'ws' plugs in behind the same SipTransport seam later. */
export type TransportKind = 'udp' | 'tcp' | 'tls';

export interface Source {
  transport: TransportKind;
  address: string;
  port: number;
  /** The TCP connection the message arrived on: send back over it while it is open (registered TCP contacts). */
  connectionId?: string;
}

/** A destination for an outgoing message; connectionId, when given and still open, wins over address:port. */
export interface Target {
  transport: TransportKind;
  address: string;
  port: number;
  connectionId?: string;
}
