// Runs SIPp with an XML scenario, bounded in calls (-m) and time (-timeout); returns the exit code and call counts.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, freePortBlock, udpFree } from './ports.js';
import { tempDir } from './relais-process.js';

/** test/interop/sipp (XML scenarios live in the source tree; dist holds only compiled JS). */
export const SIPP_SCENARIOS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../test/interop/sipp');

export interface SippOptions {
  /** Scenario file name in test/interop/sipp, or an absolute path. */
  scenario: string;
  /** host:port to send to (absent for a pure UAS). */
  target?: string;
  /** Local address (-i), default 127.0.0.1; another loopback address plays a separate host (a trunk provider). */
  localAddress?: string;
  /** Local SIP port; a free one when absent. */
  localPort?: number;
  /** Request-URI user part (-s). */
  service?: string;
  /** Number of calls (-m), default 1. */
  calls?: number;
  /** Calls per second (-r). */
  rate?: number;
  /** Overall time bound in seconds (-timeout), default 30. */
  timeoutS?: number;
  /** -key name value pairs, read in the scenario as [name]. */
  keys?: Record<string, string>;
  /** Username/password for [authentication] (-au/-ap). */
  auth?: { username: string; password: string };
  /** Digest uri (-auth_uri, written as sip:VALUE): SIPp otherwise uses sip:remote_ip:remote_port, not the Request-URI. */
  authUri?: string;
  /** Local RTP port for -mp (media: rtp_echo on UAS side). */
  mediaPort?: number;
  rtpEcho?: boolean;
  transport?: 'u1' | 't1';
  extraArgs?: string[];
}

export interface SippResult {
  code: number | null;
  successful: number;
  failed: number;
  stdout: string;
  stderr: string;
  /** Contents of the error trace (messages SIPp did not expect), for assertion messages. */
  errors: string;
  /** SIP messages exchanged (-trace_msg), for assertion messages. */
  messages: string;
}

export interface SippProcess {
  localPort: number;
  /** The whole -trace_msg log (the result's `messages` keeps only its end). */
  messageFile: string;
  done: Promise<SippResult>;
  kill: () => void;
}

/** SIPp binds media on -mp and the ports after it (RTCP, video): four in a row. */
function freeMediaPort(): Promise<number> {
  return freePortBlock(4);
}

/**
 * Starts SIPp; resolves once its SIP socket is bound (so a UAS is ready before the caller dials). A port from
 * freePort() can be taken by another process of the run before SIPp binds it: SIPp then stops at once with
 * "Address already in use", and it is started again on other ports (unless the test chose them).
 */
export async function startSipp(opts: SippOptions): Promise<SippProcess> {
  for (let attempt = 1; ; attempt++) {
    const p = await startSippOnce(opts);
    if (attempt >= 4 || (opts.localPort !== undefined && opts.mediaPort !== undefined)) return p;
    const early = await Promise.race([p.done, new Promise<undefined>((r) => setTimeout(() => r(undefined), 0))]);
    if (!early || !/Address already in use|errno = 98/.test(early.stdout + early.stderr + early.errors)) return p;
  }
}

async function startSippOnce(opts: SippOptions): Promise<SippProcess> {
  const dir = tempDir('sipp-');
  const scenario = path.isAbsolute(opts.scenario) ? opts.scenario : path.join(SIPP_SCENARIOS, opts.scenario);
  if (!fs.existsSync(scenario)) throw new Error(`SIPp scenario ${scenario} does not exist`);
  const localPort = opts.localPort ?? (await freePort());
  const statFile = path.join(dir, 'stat.csv');
  // SIPp binds media on -mp (default 6000) and -mp + 2 (video): give each run its own free pair.
  const mediaPort = opts.mediaPort ?? (await freeMediaPort());
  const args = [
    ...(opts.target ? [opts.target] : []),
    '-sf', scenario,
    '-i', opts.localAddress ?? '127.0.0.1',
    '-p', String(localPort),
    '-m', String(opts.calls ?? 1),
    '-timeout', `${opts.timeoutS ?? 30}s`,
    '-timeout_error',
    '-t', opts.transport ?? 'u1',
    '-nostdin',
    '-trace_stat', '-stf', statFile, '-fd', '1',
    '-trace_err', '-error_file', path.join(dir, 'errors.log'),
    '-trace_msg', '-message_file', path.join(dir, 'messages.log'),
  ];
  if (opts.service) args.push('-s', opts.service);
  if (opts.rate) args.push('-r', String(opts.rate));
  if (opts.auth) args.push('-au', opts.auth.username, '-ap', opts.auth.password);
  if (opts.authUri) args.push('-auth_uri', opts.authUri);
  args.push('-mi', opts.localAddress ?? '127.0.0.1', '-mp', String(mediaPort));
  if (opts.rtpEcho) args.push('-rtp_echo');
  for (const [k, v] of Object.entries(opts.keys ?? {})) args.push('-key', k, v);
  args.push(...(opts.extraArgs ?? []));
  const child: ChildProcess = spawn('sipp', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const killer = setTimeout(() => child.kill('SIGKILL'), ((opts.timeoutS ?? 30) + 10) * 1000);
  const done = new Promise<SippResult>((resolve) => {
    child.once('error', (err) => {
      clearTimeout(killer);
      resolve({ code: -1, successful: 0, failed: 0, stdout, stderr: `${stderr}\nsipp could not run: ${err.message}`, errors: '', messages: '' });
    });
    child.once('exit', (code) => {
      clearTimeout(killer);
      const { successful, failed } = readStats(statFile);
      const read = (f: string): string => {
        try {
          return fs.readFileSync(path.join(dir, f), 'utf8').slice(-8000);
        } catch {
          return '';
        }
      };
      resolve({ code, successful, failed, stdout, stderr, errors: read('errors.log'), messages: read('messages.log') });
    });
  });
  const deadline = Date.now() + 5000;
  while (await udpFree(localPort, opts.localAddress)) {
    if (child.exitCode !== null || Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  return { localPort, messageFile: path.join(dir, 'messages.log'), done, kill: () => child.kill('SIGTERM') };
}

/** Runs SIPp to completion. */
export async function runSipp(opts: SippOptions): Promise<SippResult> {
  const p = await startSipp(opts);
  return p.done;
}

/** Reads SuccessfulCall(C)/FailedCall(C) from the last row of SIPp's -trace_stat CSV. */
function readStats(file: string): { successful: number; failed: number } {
  let text = '';
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return { successful: 0, failed: 0 };
  }
  const lines = text.trim().split('\n');
  if (lines.length < 2) return { successful: 0, failed: 0 };
  const head = lines[0]!.split(';');
  const last = lines[lines.length - 1]!.split(';');
  const col = (name: string): number => {
    const i = head.indexOf(name);
    return i >= 0 ? Number(last[i]) || 0 : 0;
  };
  return { successful: col('SuccessfulCall(C)'), failed: col('FailedCall(C)') };
}

/** One-line summary for assertion messages. */
export function describeSipp(r: SippResult): string {
  return `sipp exit ${r.code}, ok ${r.successful}, failed ${r.failed}\n${r.stderr.slice(-2000)}\nerrors:\n${r.errors}\nmessages:\n${r.messages.slice(-4000)}`;
}
