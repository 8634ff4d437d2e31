// Runs ffmpeg / espeak-ng / sox as child processes: argument arrays (never a shell string), bounded by a timeout.
import { spawn } from 'node:child_process';

export interface RunResult {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

export class ToolError extends Error {
  constructor(
    readonly tool: string,
    message: string,
    readonly stderr = '',
  ) {
    super(message);
    this.name = 'ToolError';
  }
}

/** Spawns `cmd args`, collects output; kills it after timeoutMs. Rejects with ToolError if it cannot run or fails. */
export function runTool(cmd: string, args: readonly string[], opts: { timeoutMs?: number; input?: Buffer } = {}): Promise<RunResult> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: [opts.input ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout!.on('data', (d: Buffer) => out.push(d));
    child.stderr!.on('data', (d: Buffer) => {
      if (err.length < 8192) err += d.toString();
    });
    child.once('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new ToolError(cmd, e.code === 'ENOENT' ? `${cmd} is not installed (apt-get install ${cmd === 'ffmpeg' ? 'ffmpeg' : cmd})` : `${cmd}: ${e.message}`));
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      const stdout = Buffer.concat(out);
      if (timedOut) return reject(new ToolError(cmd, `${cmd} took longer than ${timeoutMs} ms and was stopped`, err));
      if (code !== 0) return reject(new ToolError(cmd, `${cmd} exited with ${code}`, err));
      resolve({ code, stdout, stderr: err });
    });
    if (opts.input) child.stdin!.end(opts.input);
  });
}

/** The last meaningful line of a tool's stderr, for error messages a user can act on. */
export function lastLine(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  return (lines[lines.length - 1] ?? '').slice(0, 300);
}

/** ffmpeg: any decodable input file → 8 kHz mono 16-bit PCM WAV at `output` (at most maxSeconds long). */
export async function convertTo8kMonoWav(input: string, output: string, opts: { inputFormat?: string; maxSeconds?: number; timeoutMs?: number } = {}): Promise<void> {
  const args = ['-nostdin', '-hide_banner', '-v', 'error', '-y'];
  if (opts.inputFormat) args.push('-f', opts.inputFormat);
  args.push('-i', input, '-vn', '-map', '0:a:0', '-ac', '1', '-ar', '8000', '-c:a', 'pcm_s16le');
  if (opts.maxSeconds) args.push('-t', String(opts.maxSeconds));
  // -bitexact keeps the header to the canonical 44 bytes (no LIST/INFO chunk).
  args.push('-bitexact', '-f', 'wav', output);
  await runTool('ffmpeg', args, { timeoutMs: opts.timeoutMs ?? 60_000 });
}
