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

// RTP ranges stay in 20000-32767, below the kernel's ephemeral range (32768-60999), so a port from
// freePort() (ephemeral) never falls inside a test's RTP range.
const RTP_LOW = 20000;
const RTP_HIGH = 32700;
let nextRtpBase = RTP_LOW + ((process.pid * 37) % 120) * 100;

/** A range of RTP ports unlikely to collide with another test process (pid-spread). */
export function rtpRange(size = 100): { min: number; max: number } {
  if (nextRtpBase + size > RTP_HIGH) nextRtpBase = RTP_LOW;
  const min = nextRtpBase;
  nextRtpBase += size;
  return { min, max: min + size - 1 };
}
