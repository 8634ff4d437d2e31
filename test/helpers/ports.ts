// Free loopback ports for tests: asks the kernel for a port free on both UDP and TCP.
import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

async function tryPort(port: number): Promise<number | undefined> {
  const tcp = net.createServer();
  const tcpPort = await new Promise<number | undefined>((resolve) => {
    tcp.once('error', () => resolve(undefined));
    tcp.listen(port, '127.0.0.1', () => resolve((tcp.address() as net.AddressInfo).port));
  });
  if (tcpPort === undefined) return undefined;
  const udp = dgram.createSocket('udp4');
  const ok = await new Promise<boolean>((resolve) => {
    udp.once('error', () => resolve(false));
    udp.bind(tcpPort, '127.0.0.1', () => resolve(true));
  });
  await new Promise<void>((r) => tcp.close(() => r()));
  if (ok) await new Promise<void>((r) => udp.close(() => r()));
  return ok ? tcpPort : undefined;
}

/** Whether a UDP socket can bind this port on `address` right now (bound, then closed again). */
export async function udpFree(port: number, address = '127.0.0.1'): Promise<boolean> {
  const udp = dgram.createSocket('udp4');
  const ok = await new Promise<boolean>((resolve) => {
    udp.once('error', () => resolve(false));
    udp.bind(port, address, () => resolve(true));
  });
  if (ok) await new Promise<void>((r) => udp.close(() => r()));
  return ok;
}

/** Whether this port is free for both TCP and UDP on 127.0.0.1 right now. */
export async function udpTcpFree(port: number): Promise<boolean> {
  const tcp = net.createServer();
  const okTcp = await new Promise<boolean>((resolve) => {
    tcp.once('error', () => resolve(false));
    tcp.listen(port, '127.0.0.1', () => resolve(true));
  });
  if (!okTcp) return false;
  await new Promise<void>((r) => tcp.close(() => r()));
  return udpFree(port);
}

/** A port free for TCP and UDP on 127.0.0.1 right now. */
export async function freePort(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const p = await tryPort(0);
    if (p !== undefined) return p;
  }
  throw new Error('no free port found');
}

// RTP ranges stay in 20000-32767, below the kernel's ephemeral range (32768-60999), so a port from
// freePort() (ephemeral) never falls inside a test's RTP range. Test files run as separate processes, so a
// slot is claimed with an exclusive lock file (released when the process exits): no two files share ports.
const RTP_LOW = 20000;
const RTP_HIGH = 32700;
const SLOT = 200;
const SLOTS = Math.floor((RTP_HIGH - RTP_LOW) / SLOT);
const LOCK_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../test/.tmp/rtp-slots');
const claimed: string[] = [];
let exitHook = false;

/** A range of up to 200 RTP ports that no other test process of this run holds. */
export function rtpRange(size = 100): { min: number; max: number } {
  if (size > SLOT) throw new Error(`rtpRange: ${size} ports asked, at most ${SLOT}`);
  fs.mkdirSync(LOCK_DIR, { recursive: true });
  if (!exitHook) {
    exitHook = true;
    process.once('exit', () => {
      for (const f of claimed) fs.rmSync(f, { force: true });
    });
  }
  const first = (process.pid * 7) % SLOTS;
  for (let i = 0; i < SLOTS; i++) {
    const slot = (first + i) % SLOTS;
    const file = path.join(LOCK_DIR, String(slot));
    try {
      fs.closeSync(fs.openSync(file, 'wx'));
    } catch {
      continue;
    }
    claimed.push(file);
    const min = RTP_LOW + slot * SLOT;
    return { min, max: min + size - 1 };
  }
  throw new Error(`rtpRange: all ${SLOTS} RTP port slots are taken (stale locks in ${LOCK_DIR}?)`);
}
