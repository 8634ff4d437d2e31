// The probes behind the health check: each measures one thing and never throws (docs/appliance.md "Health").
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import type { Database } from 'better-sqlite3';
import type { Clock, ModuleHealth } from '../shared/index.js';
import type { CheckResult, HealthProbe } from './health-check.js';

/** A module's own status as a check ("SIP listening", "media engine alive"). */
export function moduleProbe(what: string, health: () => ModuleHealth | undefined): HealthProbe {
  return () => {
    const h = health();
    if (!h) return { status: 'down', message: `${what}: not started` };
    return { status: h.status, message: `${what}: ${h.status}`, ...(h.detail ? { detail: h.detail } : {}) };
  };
}

/**
 * The store takes a write: one row of health_probe is updated inside a transaction. A full disk, a read-only
 * remount or a locked database shows here before a call or a setting fails to save.
 */
export function storeWritableProbe(db: () => Database | undefined, clock: Clock): HealthProbe {
  return () => {
    const d = db();
    if (!d?.open) return { status: 'down', message: 'store: not open' };
    const started = clock.monotonic();
    try {
      d.prepare('INSERT INTO health_probe (id, checked_at) VALUES (1, ?) ON CONFLICT(id) DO UPDATE SET checked_at = excluded.checked_at').run(clock.now());
      return { status: 'ok', message: 'store: writable', detail: { writeMs: Math.round((clock.monotonic() - started) * 10) / 10 } };
    } catch (err) {
      return { status: 'down', message: `store: not writable: ${(err as Error).message}` };
    }
  };
}

export interface DiskLimits {
  /** Below this share of free space the box is degraded (default 10 %). */
  degradedBelowPercent: number;
  /** Below this many free bytes it is down: recordings and the database can no longer be written (default 64 MiB). */
  downBelowBytes: number;
}

export const DEFAULT_DISK_LIMITS: DiskLimits = { degradedBelowPercent: 10, downBelowBytes: 64 * 1024 * 1024 };

export type StatFs = (dir: string) => Promise<{ bsize: number; blocks: number; bavail: number }>;

/** Free space of the data partition. */
export function diskProbe(dir: string, limits: DiskLimits = DEFAULT_DISK_LIMITS, statfs: StatFs = (d) => fs.promises.statfs(d)): HealthProbe {
  return async () => {
    let s: { bsize: number; blocks: number; bavail: number };
    try {
      s = await statfs(dir);
    } catch (err) {
      return { status: 'down', message: `disk: cannot read free space of ${dir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` };
    }
    const total = s.bsize * s.blocks;
    const free = s.bsize * s.bavail;
    const percent = total > 0 ? Math.round((free / total) * 1000) / 10 : 0;
    const detail = { freeBytes: free, totalBytes: total, freePercent: percent };
    if (free < limits.downBelowBytes) return { status: 'down', message: `disk: only ${mib(free)} MiB free on the data partition`, detail };
    if (percent < limits.degradedBelowPercent) return { status: 'degraded', message: `disk: ${percent} % free on the data partition`, detail };
    return { status: 'ok', message: `disk: ${percent} % free`, detail };
  };
}

function mib(bytes: number): number {
  return Math.round(bytes / 1024 / 1024);
}

export interface TemperatureLimits {
  /** The Pi 4 starts soft-throttling at 80 °C and hard-throttles at 85 °C. */
  degradedAtC: number;
  downAtC: number;
}

export const DEFAULT_TEMPERATURE_LIMITS: TemperatureLimits = { degradedAtC: 80, downAtC: 85 };

const THERMAL = '/sys/class/thermal';

/**
 * SoC temperature in °C from the kernel's thermal zones (the Pi's `cpu-thermal` is zone 0), or null where the machine
 * has no sensor. Read with async file reads: systeminformation's cpuTemperature() runs a shell through execSync,
 * which stops the event loop (SIP included) for tens of milliseconds on each reading.
 */
export async function readCpuTemperature(dir = THERMAL): Promise<number | null> {
  let zones: string[];
  try {
    zones = (await fs.promises.readdir(dir)).filter((z) => z.startsWith('thermal_zone')).sort();
  } catch {
    return null;
  }
  let fallback: number | null = null;
  for (const z of zones) {
    try {
      const [type, temp] = await Promise.all([fs.promises.readFile(`${dir}/${z}/type`, 'utf8'), fs.promises.readFile(`${dir}/${z}/temp`, 'utf8')]);
      const c = Number(temp.trim()) / 1000;
      if (!Number.isFinite(c) || c <= 0) continue;
      if (/cpu|soc|x86_pkg/i.test(type)) return Math.round(c * 10) / 10;
      fallback ??= Math.round(c * 10) / 10;
    } catch {
      // a zone without a readable temperature: try the next
    }
  }
  return fallback;
}

export function temperatureProbe(read: () => Promise<number | null> = readCpuTemperature, limits: TemperatureLimits = DEFAULT_TEMPERATURE_LIMITS): HealthProbe {
  return async () => {
    let c: number | null;
    try {
      c = await read();
    } catch {
      c = null;
    }
    if (c === null) return { status: 'ok', message: 'temperature: no sensor on this machine' };
    const detail = { celsius: c };
    if (c >= limits.downAtC) return { status: 'down', message: `temperature: ${c} °C, the SoC is throttling hard`, detail };
    if (c >= limits.degradedAtC) return { status: 'degraded', message: `temperature: ${c} °C, too hot`, detail };
    return { status: 'ok', message: `temperature: ${c} °C`, detail };
  };
}

/**
 * Raspberry Pi firmware throttling flags (`vcgencmd get_throttled`): bits 0-3 are now, bits 16-19 since boot.
 * 0 under-voltage, 1 ARM frequency capped, 2 throttled, 3 soft temperature limit.
 */
export const THROTTLE_BITS: Record<number, string> = { 0: 'under-voltage', 1: 'frequency capped', 2: 'throttled', 3: 'soft temperature limit' };

/** The flags as a number, or undefined where the machine is not a Pi (no sysfs node, no vcgencmd). */
export type ThrottleReader = () => Promise<number | undefined>;

const SYSFS_THROTTLED = '/sys/devices/platform/soc/soc:firmware/get_throttled';

/** Set once vcgencmd turned out not to be installed: a machine that is not a Pi is not asked again every probe. */
let vcgencmdMissing = false;

export const readPiThrottling: ThrottleReader = async () => {
  try {
    return parseInt((await fs.promises.readFile(SYSFS_THROTTLED, 'utf8')).trim(), 16);
  } catch {
    /* older kernels: ask the firmware through vcgencmd */
  }
  if (vcgencmdMissing) return undefined;
  return new Promise((resolve) => {
    execFile('vcgencmd', ['get_throttled'], { timeout: 2000 }, (err, stdout) => {
      if ((err as NodeJS.ErrnoException | null)?.code === 'ENOENT') vcgencmdMissing = true;
      if (err) return resolve(undefined);
      const m = /throttled=0x([0-9a-f]+)/i.exec(stdout);
      resolve(m ? parseInt(m[1]!, 16) : undefined);
    });
  });
};

export function throttlingProbe(read: ThrottleReader = readPiThrottling): HealthProbe {
  return async (): Promise<CheckResult> => {
    let flags: number | undefined;
    try {
      flags = await read();
    } catch {
      flags = undefined;
    }
    if (flags === undefined || Number.isNaN(flags)) return { status: 'ok', message: 'throttling: not a Raspberry Pi (no firmware flags)' };
    const now = Object.entries(THROTTLE_BITS).filter(([bit]) => flags! & (1 << Number(bit))).map(([, name]) => name);
    const sinceBoot = Object.entries(THROTTLE_BITS).filter(([bit]) => flags! & (1 << (Number(bit) + 16))).map(([, name]) => name);
    const detail = { flags: `0x${flags.toString(16)}`, now, sinceBoot };
    if (now.length) return { status: 'degraded', message: `throttling: ${now.join(', ')} now (check the power supply and cooling)`, detail };
    return { status: 'ok', message: sinceBoot.length ? `throttling: none now (${sinceBoot.join(', ')} since boot)` : 'throttling: none', detail };
  };
}
