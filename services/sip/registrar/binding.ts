// A registration binding (RFC 3261 §10.2.1): one contact of one extension's address-of-record, with how to reach it.

/** Where the REGISTER came from: what a NATed phone is reached through (RFC 3581 received/rport, the TCP connection). */
export interface BindingSource {
  transport: 'udp' | 'tcp' | 'tls';
  address: string;
  port: number;
  /** TCP connection to reuse (RFC 5626 style reuse); lost across restarts. */
  connectionId?: string | undefined;
}

export interface Binding {
  extensionId: number;
  extensionNumber: string;
  /** Address-of-record, e.g. sip:1000@relais.test. */
  aor: string;
  /** Contact URI as the phone sent it (key of the binding together with the extension). */
  contact: string;
  source: BindingSource;
  callId: string;
  cseq: number;
  /** Wall-clock ms since the epoch. */
  expiresAt: number;
  userAgent: string | undefined;
  /** +sip.instance (RFC 5626): a re-registration of the same instance replaces its old contact. */
  instanceId: string | undefined;
  q: number;
  /**
   * expires_at as last written to SQLite (or queued for the next write); kept by the binding store, which leaves a
   * refresh unwritten while this still covers most of the granted time (docs/sip-services.md, "Registrar").
   */
  persistedExpiresAt?: number;
}
