// systemd readiness and watchdog (sd_notify(3)): READY=1 once started, WATCHDOG=1 at half of WatchdogSec.
//
// Node has no AF_UNIX datagram sockets, and NOTIFY_SOCKET is one. The npm options are native addons
// (sd-notify, unix-dgram) that a Yocto build must cross-compile. systemd's own `systemd-notify` sends the
// datagram instead; it is on every systemd machine. By default (systemd >= 246) it waits until the manager has
// processed the message (a barrier), so the message is not lost when the short-lived sender exits first; the
// unit needs NotifyAccess=all because the sender is a child of the main process (docs/appliance.md "Watchdog").
import { execFile } from 'node:child_process';
import type { Clock, Logger, TimerHandle } from '../shared/index.js';

export interface NotifierOptions {
  clock: Clock;
  logger: Logger;
  env?: NodeJS.ProcessEnv;
  pid?: number;
  /** Sends one notification (tests replace the systemd-notify command). */
  send?: (assignments: string[], env: NodeJS.ProcessEnv) => Promise<void>;
}

function systemdNotify(pid: number): (assignments: string[], env: NodeJS.ProcessEnv) => Promise<void> {
  return (assignments, env) =>
    new Promise((resolve, reject) => {
      execFile('systemd-notify', [`--pid=${pid}`, ...assignments], { env, timeout: 10_000 }, (err, _stdout, stderr) =>
        err ? reject(new Error(`systemd-notify ${assignments.join(' ')}: ${stderr.trim() || err.message}`)) : resolve(),
      );
    });
}

export class SystemdNotifier {
  /** True when systemd started us with Type=notify (NOTIFY_SOCKET set). */
  readonly enabled: boolean;
  /** Half of WatchdogSec in ms when the watchdog is on for this process, else undefined. */
  readonly pingEveryMs: number | undefined;
  private readonly env: NodeJS.ProcessEnv;
  private readonly send: (assignments: string[], env: NodeJS.ProcessEnv) => Promise<void>;
  private timer: TimerHandle | undefined;
  private pinging = false;
  private running = false;
  private warned = false;

  constructor(private readonly opts: NotifierOptions) {
    this.env = opts.env ?? process.env;
    const pid = opts.pid ?? process.pid;
    this.send = opts.send ?? systemdNotify(pid);
    this.enabled = !!this.env.NOTIFY_SOCKET;
    const usec = Number(this.env.WATCHDOG_USEC);
    const forPid = this.env.WATCHDOG_PID === undefined || Number(this.env.WATCHDOG_PID) === pid;
    this.pingEveryMs = this.enabled && forPid && usec > 0 ? Math.max(50, Math.floor(usec / 1000 / 2)) : undefined;
  }

  /** READY=1 (the unit counts as started) and the first watchdog ping; then pings until stop(). */
  async ready(status: string): Promise<void> {
    if (!this.enabled) return;
    await this.notify(['READY=1', `STATUS=${status}`]);
    if (this.pingEveryMs !== undefined) {
      this.running = true;
      this.schedule();
    }
  }

  /**
   * EXTEND_TIMEOUT_USEC (systemd >= 236): a long step before READY=1 (a trial boot's copy and migrations of a large
   * database) gets `ms` more than the unit's TimeoutStartSec, instead of being killed and started again.
   */
  extendStart(ms: number, status: string): Promise<void> {
    return this.enabled ? this.notify([`EXTEND_TIMEOUT_USEC=${Math.round(ms * 1000)}`, `STATUS=${status}`]) : Promise.resolve();
  }

  /** STATUS=… shown by `systemctl status relais`. */
  status(text: string): Promise<void> {
    return this.enabled ? this.notify([`STATUS=${text}`]) : Promise.resolve();
  }

  /** STOPPING=1 and no more pings. */
  async stopping(): Promise<void> {
    this.stop();
    if (this.enabled) await this.notify(['STOPPING=1']);
  }

  stop(): void {
    this.running = false;
    this.opts.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(): void {
    if (!this.running) return;
    this.timer = this.opts.clock.setTimeout(() => {
      // The timer firing is the proof that the event loop runs; a hung loop misses pings and systemd restarts us.
      if (!this.pinging) {
        this.pinging = true;
        void this.notify(['WATCHDOG=1']).finally(() => (this.pinging = false));
      }
      this.schedule();
    }, this.pingEveryMs!);
  }

  private async notify(assignments: string[]): Promise<void> {
    try {
      await this.send(assignments, this.env);
    } catch (err) {
      // Once: a broken notify path must not flood the journal every few seconds.
      if (!this.warned) this.opts.logger.warn('sd_notify failed', { error: (err as Error).message });
      this.warned = true;
    }
  }
}
