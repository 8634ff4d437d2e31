// Starts a real rtpengine (userspace, no kernel table) on free loopback ports for a test, and kills it at the end.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { NgClient } from '../../services/media/rtpengine/index.js';
import { freePort, udpFree } from '../helpers/ports.js';
import { tempDir } from '../helpers/relais-process.js';

export interface RtpengineDaemon {
  ng: { host: string; port: number };
  dtmf: { host: string; port: number };
  recordingDir: string;
  rtp: { min: number; max: number };
  output: () => string;
  stop: () => Promise<void>;
}

const running = new Set<ChildProcess>();

/**
 * An RTP range for a test's own rtpengine or engine: a random block in 42000-59999, above the ranges that
 * helpers/ports.ts rtpRange (20000-32700) and the media bench (30000-41999) hand out, with every port free now.
 */
export async function freeRtpRange(size = 100): Promise<{ min: number; max: number }> {
  const blocks = Math.floor(18000 / size);
  for (let attempt = 0; attempt < 20; attempt++) {
    const min = 42000 + Math.floor(Math.random() * blocks) * size;
    let free = true;
    for (let p = min; p < min + size && free; p++) free = await udpFree(p);
    if (free) return { min, max: min + size - 1 };
  }
  throw new Error(`no free block of ${size} UDP ports in 42000-59999`);
}
// A test process that dies must not leave an rtpengine behind.
process.once('exit', () => {
  for (const c of running) c.kill('SIGKILL');
});

/** `ports`: size of its RTP port range (each endpoint of the backend takes 4 ports: phone and relais sides, RTP+RTCP). */
export async function startRtpengine(opts: { ports?: number } = {}): Promise<RtpengineDaemon> {
  const ngPort = await freePort();
  const dtmfPort = await freePort();
  const rtp = await freeRtpRange(opts.ports ?? 200);
  const dir = tempDir('rtpengine-');
  const recordingDir = path.join(dir, 'rec');
  fs.mkdirSync(recordingDir);
  const args = [
    '--config-file=none',
    '--interface=127.0.0.1',
    `--listen-ng=127.0.0.1:${ngPort}`,
    '--table=-1',
    '--foreground',
    '--log-stderr',
    '--log-level=5',
    `--port-min=${rtp.min}`,
    `--port-max=${rtp.max}`,
    `--dtmf-log-dest=127.0.0.1:${dtmfPort}`,
    `--recording-dir=${recordingDir}`,
    '--recording-method=pcap',
    `--pidfile=${path.join(dir, 'rtpengine.pid')}`,
  ];
  const child = spawn('rtpengine', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
  const exited = new Promise<void>((resolve) => child.once('exit', () => {
    running.delete(child);
    resolve();
  }));

  // Ready when it answers an ng ping (bounded).
  const probe = new NgClient('127.0.0.1', ngPort, 300);
  const deadline = Date.now() + 10_000;
  try {
    for (;;) {
      const failed = await Promise.race([spawnError, new Promise<undefined>((r) => setImmediate(() => r(undefined)))]);
      if (failed) throw new Error(`rtpengine could not be started (${failed.message}); run scripts/install-peers`);
      if (child.exitCode !== null) throw new Error(`rtpengine exited with ${child.exitCode}:\n${out}`);
      try {
        await probe.send('ping');
        break;
      } catch {
        if (Date.now() > deadline) throw new Error(`rtpengine did not answer ping on 127.0.0.1:${ngPort} within 10 s:\n${out}`);
      }
    }
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  } finally {
    probe.close();
  }

  return {
    ng: { host: '127.0.0.1', port: ngPort },
    dtmf: { host: '127.0.0.1', port: dtmfPort },
    recordingDir,
    rtp,
    output: () => out,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 3000);
        await exited;
        clearTimeout(t);
      }
    },
  };
}
