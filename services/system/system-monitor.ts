// System health for the dashboard (CPU, memory, temperature, disk, uptime via systeminformation), sampled on a timer
// into a short history for the charts; crossing a threshold raises a system alert on the event bus.
import os from 'node:os';
import fs from 'node:fs';
import si from 'systeminformation';
import type { EventBus } from '../events/index.js';
import { readCpuTemperature } from '../health/index.js';
import { errorMessage, type Clock, type Logger, type Module, type ModuleHealth, type TimerHandle } from '../shared/index.js';

export interface HealthSample {
  at: number;
  /** CPU busy, percent of all cores. */
  cpu: number;
  memUsed: number;
  memTotal: number;
  /** Main CPU temperature in °C, null when the board does not tell. */
  temperature: number | null;
  /** The data directory's file system. */
  diskUsed: number;
  diskTotal: number;
  uptimeS: number;
}

export interface SystemMonitorOptions {
  clock: Clock;
  logger: Logger;
  bus?: EventBus | undefined;
  dataDir: string;
  /** Sampling period (default 5 s); the history keeps `historySize` samples (default 120: ten minutes). */
  periodMs?: number;
  historySize?: number;
}

const DISK_ALERT = 0.9;
const TEMP_ALERT = 80;

export class SystemMonitor implements Module {
  readonly name = 'system';
  private readonly history: HealthSample[] = [];
  private timer: TimerHandle | undefined;
  private running = false;
  private disk = { used: 0, total: 0, at: -Infinity };
  private alerts = new Set<string>();
  private readonly log: Logger;

  constructor(private readonly opts: SystemMonitorOptions) {
    this.log = opts.logger.child({ module: 'system' });
  }

  async start(): Promise<void> {
    this.running = true;
    this.opts.bus?.addSnapshotSource({ key: 'system', audience: null, read: () => this.samples() });
    void this.tick();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.opts.clock.clearTimeout(this.timer);
  }

  health(): ModuleHealth {
    return { status: this.running ? 'ok' : 'down' };
  }

  samples(): HealthSample[] {
    return [...this.history];
  }

  latest(): HealthSample | undefined {
    return this.history.at(-1);
  }

  private cpuTimes = cpuTotals();

  /** Busy share of all cores, in %, since the previous sample (os.cpus() counters, no process spawned). */
  private cpuLoad(): number {
    const now = cpuTotals();
    const busy = now.busy - this.cpuTimes.busy;
    const total = now.total - this.cpuTimes.total;
    this.cpuTimes = now;
    return total > 0 ? Math.min(100, Math.max(0, (busy / total) * 100)) : 0;
  }

  /** Takes one sample now (the timer does it every period). */
  async sample(): Promise<HealthSample> {
    const now = this.opts.clock.now();
    // CPU load from the kernel's counters and the temperature from sysfs, not systeminformation's currentLoad() and
    // cpuTemperature(): those run a shell through execSync, stopping the event loop (and every SIP answer) for tens
    // of milliseconds at each sample (seen in `scripts/bench sip` as a p99 above 50 ms at 100 REGISTER/s).
    const [mem, temp] = await Promise.all([si.mem(), readCpuTemperature().catch(() => null)]);
    const load = this.cpuLoad();
    // The data partition's size from statfs(2), once a minute: systeminformation's fsSize() runs `df` and
    // `cat /proc/mounts` through execSync, stopping the event loop for ~30 ms (seen in a `scripts/bench sip` profile).
    if (now - this.disk.at > 60_000) {
      try {
        const st = await fs.promises.statfs(this.opts.dataDir);
        this.disk = { used: (st.blocks - st.bfree) * st.bsize, total: st.blocks * st.bsize, at: now };
      } catch (err) {
        this.log.debug('disk size not read', { error: errorMessage(err) });
        this.disk.at = now;
      }
    }
    const temperature = temp;
    const s: HealthSample = {
      at: now,
      cpu: Math.round(load * 10) / 10,
      memUsed: mem.active,
      memTotal: mem.total,
      temperature,
      diskUsed: this.disk.used,
      diskTotal: this.disk.total,
      uptimeS: Math.round(os.uptime()),
    };
    this.history.push(s);
    if (this.history.length > (this.opts.historySize ?? 120)) this.history.shift();
    this.checkAlerts(s);
    return s;
  }

  private async tick(): Promise<void> {
    if (!this.running) return;
    try {
      const s = await this.sample();
      this.opts.bus?.publish('system.health', s);
    } catch (err) {
      this.log.warn('system health not sampled', { error: errorMessage(err) });
    }
    if (this.running) this.timer = this.opts.clock.setTimeout(() => void this.tick(), this.opts.periodMs ?? 5000);
  }

  private checkAlerts(s: HealthSample): void {
    this.alert('disk.full', s.diskTotal > 0 && s.diskUsed / s.diskTotal > DISK_ALERT, 'critical', `the disk is ${Math.round((100 * s.diskUsed) / s.diskTotal)} % full: recordings and voicemail may stop being saved`);
    this.alert('temperature.high', s.temperature !== null && s.temperature > TEMP_ALERT, 'warning', `the processor is at ${s.temperature} °C: check the box's ventilation`);
  }

  /** Raises an alert once when its condition starts, again only after it cleared. */
  private alert(code: string, on: boolean, level: 'warning' | 'critical', message: string): void {
    if (on && !this.alerts.has(code)) {
      this.alerts.add(code);
      this.log.warn('system alert', { code, message });
      this.opts.bus?.publish('system.alert', { level, code, message });
    } else if (!on) this.alerts.delete(code);
  }
}

function cpuTotals(): { busy: number; total: number } {
  let busy = 0;
  let total = 0;
  for (const c of os.cpus()) {
    const t = c.times;
    const all = t.user + t.nice + t.sys + t.idle + t.irq;
    total += all;
    busy += all - t.idle;
  }
  return { busy, total };
}
