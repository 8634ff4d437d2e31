// The UDP send thread (docs/performance.md, "SIP sends on the second core"): sends the datagrams the signalling
// thread packs for it, through a socket on the signalling socket's own file descriptor, so they leave from the
// SIP port. It never reads that descriptor (the signalling thread does) and never closes it (see udp-send-thread.ts).
import dgram from 'node:dgram';
import { parentPort } from 'node:worker_threads';
import { type SendThreadReply, type SendThreadRequest, udpHandle, unpackDatagrams } from './udp-send-protocol.js';

const port = parentPort;
if (!port) throw new Error('udp-send-worker runs as a worker thread');

interface Attached {
  socket: dgram.Socket;
  errors: number;
  lastError: string | undefined;
  reported: number;
}

const sockets = new Map<number, Attached>();
const reply = (m: SendThreadReply): void => port.postMessage(m);

port.on('message', (m: SendThreadRequest) => {
  if (m.op === 'send') {
    const a = sockets.get(m.id);
    if (!a) return;
    unpackDatagrams(Buffer.from(m.packed), (buf, targetPort, address) => {
      try {
        a.socket.send(buf, targetPort, address);
      } catch (err) {
        a.errors++;
        a.lastError = err instanceof Error ? err.message : String(err);
      }
    });
    if (a.errors !== a.reported) {
      a.reported = a.errors;
      reply({ op: 'errors', id: m.id, count: a.errors, last: a.lastError });
    }
    return;
  }
  if (m.op === 'attach') {
    const socket = dgram.createSocket({ type: m.type });
    const a: Attached = { socket, errors: 0, lastError: undefined, reported: 0 };
    socket.on('error', (err) => {
      a.errors++;
      a.lastError = err.message;
    });
    // Whatever this socket would read belongs to the signalling thread; it stops reading as soon as it is open, and
    // passes on anything read before that.
    socket.on('message', (msg, rinfo) => {
      const copy = new Uint8Array(msg);
      reply({ op: 'received', id: m.id, data: copy.buffer, address: rinfo.address, port: rinfo.port });
    });
    try {
      socket.bind({ fd: m.fd }, () => {
        stopReading(socket);
        sockets.set(m.id, a);
        reply({ op: 'attached', id: m.id });
      });
    } catch (err) {
      reply({ op: 'failed', id: m.id, message: err instanceof Error ? err.message : String(err) });
    }
    return;
  }
  if (m.op === 'detach') {
    // Not closed: closing would close the descriptor the signalling thread closes itself (a second close could hit
    // a descriptor reused meanwhile). The handle stays, idle, until the process ends.
    sockets.delete(m.id);
    reply({ op: 'detached', id: m.id });
  }
});

/** Stops libuv reading the descriptor in this thread (dgram has no public call for it; its close() uses the same). */
function stopReading(socket: dgram.Socket): void {
  udpHandle(socket)?.recvStop?.();
}
