// The appliance's one health check: SIP listening, store writable, media engine alive, disk space, temperature,
// throttling, and every module's own status. /healthz, the LEDs, the console and the update agent all read it.
import { overallStatus, type Clock, type HealthStatus, type ModuleHealth, type TimerHandle } from '../shared/index.js';

/** One named check: its status and, for administrators, what was measured (docs/appliance.md "Health"). */
export interface CheckResult {
  status: HealthStatus;
  message: string;
  detail?: Record<string, unknown>;
}

export interface HealthReport {
  status: HealthStatus;
  /** Wall-clock time of the run (ISO 8601). */
  checkedAt: string;
  checks: Record<string, CheckResult>;
  modules: Record<string, ModuleHealth>;
}

/** What anyone may see: the status alone (the detail of checks and modules is for administrators). */
export function publicHealth(report: HealthReport): { status: HealthStatus; checkedAt: string } {
  return { status: report.status, checkedAt: report.checkedAt };
}

/** A probe answers one check; it must never throw (a throw counts as down). */
export type HealthProbe = () => CheckResult | Promise<CheckResult>;

export interface HealthCheckOptions {
  clock: Clock;
  /** Named probes in display order (sip, store, media, disk, temperature, throttling). */
  probes: Record<string, HealthProbe>;
  /** Every module's own health, read at run time. */
  modules: () => Record<string, ModuleHealth>;
  /** A report younger than this is reused by run() (default 2 s): /healthz under load costs one probe run. */
  maxAgeMs?: number;
  /** A probe that has not answered after this long counts as degraded (default 3 s): /healthz always answers. */
  probeTimeoutMs?: number;
}

/** Wraps a slow probe (a command, a sensor) so that it runs at most every `maxAgeMs`; callers in between get its last result. */
export function cachedProbe(probe: HealthProbe, clock: Clock, maxAgeMs: number): HealthProbe {
  let last: { at: number; result: Promise<CheckResult> } | undefined;
  return () => {
    if (!last || clock.monotonic() - last.at >= maxAgeMs) last = { at: clock.monotonic(), result: Promise.resolve().then(probe) };
    return last.result;
  };
}

export class HealthCheck {
  private last: HealthReport | undefined;
  private lastAt = -Infinity;
  private inFlight: Promise<HealthReport> | undefined;
  private readonly maxAgeMs: number;
  private readonly listeners = new Set<(report: HealthReport) => void>();
  private timer: TimerHandle | undefined;
  private watching = false;

  constructor(private readonly opts: HealthCheckOptions) {
    this.maxAgeMs = opts.maxAgeMs ?? 2000;
  }

  /**
   * Runs every probe (or reuses probe results younger than maxAgeMs; concurrent callers share one run). The
   * modules' own status and detail are always read at call time (tests and the console count live things there).
   */
  async run(opts: { fresh?: boolean } = {}): Promise<HealthReport> {
    let checks: Record<string, CheckResult>;
    if (!opts.fresh && this.last && this.opts.clock.monotonic() - this.lastAt < this.maxAgeMs) checks = this.last.checks;
    else {
      this.inFlight ??= this.runProbes().finally(() => (this.inFlight = undefined));
      checks = (await this.inFlight).checks;
    }
    const modules = this.opts.modules();
    const status = overallStatus([...Object.values(checks).map((c) => c.status), ...Object.values(modules).map((m) => m.status)]);
    const report: HealthReport = { status, checkedAt: this.last?.checkedAt ?? new Date(this.opts.clock.now()).toISOString(), checks, modules };
    this.last = report;
    return report;
  }

  /** The last report without running anything (LEDs read this every second); undefined before the first run. */
  latest(): HealthReport | undefined {
    return this.last;
  }

  /** Called after every run (LEDs, console, update agent). */
  onReport(listener: (report: HealthReport) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Runs the check every `everyMs` until unwatch() (the LEDs and the update agent follow the reports). */
  watch(everyMs: number): void {
    this.watching = true;
    const tick = (): void => {
      if (!this.watching) return;
      void this.run({ fresh: true }).finally(() => {
        if (this.watching) this.timer = this.opts.clock.setTimeout(tick, everyMs);
      });
    };
    tick();
  }

  unwatch(): void {
    this.watching = false;
    this.opts.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async runProbes(): Promise<HealthReport> {
    const checks: Record<string, CheckResult> = {};
    await Promise.all(
      Object.entries(this.opts.probes).map(async ([name, probe]) => {
        const timeoutMs = this.opts.probeTimeoutMs ?? 3000;
        let timer: TimerHandle | undefined;
        const timedOut = new Promise<CheckResult>((resolve) => {
          timer = this.opts.clock.setTimeout(() => resolve({ status: 'degraded', message: `${name}: no answer within ${timeoutMs / 1000} s` }), timeoutMs);
        });
        try {
          checks[name] = await Promise.race([Promise.resolve().then(probe), timedOut]);
        } catch (err) {
          checks[name] = { status: 'down', message: `check failed: ${(err as Error).message}` };
        } finally {
          this.opts.clock.clearTimeout(timer);
        }
      }),
    );
    // Keep the declared order (Promise.all filled the object in completion order).
    const ordered: Record<string, CheckResult> = {};
    for (const name of Object.keys(this.opts.probes)) ordered[name] = checks[name]!;
    const modules = this.opts.modules();
    const status = overallStatus([...Object.values(ordered).map((c) => c.status), ...Object.values(modules).map((m) => m.status)]);
    const report: HealthReport = { status, checkedAt: new Date(this.opts.clock.now()).toISOString(), checks: ordered, modules };
    this.last = report;
    this.lastAt = this.opts.clock.monotonic();
    for (const l of this.listeners) l(report);
    return report;
  }
}
