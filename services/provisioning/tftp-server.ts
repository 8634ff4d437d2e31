// Read-only TFTP server (RFC 1350) with option negotiation (RFC 2347): blksize (RFC 2348), tsize and timeout
// (RFC 2349). Files come from a resolver (generated configs, cached firmware), never from a path on disk.
import dgram from 'node:dgram';
import { errorMessage, type Clock, type Logger, type TimerHandle } from '../shared/index.js';

/** RFC 1350 §5 opcodes. */
const OP = { RRQ: 1, WRQ: 2, DATA: 3, ACK: 4, ERROR: 5, OACK: 6 } as const;

/** RFC 1350 appendix error codes. */
export const TFTP_ERROR = { notDefined: 0, fileNotFound: 1, accessViolation: 2, illegalOperation: 4, unknownTid: 5, optionRefused: 8 } as const;

export type TftpResolution = { data: Buffer } | { error: number; message: string };
export type TftpResolver = (file: string, remote: { address: string; port: number }) => TftpResolution | Promise<TftpResolution>;

export interface TftpServerOptions {
  bind: string;
  port: number;
  resolve: TftpResolver;
  clock: Clock;
  logger: Logger;
  /** Retransmissions of a block before the transfer is abandoned (default 5). */
  retries?: number;
  /** Default retransmission timeout in ms when the client asks for none (default 1000). */
  timeoutMs?: number;
  /** Transfers at once; more requests get an error (default 32). */
  maxTransfers?: number;
}

interface Transfer {
  socket: dgram.Socket;
  data: Buffer;
  blksize: number;
  block: number;
  blocks: number;
  tries: number;
  timeoutMs: number;
  timer: TimerHandle | undefined;
  address: string;
  port: number;
  /** Waiting for the ACK of block 0 (our OACK). */
  oack: Buffer | undefined;
}

export interface TftpRequest {
  opcode: number;
  file: string;
  mode: string;
  options: Map<string, string>;
}

/** Parses an RRQ/WRQ: opcode, then NUL-terminated file name, mode and option/value pairs (RFC 2347 §2). */
export function parseTftpRequest(buf: Buffer): TftpRequest | undefined {
  if (buf.length < 4) return undefined;
  const opcode = buf.readUInt16BE(0);
  const parts: string[] = [];
  let start = 2;
  for (let i = 2; i < buf.length; i++) {
    if (buf[i] === 0) {
      parts.push(buf.toString('latin1', start, i));
      start = i + 1;
    }
  }
  if (start !== buf.length || parts.length < 2 || parts.length % 2 !== 0) return undefined;
  const options = new Map<string, string>();
  for (let i = 2; i < parts.length; i += 2) options.set(parts[i]!.toLowerCase(), parts[i + 1]!);
  return { opcode, file: parts[0]!, mode: parts[1]!.toLowerCase(), options };
}

function errorPacket(code: number, message: string): Buffer {
  const msg = Buffer.from(message.slice(0, 200), 'latin1');
  const b = Buffer.alloc(5 + msg.length);
  b.writeUInt16BE(OP.ERROR, 0);
  b.writeUInt16BE(code, 2);
  msg.copy(b, 4);
  return b;
}

export class TftpServer {
  private socket: dgram.Socket | undefined;
  private readonly transfers = new Set<Transfer>();
  private readonly log: Logger;
  private counters = { requests: 0, served: 0, refused: 0, abandoned: 0 };

  constructor(private readonly opts: TftpServerOptions) {
    this.log = opts.logger.child({ module: 'tftp' });
  }

  async start(): Promise<void> {
    const socket = dgram.createSocket({ type: 'udp4' });
    socket.on('message', (buf, rinfo) => void this.onRequest(buf, rinfo.address, rinfo.port));
    socket.on('error', (err) => this.log.warn('tftp socket error', { error: err.message }));
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(this.opts.port, this.opts.bind, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    this.socket = socket;
  }

  port(): number {
    return this.socket?.address().port ?? this.opts.port;
  }

  async stop(): Promise<void> {
    for (const t of [...this.transfers]) this.finish(t);
    const s = this.socket;
    this.socket = undefined;
    if (s) await new Promise<void>((r) => s.close(() => r()));
  }

  stats(): Record<string, number> {
    return { ...this.counters, transfers: this.transfers.size };
  }

  private async onRequest(buf: Buffer, address: string, port: number): Promise<void> {
    this.counters.requests++;
    const main = this.socket;
    if (!main) return;
    const req = parseTftpRequest(buf);
    const reply = (b: Buffer): void => main.send(b, port, address);
    if (!req || (req.opcode !== OP.RRQ && req.opcode !== OP.WRQ)) {
      // A stray DATA/ACK/ERROR on port 69 belongs to no transfer (RFC 1350 §4: unknown TID).
      if (buf.length >= 2 && buf.readUInt16BE(0) === OP.ERROR) return;
      this.counters.refused++;
      reply(errorPacket(TFTP_ERROR.illegalOperation, 'Illegal TFTP operation'));
      return;
    }
    if (req.opcode === OP.WRQ) {
      this.counters.refused++;
      reply(errorPacket(TFTP_ERROR.accessViolation, 'This server is read-only'));
      return;
    }
    if (req.mode !== 'octet' && req.mode !== 'netascii') {
      this.counters.refused++;
      reply(errorPacket(TFTP_ERROR.illegalOperation, `Unsupported mode ${req.mode.slice(0, 20)}`));
      return;
    }
    if (this.transfers.size >= (this.opts.maxTransfers ?? 32)) {
      this.counters.refused++;
      reply(errorPacket(TFTP_ERROR.notDefined, 'Server busy, try again'));
      return;
    }
    let res: TftpResolution;
    try {
      res = await this.opts.resolve(req.file, { address, port });
    } catch (err) {
      this.log.error('tftp resolver failed', { file: req.file, error: errorMessage(err) });
      res = { error: TFTP_ERROR.notDefined, message: 'Internal error' };
    }
    if ('error' in res) {
      this.counters.refused++;
      reply(errorPacket(res.error, res.message));
      return;
    }
    this.begin(req, res.data, address, port);
  }

  private begin(req: TftpRequest, data: Buffer, address: string, port: number): void {
    // RFC 1350 §4: each transfer uses a new TID (a fresh port) on our side.
    const socket = dgram.createSocket({ type: 'udp4' });
    const accepted = new Map<string, string>();
    let blksize = 512;
    const bs = req.options.get('blksize');
    if (bs !== undefined && /^\d+$/.test(bs)) {
      // RFC 2348: 8-65464 octets; we answer with at most what fits an Ethernet frame (1468) or what was asked.
      blksize = Math.max(8, Math.min(Number(bs), 65464));
      accepted.set('blksize', String(blksize));
    }
    let timeoutMs = this.opts.timeoutMs ?? 1000;
    const to = req.options.get('timeout');
    if (to !== undefined && /^\d+$/.test(to) && Number(to) >= 1 && Number(to) <= 255) {
      timeoutMs = Number(to) * 1000;
      accepted.set('timeout', to);
    }
    // RFC 2349: in a read request tsize is 0 and the server answers with the file's size.
    if (req.options.has('tsize')) accepted.set('tsize', String(data.length));
    const t: Transfer = {
      socket,
      data,
      blksize,
      block: 0,
      blocks: Math.floor(data.length / blksize) + 1,
      tries: 0,
      timeoutMs,
      timer: undefined,
      address,
      port,
      oack: undefined,
    };
    this.transfers.add(t);
    socket.on('message', (buf, rinfo) => this.onTransferMessage(t, buf, rinfo.address, rinfo.port));
    socket.on('error', (err) => {
      this.log.debug('tftp transfer socket error', { error: err.message });
      this.finish(t);
    });
    socket.bind(0, this.opts.bind === '0.0.0.0' ? undefined : this.opts.bind, () => {
      if (accepted.size > 0) {
        // RFC 2347: an OACK lists the options accepted; the client ACKs block 0 and data starts at block 1.
        const parts = [...accepted].flatMap(([k, v]) => [k, v]);
        const body = Buffer.from(parts.map((p) => `${p}\0`).join(''), 'latin1');
        t.oack = Buffer.concat([Buffer.from([0, OP.OACK]), body]);
        this.transmit(t, t.oack);
      } else {
        t.block = 1;
        this.transmit(t, this.dataPacket(t));
      }
    });
  }

  private dataPacket(t: Transfer): Buffer {
    const start = (t.block - 1) * t.blksize;
    const chunk = t.data.subarray(start, Math.min(start + t.blksize, t.data.length));
    const b = Buffer.alloc(4 + chunk.length);
    b.writeUInt16BE(OP.DATA, 0);
    // Block numbers roll over after 65535 (a firmware of more than 32 MB at 512-byte blocks).
    b.writeUInt16BE(t.block & 0xffff, 2);
    chunk.copy(b, 4);
    return b;
  }

  private transmit(t: Transfer, packet: Buffer): void {
    this.opts.clock.clearTimeout(t.timer);
    t.socket.send(packet, t.port, t.address);
    t.timer = this.opts.clock.setTimeout(() => {
      if (++t.tries > (this.opts.retries ?? 5)) {
        this.counters.abandoned++;
        this.log.info('tftp transfer abandoned: no ACK', { to: t.address, block: t.block });
        this.finish(t);
        return;
      }
      this.transmit(t, packet);
    }, t.timeoutMs);
  }

  private onTransferMessage(t: Transfer, buf: Buffer, address: string, port: number): void {
    if (address !== t.address || port !== t.port) {
      // RFC 1350 §4: a packet from another TID gets an error, and the transfer goes on.
      t.socket.send(errorPacket(TFTP_ERROR.unknownTid, 'Unknown transfer ID'), port, address);
      return;
    }
    if (buf.length < 4) return;
    const op = buf.readUInt16BE(0);
    if (op === OP.ERROR) {
      this.finish(t);
      return;
    }
    if (op !== OP.ACK) return;
    const acked = buf.readUInt16BE(2);
    if (acked !== (t.block & 0xffff)) return; // a duplicate ACK: never answer it (Sorcerer's Apprentice, RFC 1123)
    t.tries = 0;
    if (t.block === t.blocks) {
      this.counters.served++;
      this.finish(t);
      return;
    }
    t.block++;
    this.transmit(t, this.dataPacket(t));
  }

  private finish(t: Transfer): void {
    this.opts.clock.clearTimeout(t.timer);
    if (!this.transfers.delete(t)) return;
    try {
      t.socket.close();
    } catch {
      /* already closed */
    }
  }
}
