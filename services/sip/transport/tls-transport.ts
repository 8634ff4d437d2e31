// SIP over TLS (RFC 3261 §26.2, §18): the TCP transport's framing, limits and connection reuse over node:tls, with the
// box's certificate (docs/security.md). A new certificate serves the next handshake; open connections keep theirs.
import type net from 'node:net';
import tls from 'node:tls';
import { errorMessage, type Logger } from '../../shared/index.js';
import { type TransportSink } from './sip-transport.js';
import { TcpTransport, type TcpTransportOptions } from './tcp-transport.js';

/** Where the TLS transport gets its certificate (the BoxCertificate of services/shared). */
export interface TlsCertificateSource {
  /** Makes the certificate at first start (self-signed) when there is none. */
  ensure(): Promise<void>;
  pem(): { cert: string; key: string };
  onChange(listener: () => void): void;
}

export interface TlsTransportOptions extends TcpTransportOptions {
  /** A handshake must finish within this long (default 10 s): a silent client holds no socket for long. */
  handshakeTimeoutMs?: number;
}

export class TlsTransport extends TcpTransport {
  override readonly kind = 'tls' as const;
  private handshakeFailures = 0;

  constructor(
    bind: string,
    port: number,
    log: Logger,
    private readonly certificate: TlsCertificateSource,
    private readonly tlsOpts: TlsTransportOptions = {},
  ) {
    super(bind, port, log, tlsOpts);
  }

  /** Why TLS is not served (no certificate could be made, port taken); UDP and TCP go on without it. */
  failure: string | undefined;

  override async listen(sink: TransportSink): Promise<void> {
    try {
      await this.certificate.ensure();
      await super.listen(sink);
      this.failure = undefined;
    } catch (err) {
      this.failure = `SIP over TLS not served on port ${this.port()}: ${errorMessage(err)}`;
      this.log.warn('sip tls not started', { error: this.failure });
    }
  }

  protected override createServer(onSocket: (socket: net.Socket) => void): net.Server {
    const server = tls.createServer({ ...this.certificate.pem(), handshakeTimeout: this.tlsOpts.handshakeTimeoutMs ?? 10_000 }, onSocket);
    server.on('tlsClientError', (err) => {
      this.handshakeFailures++;
      this.log.debug('tls handshake failed', { error: err.message });
    });
    this.certificate.onChange(() => {
      try {
        server.setSecureContext(this.certificate.pem());
        this.log.info('sip tls certificate reloaded');
      } catch (err) {
        this.log.error('new certificate not loaded by the SIP TLS server', { error: errorMessage(err) });
      }
    });
    return server;
  }

  /**
   * Requests to a phone whose connection is gone open a new one. Phones present self-signed certificates (or none
   * they could renew), so the peer's certificate is not checked: what TLS buys here is privacy on the wire.
   */
  protected override dial(address: string, port: number): { socket: net.Socket; connected: string } {
    return { socket: tls.connect({ host: address, port, rejectUnauthorized: false }), connected: 'secureConnect' };
  }

  override stats(): Record<string, number> {
    return { ...super.stats(), handshakeFailures: this.handshakeFailures };
  }
}
