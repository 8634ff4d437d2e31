// Headless baresip test phone: one process per phone, driven over ctrl_tcp (netstring JSON), events awaited, never slept on.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { freePort, freePortBlock, rtpRange } from './ports.js';
import { tempDir } from './relais-process.js';

export const BARESIP_MODULES = '/usr/lib/baresip/modules';

/** One event line from baresip's ctrl_tcp (`{"event":true,"type":"CALL_INCOMING",...}`). */
export interface BaresipEvent {
  type: string;
  class?: string;
  accountaor?: string;
  direction?: string;
  peeruri?: string;
  id?: string;
  param?: string;
  [key: string]: unknown;
}

export interface BaresipResponse {
  ok: boolean;
  data: string;
}

export interface BaresipAccount {
  /** SIP user (extension's sip username). */
  user: string;
  password?: string;
  /** host:port of the registrar / proxy (Relais). */
  registrar: string;
  /** REGISTER interval in seconds; 0 = no registration (direct calls). */
  regint?: number;
  displayName?: string;
  transport?: 'udp' | 'tcp' | 'tls';
  /** Media encryption (baresip's account parameter mediaenc, e.g. srtp-mand: SDES-SRTP required; needs srtp.so). */
  mediaenc?: 'srtp' | 'srtp-mand';
}

export interface BaresipOptions {
  name: string;
  account: BaresipAccount;
  /** WAV (8 kHz mono 16-bit) sent as microphone audio; must outlast the longest call (baresip hangs up at its end). */
  audioFile: string;
  dir?: string;
  /** More modules loaded as module_app (e.g. mwi.so: subscribes to message-summary, emits MWI_NOTIFY). */
  extraModules?: string[];
  /** Print the SIP trace into the phone's log (baresip -s). */
  sipTrace?: boolean;
  startTimeoutMs?: number;
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

/** baresip also opens a TLS listener on the SIP port + 1, so both must be free. */
function freeSipPort(): Promise<number> {
  return freePortBlock(2);
}

/** Encodes one ctrl_tcp netstring frame (`len:payload,`). */
export function netstring(payload: string): Buffer {
  const body = Buffer.from(payload, 'utf8');
  return Buffer.concat([Buffer.from(`${body.length}:`), body, Buffer.from(',')]);
}

/** Splits complete netstrings off the front of buf; returns the payloads and the remainder. */
export function parseNetstrings(buf: Buffer): { messages: string[]; rest: Buffer } {
  const messages: string[] = [];
  let off = 0;
  for (;;) {
    const colon = buf.indexOf(0x3a, off);
    if (colon < 0) break;
    const lenText = buf.subarray(off, colon).toString('latin1');
    if (!/^\d+$/.test(lenText)) throw new Error(`baresip ctrl_tcp: bad netstring length "${lenText}"`);
    const len = Number(lenText);
    if (buf.length < colon + 1 + len + 1) break;
    messages.push(buf.subarray(colon + 1, colon + 1 + len).toString('utf8'));
    off = colon + 1 + len + 1;
  }
  return { messages, rest: buf.subarray(off) };
}

export class BaresipPhone {
  readonly events: BaresipEvent[] = [];
  /** Indexes of events a wait has already returned (each event satisfies one wait). */
  private readonly used = new Set<number>();
  private waiters: { match: (e: BaresipEvent) => boolean; resolve: (e: BaresipEvent) => void }[] = [];
  private pending = new Map<string, (r: BaresipResponse) => void>();
  private token = 0;
  private sock!: net.Socket;
  private exited: Promise<number | null>;
  private stopped = false;

  private constructor(
    readonly name: string,
    readonly dir: string,
    readonly sipPort: number,
    readonly ctrlPort: number,
    readonly recDir: string,
    readonly aor: string,
    private readonly child: ChildProcess,
    private readonly logFile: string,
  ) {
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  static async start(opts: BaresipOptions): Promise<BaresipPhone> {
    const dir = opts.dir ?? tempDir(`baresip-${opts.name}-`);
    const recDir = path.join(dir, 'rec');
    fs.mkdirSync(recDir, { recursive: true });
    if (!fs.existsSync(opts.audioFile)) throw new Error(`baresip ${opts.name}: audio file ${opts.audioFile} does not exist`);
    const sipPort = await freeSipPort();
    const ctrlPort = await freePort();
    const rtp = rtpRange(40);
    const config = [
      `module_path ${BARESIP_MODULES}`,
      'poll_method epoll',
      `sip_listen 127.0.0.1:${sipPort}`,
      'net_interface 127.0.0.1',
      `rtp_ports ${rtp.min}-${rtp.max}`,
      'call_local_timeout 120',
      `audio_source aufile,${opts.audioFile}`,
      'audio_alert none',
      'module g711.so',
      'module aufile.so',
      'module sndfile.so',
      `snd_path ${recDir}`,
      'module_tmp account.so',
      'module_app menu.so',
      'module_app ctrl_tcp.so',
      `ctrl_tcp_listen 127.0.0.1:${ctrlPort}`,
      // SDES-SRTP is a media-encryption module loaded before the accounts that name it.
      ...(opts.account.mediaenc ? ['module srtp.so'] : []),
      ...(opts.extraModules ?? []).map((m) => `module_app ${m}`),
      '',
    ].join('\n');
    fs.writeFileSync(path.join(dir, 'config'), config);
    const a = opts.account;
    const aor = `sip:${a.user}@${a.registrar}`;
    const params = [
      a.password !== undefined ? `auth_pass=${a.password}` : '',
      'answermode=manual',
      `regint=${a.regint ?? 0}`,
      'audio_codecs=PCMU,PCMA',
      a.mediaenc ? `mediaenc=${a.mediaenc}` : '',
    ].filter(Boolean);
    const display = a.displayName ? `"${a.displayName}" ` : '';
    const transportParam = a.transport === 'tcp' || a.transport === 'tls' ? `;transport=${a.transport}` : '';
    // The account is added over ctrl_tcp once connected (uanew), so REGISTER_OK is not missed before we listen.
    fs.writeFileSync(path.join(dir, 'accounts'), '');
    const accountLine = `${display}<${aor}${transportParam}>;${params.join(';')}`;
    const logFile = path.join(dir, 'baresip.log');
    const out = fs.openSync(logFile, 'a');
    const args = ['-f', dir, ...(opts.sipTrace || process.env.BARESIP_TRACE ? ['-s'] : [])];
    const child = spawn('baresip', args, { stdio: ['ignore', out, out] });
    fs.closeSync(out);
    live.add(child);
    child.once('exit', () => live.delete(child));
    const phone = new BaresipPhone(opts.name, dir, sipPort, ctrlPort, recDir, aor, child, logFile);
    try {
      await phone.connect(opts.startTimeoutMs ?? 10_000);
      const r = await phone.command('uanew', accountLine);
      if (!r.ok) throw new Error(`baresip ${opts.name}: uanew failed: ${r.data}`);
    } catch (err) {
      await phone.stop();
      throw err;
    }
    return phone;
  }

  private async connect(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.child.exitCode !== null || this.child.signalCode !== null) {
        throw new Error(`baresip ${this.name} exited (${this.child.exitCode ?? this.child.signalCode}) at start:\n${this.log()}`);
      }
      const sock = await new Promise<net.Socket | undefined>((resolve) => {
        const s = net.connect(this.ctrlPort, '127.0.0.1');
        s.once('connect', () => resolve(s));
        s.once('error', () => resolve(undefined));
      });
      if (sock) {
        this.sock = sock;
        break;
      }
      if (Date.now() > deadline) throw new Error(`baresip ${this.name}: ctrl_tcp did not listen within ${timeoutMs} ms:\n${this.log()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    let buf: Buffer = Buffer.alloc(0);
    this.sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      const { messages, rest } = parseNetstrings(buf);
      buf = rest;
      for (const m of messages) this.onMessage(m);
    });
    this.sock.on('error', () => {});
  }

  private onMessage(text: string): void {
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(text) as Record<string, unknown>;
    } catch {
      return;
    }
    if (msg.response === true) {
      const token = String(msg.token ?? '');
      const r = this.pending.get(token);
      if (r) {
        this.pending.delete(token);
        r({ ok: msg.ok === true, data: String(msg.data ?? '') });
      }
      return;
    }
    if (msg.event === true) {
      const ev = msg as BaresipEvent;
      this.events.push(ev);
      const i = this.waiters.findIndex((w) => w.match(ev));
      if (i >= 0) {
        const [w] = this.waiters.splice(i, 1);
        this.used.add(this.events.length - 1);
        w!.resolve(ev);
      }
    }
  }

  /** Process id (tests freeze a phone with SIGSTOP to stop its RTP). */
  get pid(): number {
    return this.child.pid!;
  }

  /** The phone's log (stdout/stderr of baresip), for failure messages. */
  log(): string {
    try {
      return fs.readFileSync(this.logFile, 'utf8').replace(/\[0:\d\d:\d\d\] audio=[^\r\n]*?(?=\[0:|\n|$)/g, '').slice(-6000);
    } catch {
      return '';
    }
  }

  /** Sends a ctrl_tcp command (menu command name + params) and resolves with its response. */
  command(command: string, params?: string, timeoutMs = 5000): Promise<BaresipResponse> {
    const token = String(++this.token);
    const payload = JSON.stringify(params === undefined ? { command, token } : { command, params, token });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(token);
        reject(new Error(`baresip ${this.name}: no response to "${command}" within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(token, (r) => {
        clearTimeout(timer);
        resolve(r);
      });
      this.sock.write(netstring(payload));
    });
  }

  /**
   * Resolves with the oldest event of `type` (matching `filter`) that no earlier wait returned, including events
   * that arrived before the call. Rejects after timeoutMs naming what was seen.
   */
  waitEvent(type: string | string[], timeoutMs = 10_000, filter: (e: BaresipEvent) => boolean = () => true): Promise<BaresipEvent> {
    const types = Array.isArray(type) ? type : [type];
    const match = (e: BaresipEvent): boolean => types.includes(e.type) && filter(e);
    for (let i = 0; i < this.events.length; i++) {
      const e = this.events[i]!;
      if (!this.used.has(i) && match(e)) {
        this.used.add(i);
        return Promise.resolve(e);
      }
    }
    return new Promise((resolve, reject) => {
      const w = {
        match,
        resolve: (e: BaresipEvent) => {
          clearTimeout(timer);
          resolve(e);
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        const seen = this.events.map((e) => `${e.type}${e.param ? `(${e.param})` : ''}`).join(', ');
        reject(new Error(`baresip ${this.name}: no ${types.join('|')} within ${timeoutMs} ms; events: ${seen}\n${this.log()}`));
      }, timeoutMs);
      this.waiters.push(w);
    });
  }

  /** Waits for REGISTER_OK (the account registers on start when regint > 0). Throws on REGISTER_FAIL. */
  async registered(timeoutMs = 10_000): Promise<void> {
    const e = await this.waitEvent(['REGISTER_OK', 'REGISTER_FAIL'], timeoutMs);
    if (e.type === 'REGISTER_FAIL') throw new Error(`baresip ${this.name}: REGISTER_FAIL ${e.param ?? ''}\n${this.log()}`);
  }

  private async expectOk(command: string, params?: string): Promise<string> {
    const r = await this.command(command, params);
    if (!r.ok) throw new Error(`baresip ${this.name}: "${command} ${params ?? ''}" failed: ${r.data}`);
    return r.data;
  }

  /** Dials a number (completed with the account's domain) or a full SIP URI. */
  async dial(target: string): Promise<void> {
    await this.expectOk('dial', target);
  }

  /** Waits for CALL_INCOMING and answers it; returns the incoming event (param = caller URI). */
  async acceptIncoming(timeoutMs = 10_000): Promise<BaresipEvent> {
    const e = await this.waitEvent('CALL_INCOMING', timeoutMs);
    await this.expectOk('accept');
    return e;
  }

  async accept(): Promise<void> {
    await this.expectOk('accept');
  }

  async hangup(): Promise<void> {
    await this.expectOk('hangup');
  }

  async hold(): Promise<void> {
    await this.expectOk('hold');
  }

  async resume(): Promise<void> {
    await this.expectOk('resume');
  }

  /** Blind transfer (REFER) of the current call to target. */
  async transfer(target: string): Promise<void> {
    await this.expectOk('transfer', target);
  }

  /** Sends RFC 4733 telephone-events, one digit at a time. */
  async sendDtmf(digits: string): Promise<void> {
    for (const d of digits) await this.expectOk('sndcode', d);
  }

  established(timeoutMs = 10_000): Promise<BaresipEvent> {
    return this.waitEvent('CALL_ESTABLISHED', timeoutMs);
  }

  /** Waits for CALL_CLOSED; param holds the reason (e.g. "486 Busy Here" or "Connection reset by peer"). */
  closed(timeoutMs = 10_000): Promise<BaresipEvent> {
    return this.waitEvent('CALL_CLOSED', timeoutMs);
  }

  /** WAV files of audio received (decoded) by this phone, oldest first. */
  receivedRecordings(): string[] {
    return fs
      .readdirSync(this.recDir)
      .filter((f) => f.endsWith('-dec.wav'))
      .sort()
      .map((f) => path.join(this.recDir, f));
  }

  /** Kills the process (SIGTERM, then SIGKILL after 2 s); safe to call twice. */
  async stop(): Promise<void> {
    if (this.stopped) {
      await this.exited;
      return;
    }
    this.stopped = true;
    this.sock?.destroy();
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGTERM');
      const t = setTimeout(() => this.child.kill('SIGKILL'), 2000);
      await this.exited;
      clearTimeout(t);
    }
  }
}
