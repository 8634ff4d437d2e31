// The signalling thread's side of the UDP send thread (docs/performance.md, "SIP sends on the second core").
//
// On loopback and on a busy box a UDP send is the signalling thread's largest single cost: the kernel runs much of
// the receiver's path inside sendmsg(). One worker thread, shared by every UDP transport of the process, sends
// instead: each turn of the event loop the transport packs its datagrams into one buffer and transfers it. The
// worker opens its own dgram socket on the transport's file descriptor (so datagrams leave from the SIP port, as
// RFC 3261 §18.2.2 and RFC 3581 expect), never reads it and never closes it: two handles on one descriptor would
// close it twice, and the second close could hit a descriptor reused meanwhile. The worker lives until the process
// ends (unref'd: it keeps nothing alive).
import { Worker } from 'node:worker_threads';
import type dgram from 'node:dgram';
import { type SendThreadReply, type SendThreadRequest, packDatagrams, udpHandle } from './udp-send-protocol.js';

export interface SendThreadClient {
  /** The worker sends for this socket from now on. */
  attached(): void;
  /** The worker could not open the descriptor: the transport keeps sending itself. */
  failed(message: string): void;
  /** Running count of send errors in the worker. */
  errors(count: number, last: string | undefined): void;
  /** A datagram the worker read before it stopped reading. */
  received(data: Buffer, address: string, port: number): void;
}

let worker: Worker | undefined;
let nextId = 1;
const clients = new Map<number, SendThreadClient>();
const detaching = new Map<number, () => void>();

function thread(): Worker {
  if (worker) return worker;
  const w = new Worker(new URL('./udp-send-worker.js', import.meta.url), {
    name: 'relais-udp-send',
    // Its heap only holds the buffers of one turn at a time.
    resourceLimits: { maxYoungGenerationSizeMb: 4, maxOldGenerationSizeMb: 32 },
  });
  w.on('message', (m: SendThreadReply) => {
    const c = clients.get(m.id);
    if (m.op === 'detached') {
      detaching.get(m.id)?.();
      detaching.delete(m.id);
      return;
    }
    if (!c) return;
    if (m.op === 'attached') c.attached();
    else if (m.op === 'failed') {
      clients.delete(m.id);
      c.failed(m.message);
    } else if (m.op === 'errors') c.errors(m.count, m.last);
    else if (m.op === 'received') c.received(Buffer.from(m.data), m.address, m.port);
  });
  const lost = (why: string): void => {
    // The transports fall back to sending themselves; a new worker is made for the next attach.
    if (worker === w) worker = undefined;
    for (const [id, c] of clients) {
      clients.delete(id);
      c.failed(why);
    }
    for (const done of detaching.values()) done();
    detaching.clear();
  };
  w.on('error', (err) => lost(err.message));
  w.on('exit', (code) => lost(`the UDP send thread exited (${code})`));
  // After the listeners: adding a 'message' listener refs the worker's port again.
  w.unref();
  worker = w;
  return w;
}

/** The file descriptor under a bound dgram socket (-1 when it cannot be read). */
export function socketFd(socket: dgram.Socket): number {
  const fd = udpHandle(socket)?.fd;
  return typeof fd === 'number' ? fd : -1;
}

/** One transport's link to the send thread. */
export class SendThreadLink {
  private constructor(
    readonly id: number,
    private readonly w: Worker,
  ) {}

  /** Asks the send thread to send for `socket`; the client hears attached() or failed(). */
  static attach(socket: dgram.Socket, type: 'udp4' | 'udp6', client: SendThreadClient): SendThreadLink | undefined {
    const fd = socketFd(socket);
    if (fd < 0) return undefined;
    const id = nextId++;
    const w = thread();
    clients.set(id, client);
    w.postMessage({ op: 'attach', id, fd, type } satisfies SendThreadRequest);
    return new SendThreadLink(id, w);
  }

  /** Sends one turn's datagrams, given as (buffer, port, address) triples, with one message. */
  send(out: ReadonlyArray<Buffer | number | string>): void {
    // allocUnsafeSlow: the buffer is its own ArrayBuffer (never a SharedArrayBuffer), so it can be transferred.
    const buffer = packDatagrams(out).buffer as ArrayBuffer;
    this.w.postMessage({ op: 'send', id: this.id, packed: buffer } satisfies SendThreadRequest, [buffer]);
  }

  /** Stops sending for this socket; resolves once the worker has let go of it (before the transport closes it). */
  detach(): Promise<void> {
    clients.delete(this.id);
    if (worker !== this.w) return Promise.resolve();
    return new Promise((resolve) => {
      detaching.set(this.id, resolve);
      this.w.postMessage({ op: 'detach', id: this.id } satisfies SendThreadRequest);
    });
  }
}
