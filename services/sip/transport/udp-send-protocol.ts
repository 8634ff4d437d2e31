// Messages between the signalling thread and the UDP send thread, and the packing of one turn's datagrams into one
// transferable buffer (one postMessage per turn of the event loop, whatever the number of datagrams).
import type dgram from 'node:dgram';
export { type UdpHandle, udpHandle } from '../../shared/udp-handle.js';

export type SendThreadRequest =
  | { op: 'attach'; id: number; fd: number; type: 'udp4' | 'udp6' }
  | { op: 'send'; id: number; packed: ArrayBuffer }
  | { op: 'detach'; id: number };

export type SendThreadReply =
  | { op: 'attached'; id: number }
  | { op: 'failed'; id: number; message: string }
  | { op: 'detached'; id: number }
  /** Send errors so far on this socket (a running count), and the last one's message. */
  | { op: 'errors'; id: number; count: number; last: string | undefined }
  /** A datagram the send thread read before it stopped reading (handed to the signalling thread as received). */
  | { op: 'received'; id: number; data: ArrayBuffer; address: string; port: number };

/** Per datagram: [u16 port][u8 address length][address, latin1][u32 length][bytes]. */
const FIXED = 2 + 1 + 4;

/**
 * Packs datagrams given as (buffer, port, address) triples into one buffer of its own (not from Buffer's shared pool,
 * so that its ArrayBuffer can be transferred). Addresses longer than 255 characters cannot occur (IP literals).
 */
export function packDatagrams(out: ReadonlyArray<Buffer | number | string>): Buffer {
  let total = 0;
  for (let i = 0; i < out.length; i += 3) total += FIXED + (out[i + 2] as string).length + (out[i] as Buffer).length;
  const packed = Buffer.allocUnsafeSlow(total);
  let p = 0;
  for (let i = 0; i < out.length; i += 3) {
    const buf = out[i] as Buffer;
    const address = out[i + 2] as string;
    packed.writeUInt16LE(out[i + 1] as number, p);
    packed[p + 2] = address.length;
    p += 3;
    p += packed.write(address, p, 'latin1');
    packed.writeUInt32LE(buf.length, p);
    p += 4;
    packed.set(buf, p);
    p += buf.length;
  }
  return packed;
}

export function unpackDatagrams(packed: Buffer, each: (buf: Buffer, port: number, address: string) => void): void {
  let p = 0;
  while (p + FIXED <= packed.length) {
    const port = packed.readUInt16LE(p);
    const addrLen = packed[p + 2]!;
    p += 3;
    const address = packed.toString('latin1', p, p + addrLen);
    p += addrLen;
    const len = packed.readUInt32LE(p);
    p += 4;
    each(packed.subarray(p, p + len), port, address);
    p += len;
  }
}
