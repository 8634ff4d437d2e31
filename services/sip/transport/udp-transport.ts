// SIP over UDP (RFC 3261 §18): one socket on bind:port, one datagram one message.
import dgram from 'node:dgram';
import { SystemClock, type Clock, type Logger } from '../../shared/index.js';
import { type SipTransport, type TransportSink } from './sip-transport.js';
import { type Source, type Target } from './source.js';
import { SendThreadLink } from './udp-send-thread.js';

/** Datagrams in one turn from which they go through the send thread (docs/performance.md). */
const THREAD_MIN_DATAGRAMS = 8;
/** Turns after a threaded one that use the thread too. */
const STICKY_TURNS = 64;

/** How long close() waits for the send thread to let go of the socket (it answers within a turn when healthy). */
const DETACH_WAIT_MS = 1000;

export interface UdpTransportOptions {
  /**
   * Hand the datagrams to the process's UDP send thread (udp-send-thread.ts) once it has opened this socket; until
   * then, and if it cannot, this thread sends them itself.
   */
  sendThread?: boolean;
  clock?: Clock;
}

export class UdpTransport implements SipTransport {
  readonly kind = 'udp' as const;
  readonly reliable = false;
  private socket: dgram.Socket | undefined;
  private received = 0;
  private sent = 0;
  private sendErrors = 0;
  /** Send errors counted by the send thread (a running count it reports). */
  private threadSendErrors = 0;
  private link: SendThreadLink | undefined;
  private linkReady = false;
  /** Turns left that go through the send thread whatever their size (see flush). */
  private stickyTurns = 0;
  /** Datagrams handed to the send thread. */
  private threadSent = 0;
  private sink: TransportSink | undefined;
  /** Datagrams waiting for the end of the current event-loop turn: buffer, port, address, in order. */
  private outbox: Array<Buffer | number | string> = [];
  private flushScheduled = false;
  private readonly flush = (): void => {
    this.flushScheduled = false;
    const out = this.outbox;
    if (out.length === 0) return;
    this.outbox = [];
    const socket = this.socket;
    if (!socket) return;
    // The thread pays off when a turn has several datagrams (a busy box: one message to the thread instead of a
    // sendmsg each); a lone datagram is cheaper to send here than to hand over. Once a turn used the thread, the next
    // STICKY_TURNS turns do too, so that a datagram never overtakes one the thread has not sent yet.
    if (this.linkReady && (out.length >= 3 * THREAD_MIN_DATAGRAMS || this.stickyTurns > 0)) {
      this.stickyTurns = out.length >= 3 * THREAD_MIN_DATAGRAMS ? STICKY_TURNS : this.stickyTurns - 1;
      this.threadSent += out.length / 3;
      this.link!.send(out);
      return;
    }
    for (let i = 0; i < out.length; i += 3) {
      try {
        socket.send(out[i] as Buffer, out[i + 1] as number, out[i + 2] as string);
      } catch (err) {
        // Node throws at once for arguments it refuses; one bad datagram must not stop the others (or the process).
        this.sendErrors++;
        this.log.debug('udp send refused', { to: `${String(out[i + 2])}:${String(out[i + 1])}`, error: err instanceof Error ? err.message : String(err) });
      }
    }
  };
  /** The bound port, read once after bind: socket.address() is a getsockname() syscall, and every Via/Contact asks. */
  private boundPort: number | undefined;

  constructor(
    private readonly bind: string,
    private readonly requestedPort: number,
    private readonly log: Logger,
    private readonly opts: UdpTransportOptions = {},
  ) {}

  listen(sink: TransportSink): Promise<void> {
    const socket = dgram.createSocket({ type: 'udp4', reuseAddr: false });
    this.socket = socket;
    this.sink = sink;
    socket.on('message', (buf, rinfo) => {
      this.received++;
      sink.onMessage(buf, { transport: 'udp', address: rinfo.address, port: rinfo.port });
    });
    // Sends go without a callback (Node then tries a synchronous send first, with no request object and no extra
    // turn of the loop); their errors come here.
    socket.on('error', (err) => {
      this.sendErrors++;
      this.log.warn('udp socket error', { error: err.message });
    });
    return new Promise((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(this.requestedPort, this.bind, () => {
        socket.off('error', reject);
        this.boundPort = socket.address().port;
        // A big receive buffer rides out REGISTER bursts without drops.
        try {
          socket.setRecvBufferSize(4 * 1024 * 1024);
        } catch {
          /* the kernel may cap it; the default still works */
        }
        if (this.opts.sendThread) this.attachSendThread(socket);
        resolve();
      });
    });
  }

  port(): number {
    return this.boundPort ?? this.requestedPort;
  }

  send(buf: Buffer, target: Target): Promise<Source> {
    const socket = this.socket;
    const source: Source = { transport: 'udp', address: target.address, port: target.port };
    if (!socket) return Promise.reject(new Error('UDP transport is not listening'));
    if (!(Number.isInteger(target.port) && target.port > 0 && target.port < 65536)) {
      // A Via or Contact naming port 0 (or none that fits): refuse here, where the caller sees it.
      this.sendErrors++;
      return Promise.reject(new Error(`cannot send UDP to port ${target.port}`));
    }
    this.sent++;
    // Datagrams wait for the end of this turn of the event loop (setImmediate runs once every message read in this
    // poll has been handled), then leave back to back: a peer woken by the first finds the others already queued,
    // instead of one wake-up per datagram (measured: waking the receiver was the largest single cost of a send).
    this.outbox.push(buf, target.port, target.address);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.flush);
    }
    return Promise.resolve(source);
  }

  hasConnection(): boolean {
    return false;
  }

  /**
   * Joins (or leaves) a multicast group: a socket bound to 0.0.0.0 then also receives what is sent to the group on
   * its port (224.0.1.75:5060 for SIP plug-and-play). A socket bound to one address never sees group traffic.
   */
  setMulticast(group: string, iface: string, join: boolean): boolean {
    if (!this.socket || this.bind !== '0.0.0.0') return false;
    try {
      if (join) this.socket.addMembership(group, iface);
      else this.socket.dropMembership(group, iface);
      return true;
    } catch (err) {
      this.log.warn('multicast membership change failed', { group, iface, join, error: err instanceof Error ? err.message : String(err) });
      return false;
    }
  }

  async close(): Promise<void> {
    this.flush();
    const s = this.socket;
    const link = this.link;
    this.link = undefined;
    this.linkReady = false;
    // The send thread lets go of the descriptor before it is closed here (it never closes it itself).
    if (link) {
      const clock = this.opts.clock ?? new SystemClock();
      let timer: ReturnType<Clock['setTimeout']> | undefined;
      await Promise.race([link.detach(), new Promise<void>((resolve) => (timer = clock.setTimeout(resolve, DETACH_WAIT_MS)))]);
      clock.clearTimeout(timer);
    }
    this.socket = undefined;
    this.boundPort = undefined;
    if (!s) return;
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  stats(): Record<string, number> {
    return { received: this.received, sent: this.sent, sendErrors: this.sendErrors + this.threadSendErrors, sendThread: this.linkReady ? 1 : 0, sentByThread: this.threadSent };
  }

  private attachSendThread(socket: dgram.Socket): void {
    const link = SendThreadLink.attach(socket, 'udp4', {
      attached: () => {
        if (this.link === link && this.socket === socket) this.linkReady = true;
      },
      failed: (message) => {
        if (this.link !== link) return;
        this.link = undefined;
        this.linkReady = false;
        this.log.warn('UDP sends stay on the signalling thread', { reason: message });
      },
      errors: (count, last) => {
        this.threadSendErrors = count;
        this.log.debug('udp send failed in the send thread', { error: last });
      },
      received: (data, address, port) => {
        if (this.socket !== socket) return;
        this.received++;
        this.sink?.onMessage(data, { transport: 'udp', address, port });
      },
    });
    this.link = link;
  }
}
