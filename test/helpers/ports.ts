// Free loopback ports for tests: asks the kernel for a port free on both UDP and TCP.
import dgram from 'node:dgram';
import net from 'node:net';

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

/** A port free for TCP and UDP on 127.0.0.1 right now. */
export async function freePort(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const p = await tryPort(0);
    if (p !== undefined) return p;
  }
  throw new Error('no free port found');
}

let nextRtpBase = 20000 + ((process.pid * 37) % 200) * 100;

/** A range of 100 RTP ports unlikely to collide with another test process (pid-spread). */
export function rtpRange(size = 100): { min: number; max: number } {
  const min = nextRtpBase;
  nextRtpBase += size;
  if (nextRtpBase > 60000) nextRtpBase = 20000;
  return { min, max: min + size - 1 };
}
