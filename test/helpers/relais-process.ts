// Starts a real Relais process (dist/services/cli.js) on free loopback ports with its own data dir.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, rtpRange } from './ports.js';

export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const CLI = path.join(PROJECT_ROOT, 'dist/services/cli.js');

/** HTTP Basic of the admin every test Relais gets (RELAIS_ADMIN_PASSWORD below): /healthz detail needs it. */
export const ADMIN_AUTH = { authorization: `Basic ${Buffer.from('admin:test-admin-pw').toString('base64')}` };

export function tempDir(prefix = 'relais-test-'): string {
  const base = path.join(PROJECT_ROOT, 'test/.tmp');
  fs.mkdirSync(base, { recursive: true });
  return fs.mkdtempSync(path.join(base, prefix));
}

export interface RelaisProcess {
  child: ChildProcess;
  sipPort: number;
  httpPort: number;
  rtp: { min: number; max: number };
  dataDir: string;
  url: string;
  output: () => string;
  stop: () => Promise<number | null>;
}

export interface StartOptions {
  dataDir?: string;
  args?: string[];
  env?: Record<string, string>;
  sipPort?: number;
  httpPort?: number;
  /** RTP ports (default 100, at most 200: two ports per media endpoint, two endpoints per call). */
  rtpPorts?: number;
  /** The RTP range of an earlier run to use again (a restart on the same ports). */
  rtp?: { min: number; max: number };
}

export async function startRelais(opts: StartOptions = {}): Promise<RelaisProcess> {
  const sipPort = opts.sipPort ?? (await freePort());
  const httpPort = opts.httpPort ?? (await freePort());
  const rtp = opts.rtp ?? rtpRange(opts.rtpPorts);
  const dataDir = opts.dataDir ?? tempDir();
  const child = spawn(
    process.execPath,
    [
      CLI,
      'serve',
      '--bind', '127.0.0.1',
      '--sip-port', String(sipPort),
      '--http-port', String(httpPort),
      '--rtp-ports', `${rtp.min}-${rtp.max}`,
      '--data-dir', dataDir,
      // HTTPS (a certificate to make) and TFTP (port 69) only where a test asks for them with its own flags.
      '--https-port', 'off',
      '--sip-tls-port', 'off',
      '--tftp-port', 'off',
      ...(opts.args ?? []),
    ],
    { env: { ...process.env, RELAIS_ADMIN_PASSWORD: 'test-admin-pw', ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = `http://127.0.0.1:${httpPort}`;
  // Generous: a start takes about a second on a quiet machine, but half a minute was seen with the load average at 25.
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`relais exited with ${child.exitCode} before answering:\n${out}`);
    try {
      const res = await fetch(`${url}/healthz`);
      if (res.ok) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`relais did not answer /healthz within 60 s:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    child,
    sipPort,
    httpPort,
    rtp,
    dataDir,
    url,
    output: () => out,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}
