// Free loopback ports for tests: per-process blocks of SIP/HTTP and RTP ports, each checked free on UDP and TCP.
import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

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

// SIP and HTTP ports of tests come from 7000-9999, below the kernel's ephemeral range and the default RTP ranges
// of Relais and baresip (10000-20000), so that nothing else takes them: a port the kernel
// hands out (bind to 0, outgoing connections) can be taken by another process between the check and the bind of
// the program under test (seen: SIPp "Unable to bind main socket, errno = 98"). Each test process claims its own
// block of 200 ports with a lock file, as for RTP below, and hands them out in turn.
const PORT_LOW = 7000;
const PORT_HIGH = 9999;
const PORT_BLOCK = 200;
// The locks live in one machine-wide folder, not in the checkout, so that test runs of several checkouts at once
// (a developer's worktrees) share out the same ports without racing for them.
const LOCKS = process.env.RELAIS_TEST_LOCK_DIR ?? path.join(os.tmpdir(), 'relais-test-locks');
const PORT_LOCK_DIR = path.join(LOCKS, 'port-blocks');
let portBlock: number | undefined;
let portCursor = 0;

function claimPortBlock(): number | undefined {
  const b = claimSlot(PORT_LOCK_DIR, Math.floor((PORT_HIGH - PORT_LOW + 1) / PORT_BLOCK), 13);
  return b === undefined ? undefined : PORT_LOW + b * PORT_BLOCK;
}

/** Whether the process that wrote this lock file is gone (killed before its exit hook ran). */
function staleLock(file: string): boolean {
  const pid = Number(fs.readFileSync(file, 'utf8'));
  if (!Number.isInteger(pid) || pid <= 0) return false; // being written right now
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/**
 * Claims one of `count` numbered slots with an exclusive lock file holding our pid in `dir` (released when the
 * process exits, taken over when its process died); test files run as separate processes, so no two hold the same
 * slot. Undefined when all are taken.
 */
function claimSlot(dir: string, count: number, spread: number): number | undefined {
  fs.mkdirSync(dir, { recursive: true });
  hookExit();
  const first = (process.pid * spread) % count;
  for (let i = 0; i < count; i++) {
    const slot = (first + i) % count;
    const file = path.join(dir, String(slot));
    try {
      const fd = fs.openSync(file, 'wx');
      fs.writeSync(fd, String(process.pid));
      fs.closeSync(fd);
    } catch {
      // A dead process's lock is taken over under a guard directory (mkdir is atomic): two processes that both find
      // it stale must not both write their pid and share the slot. The check is repeated under the guard.
      const guard = `${file}.takeover`;
      try {
        if (!staleLock(file)) continue;
        fs.mkdirSync(guard);
      } catch {
        continue;
      }
      try {
        if (!staleLock(file)) continue;
        fs.writeFileSync(file, String(process.pid));
      } catch {
        continue;
      } finally {
        fs.rmSync(guard, { recursive: true, force: true });
      }
    }
    claimed.push(file);
    return slot;
  }
  return undefined;
}

/** Ports go out in groups of four: programs bind the ports after the one they are given (SIPp media, baresip TLS). */
const GROUP = 4;

/**
 * `count` consecutive ports free for TCP and UDP on 127.0.0.1 right now, from this process's own block (the kernel's
 * choice if no block is left). Every answer starts a group of at least four ports, none of them handed out again
 * before the rest of the block was.
 */
export async function freePortBlock(count: number): Promise<number> {
  portBlock ??= claimPortBlock();
  const span = Math.ceil(Math.max(count, 1) / GROUP) * GROUP;
  if (portBlock !== undefined) {
    for (let tries = 0; tries < PORT_BLOCK / GROUP; tries++) {
      if (portCursor + span > PORT_BLOCK) portCursor = 0;
      const p = portBlock + portCursor;
      portCursor += span;
      let ok = true;
      for (let k = 0; k < span && ok; k++) ok = (await tryPort(p + k)) !== undefined;
      if (ok) return p;
    }
  }
  for (let i = 0; i < 50; i++) {
    const p = await tryPort(0);
    if (p !== undefined && p + count - 1 <= 65535) {
      let ok = true;
      for (let k = 1; k < count && ok; k++) ok = await udpTcpFree(p + k);
      if (ok) return p;
    }
  }
  throw new Error('no free port found');
}

/** A port free for TCP and UDP on 127.0.0.1 right now (see freePortBlock). */
export function freePort(): Promise<number> {
  return freePortBlock(1);
}

function hookExit(): void {
  if (exitHook) return;
  exitHook = true;
  process.once('exit', () => {
    for (const f of claimed) fs.rmSync(f, { force: true });
  });
}

// RTP ranges stay in 20000-32700: above freePort()'s 7000-9999 and below the kernel's ephemeral range
// (32768-60999), so no other port of a test falls inside one. Each test process claims its own slot (claimSlot).
const RTP_LOW = 20000;
const RTP_HIGH = 32700;
const SLOT = 200;
const SLOTS = Math.floor((RTP_HIGH - RTP_LOW) / SLOT);
const LOCK_DIR = path.join(LOCKS, 'rtp-slots');
const claimed: string[] = [];
let exitHook = false;

/** A range of up to 200 RTP ports that no other test process of this run holds. */
export function rtpRange(size = 100): { min: number; max: number } {
  if (size > SLOT) throw new Error(`rtpRange: ${size} ports asked, at most ${SLOT}`);
  const slot = claimSlot(LOCK_DIR, SLOTS, 7);
  if (slot !== undefined) {
    const min = RTP_LOW + slot * SLOT;
    return { min, max: min + size - 1 };
  }
  throw new Error(`rtpRange: all ${SLOTS} RTP port slots are taken (stale locks in ${LOCK_DIR}?)`);
}
