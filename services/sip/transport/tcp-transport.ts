// SIP over TCP (RFC 3261 §18.3): Content-Length framing, connections kept per peer and reused both ways. The TLS
// transport (tls-transport.ts) is the same stream handling over node:tls sockets.
import net from 'node:net';
import { SystemClock, newId, type Clock, type Logger } from '../../shared/index.js';
import { frameStream, SipParseError } from '../message/index.js';
import { type SipTransport, type TransportSink } from './sip-transport.js';
import { type Source, type Target } from './source.js';

interface Connection {
  id: string;
  socket: net.Socket;
  key: string;
  buf: Buffer;
  source: Source;
  /** clock.monotonic() when the unfinished message in `buf` began (undefined: nothing pending). */
  partialSince: number | undefined;
}

export interface TcpTransportOptions {
  /** Close a connection after this long without traffic (phones refresh their registration well within it). */
  idleMs?: number;
  connectTimeoutMs?: number;
  /** Connect and partial-message timers (STYLE: injected clock); the system clock when absent. */
  clock?: Clock;
  maxConnections?: number;
  /** Connections accepted from one address at most (default 256: an office behind one NAT). */
  maxConnectionsPerAddress?: number;
  /** A message must be complete within this long of its first byte (default 30 s): no slow-drip hold of buffers. */
  partialTimeoutMs?: number;
}

export class TcpTransport implements SipTransport {
  readonly kind: 'tcp' | 'tls' = 'tcp';
  readonly reliable = true;
  private server: net.Server | undefined;
  private sink: TransportSink | undefined;
  private readonly byId = new Map<string, Connection>();
  private readonly byKey = new Map<string, Connection>();
  private readonly pending = new Map<string, Promise<Connection>>();
  private accepted = 0;
  private framingErrors = 0;
  private refused = 0;
  private readonly perAddress = new Map<string, number>();
  /** The bound port, read once after listen (server.address() is a getsockname() syscall). */
  private boundPort: number | undefined;
  private readonly clock: Clock;

  constructor(
    private readonly bind: string,
    private readonly requestedPort: number,
    protected readonly log: Logger,
    private readonly opts: TcpTransportOptions = {},
  ) {
    this.clock = opts.clock ?? new SystemClock();
  }

  listen(sink: TransportSink): Promise<void> {
    this.sink = sink;
    const server = this.createServer((socket) => {
      const from = (socket.remoteAddress ?? '').replace(/^::ffff:/, '');
      if (this.byId.size >= (this.opts.maxConnections ?? 10_000) || (this.perAddress.get(from) ?? 0) >= (this.opts.maxConnectionsPerAddress ?? 256)) {
        this.refused++;
        socket.destroy();
        return;
      }
      this.accepted++;
      this.adopt(socket);
    });
    this.server = server;
    server.on('error', (err) => this.log.warn(`${this.kind} server error`, { error: err.message }));
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.requestedPort, this.bind, () => {
        server.off('error', reject);
        const a = server.address();
        this.boundPort = a && typeof a === 'object' ? a.port : undefined;
        resolve();
      });
    });
  }

  port(): number {
    return this.boundPort ?? this.requestedPort;
  }

  /** The listening server; each accepted socket (for TLS: once its handshake is done) goes to `onSocket`. */
  protected createServer(onSocket: (socket: net.Socket) => void): net.Server {
    return net.createServer(onSocket);
  }

  /** An outgoing connection; `connected` fires when it can carry SIP (for TLS: after the handshake). */
  protected dial(address: string, port: number): { socket: net.Socket; connected: string } {
    return { socket: net.connect({ host: address, port }), connected: 'connect' };
  }

  private adopt(socket: net.Socket): Connection {
    const address = (socket.remoteAddress ?? '').replace(/^::ffff:/, '');
    const port = socket.remotePort ?? 0;
    const id = newId();
    const key = `${address}:${port}`;
    const conn: Connection = { id, socket, key, buf: Buffer.alloc(0), source: { transport: this.kind, address, port, connectionId: id }, partialSince: undefined };
    this.byId.set(id, conn);
    this.byKey.set(key, conn);
    this.perAddress.set(address, (this.perAddress.get(address) ?? 0) + 1);
    socket.setNoDelay(true);
    socket.setTimeout(this.opts.idleMs ?? 3_600_000);
    socket.on('timeout', () => socket.destroy());
    socket.on('data', (chunk: Buffer) => this.onData(conn, chunk));
    socket.on('error', (err) => this.log.debug(`${this.kind} connection error`, { peer: key, error: err.message }));
    socket.on('close', () => {
      const left = (this.perAddress.get(address) ?? 1) - 1;
      if (left <= 0) this.perAddress.delete(address);
      else this.perAddress.set(address, left);
      this.byId.delete(id);
      if (this.byKey.get(key) === conn) this.byKey.delete(key);
    });
    return conn;
  }

  private onData(conn: Connection, chunk: Buffer): void {
    conn.buf = conn.buf.length === 0 ? chunk : Buffer.concat([conn.buf, chunk]);
    let offset = 0;
    for (;;) {
      if (offset >= conn.buf.length) break;
      let frame;
      try {
        frame = frameStream(conn.buf, offset);
      } catch (err) {
        // Framing is lost for good on this stream: answer if possible, then close (§18.3).
        this.framingErrors++;
        const reason = err instanceof SipParseError ? err.reason : String(err);
        this.sink?.onFramingError(reason, conn.buf.subarray(offset), conn.source);
        conn.buf = Buffer.alloc(0);
        conn.socket.end();
        return;
      }
      if (frame.kind === 'incomplete') break;
      if (frame.kind === 'message') this.sink?.onMessage(conn.buf.subarray(offset, offset + frame.length), conn.source);
      // RFC 5626 §4.4.1: a double-CRLF "ping" is answered with a single-CRLF "pong".
      else if (frame.length >= 4) conn.socket.write('\r\n');
      offset += frame.length;
    }
    conn.buf = offset >= conn.buf.length ? Buffer.alloc(0) : Buffer.from(conn.buf.subarray(offset));
    // What is buffered is bounded by framing (64 KiB of headers + a 64 KiB body); the time it may stay is bounded
    // here: an unfinished message gets partialTimeoutMs, then the connection closes.
    const limit = this.opts.partialTimeoutMs ?? 30_000;
    if (conn.buf.length === 0) {
      if (conn.partialSince !== undefined) {
        conn.partialSince = undefined;
        conn.socket.setTimeout(this.opts.idleMs ?? 3_600_000);
      }
    } else if (conn.partialSince === undefined) {
      conn.partialSince = this.clock.monotonic();
      conn.socket.setTimeout(limit);
    } else if (this.clock.monotonic() - conn.partialSince > limit) {
      this.framingErrors++;
      this.sink?.onFramingError(`message not complete within ${limit / 1000} s`, conn.buf, conn.source);
      conn.buf = Buffer.alloc(0);
      conn.socket.destroy();
    }
  }

  private connect(address: string, port: number): Promise<Connection> {
    const key = `${address}:${port}`;
    const existing = this.pending.get(key);
    if (existing) return existing;
    const p = new Promise<Connection>((resolve, reject) => {
      const { socket, connected } = this.dial(address, port);
      const timer = this.clock.setTimeout(() => {
        socket.destroy();
        reject(new Error(`${this.kind.toUpperCase()} connect to ${key} timed out`));
      }, this.opts.connectTimeoutMs ?? 5000);
      socket.once(connected, () => {
        this.clock.clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(this.adopt(socket));
      });
      socket.once('error', (err) => {
        this.clock.clearTimeout(timer);
        reject(new Error(`${this.kind.toUpperCase()} connect to ${key} failed: ${err.message}`));
      });
    });
    this.pending.set(key, p);
    const clear = (): void => {
      this.pending.delete(key);
    };
    p.then(clear, clear);
    return p;
  }

  async send(buf: Buffer, target: Target): Promise<Source> {
    let conn = target.connectionId ? this.byId.get(target.connectionId) : undefined;
    conn ??= this.byKey.get(`${target.address}:${target.port}`);
    if (!conn || conn.socket.destroyed) conn = await this.connect(target.address, target.port);
    conn.socket.write(buf);
    return conn.source;
  }

  hasConnection(connectionId: string): boolean {
    return this.byId.has(connectionId);
  }

  async close(): Promise<void> {
    for (const c of this.byId.values()) c.socket.destroy();
    this.byId.clear();
    this.byKey.clear();
    const s = this.server;
    this.server = undefined;
    this.boundPort = undefined;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  stats(): Record<string, number> {
    return { connections: this.byId.size, accepted: this.accepted, refused: this.refused, framingErrors: this.framingErrors };
  }
}
