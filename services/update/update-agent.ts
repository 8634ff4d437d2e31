// The update agent: takes a bundle (uploaded through the API), has RAUC check and install it into the inactive slot
// over D-Bus, reboots into it, and on the next boot marks the slot good only when the health check passes within
// the time limit; otherwise marks it bad, activates the previous slot and reboots back (docs/firmware.md).
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { RelaisError, TypedEmitter, errorMessage, type Clock, type Logger, type TimerHandle } from '../shared/index.js';
import type { Rauc, SlotStatus } from './rauc-client.js';
import type { UpdateHistory, UpdateRecord } from './update-history.js';
import { compareVersions } from './version.js';

export type UpdateState = 'idle' | 'receiving' | 'checking' | 'installing' | 'installed' | 'rebooting' | 'confirming' | 'failed';

export interface UpdateError {
  code: string;
  message: string;
}

export interface UpdateStatus {
  state: UpdateState;
  /** The firmware running now. */
  currentVersion: string;
  compatible: string;
  bootSlot: string;
  /** The bundle being received, checked or installed. */
  bundle: { version: string; compatible: string } | undefined;
  progress: { phase: 'upload' | 'install'; percent: number; message: string } | undefined;
  error: UpdateError | undefined;
  slots: SlotStatus[];
  /** The last updates of this box, newest first (empty until the store is open). */
  history: UpdateRecord[];
}

export interface UpdateEvents {
  [event: string]: unknown[];
  /** Upload bytes, then RAUC's install steps (percent 0-100). */
  'update.progress': [phase: 'upload' | 'install', percent: number, message: string];
  'update.state': [state: UpdateState];
  /** Installed into `slot`; the box reboots into it. */
  'update.installed': [version: string, slot: string];
  'update.failed': [error: UpdateError];
  /** After a reboot into a new slot: the health check passed and the slot is marked good. */
  'update.confirmed': [version: string, slot: string];
  /** The health check did not pass in time (or the store failed to migrate): slot marked bad, rebooting back. */
  'update.rolled-back': [version: string, slot: string, reason: string];
}

/** Written before the reboot: what the next boot must confirm. */
interface PendingConfirmation {
  version: string;
  slot: string;
  bootId: string;
  installedAt: string;
}

export interface UpdateAgentOptions {
  rauc: Rauc;
  clock: Clock;
  logger: Logger;
  /** Bundles are received into <dataDir>/updates (the data partition: room for them, and RAUC can read them). */
  dataDir: string;
  /** Reboots the box (systemctl reboot on the appliance; tests record the call). */
  reboot: () => Promise<void>;
  /** The health check must pass within this long after a boot into a new slot. */
  confirmMs: number;
  /** The running version when RAUC's slot status has none (a factory-flashed slot). */
  fallbackVersion: string;
  /** Identifies this boot (/proc/sys/kernel/random/boot_id); tests simulate reboots with another id. */
  bootId?: () => string;
  /** Largest bundle accepted (default 1 GiB, as RAUC's max-bundle-download-size). */
  maxBundleBytes?: number;
  /** Delay between a finished install and the reboot, so the console sees the result (default 3 s). */
  rebootDelayMs?: number;
}

export function readBootId(): string {
  try {
    return fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return 'unknown';
  }
}

/** The reboot command of the settings (no shell), e.g. ['systemctl', 'reboot']. */
export function commandReboot(argv: readonly string[]): () => Promise<void> {
  return () =>
    new Promise((resolve, reject) => {
      execFile(argv[0]!, argv.slice(1), { timeout: 30_000 }, (err, _o, stderr) => (err ? reject(new Error(`${argv.join(' ')}: ${stderr.trim() || err.message}`)) : resolve()));
    });
}

const PENDING_FILE = 'pending.json';

export class UpdateAgent {
  readonly observer = new TypedEmitter<UpdateEvents>();
  private state: UpdateState = 'idle';
  private current = '';
  private compatibleString = '';
  private booted = '';
  private bundle: UpdateStatus['bundle'];
  private progress: UpdateStatus['progress'];
  private error: UpdateError | undefined;
  private confirmTimer: TimerHandle | undefined;
  private awaiting: PendingConfirmation | undefined;
  private busy = false;
  private readonly log: Logger;
  private readonly dir: string;
  private history: UpdateHistory | undefined;

  constructor(private readonly opts: UpdateAgentOptions) {
    this.log = opts.logger.child({ module: 'update' });
    this.dir = path.join(opts.dataDir, 'updates');
  }

  /** Reads RAUC's view (compatible, booted slot, versions); when this boot is a new slot's first, starts its trial. */
  async start(): Promise<void> {
    fs.mkdirSync(this.dir, { recursive: true });
    this.compatibleString = await this.opts.rauc.compatible();
    this.booted = await this.opts.rauc.bootSlot();
    const slots = await this.opts.rauc.slots();
    this.current = slots.find((s) => s.state === 'booted')?.bundleVersion ?? this.opts.fallbackVersion;
    // Leftovers of an interrupted upload are garbage.
    for (const f of fs.readdirSync(this.dir)) if (f.endsWith('.raucb')) fs.rmSync(path.join(this.dir, f), { force: true });
    const pending = this.readPending();
    if (!pending) return;
    const bootId = (this.opts.bootId ?? readBootId)();
    if (pending.bootId === bootId) {
      // Installed but not rebooted yet (Relais restarted): still waiting for the reboot.
      this.setState('installed');
      this.bundle = { version: pending.version, compatible: this.compatibleString };
      return;
    }
    const bootedSlot = slots.find((s) => s.state === 'booted');
    if (bootedSlot?.name !== pending.slot) {
      // The bootloader fell back before Relais could run (the new slot did not boot at all).
      this.clearPending();
      this.fail({ code: 'update.fell_back', message: `firmware ${pending.version} in ${pending.slot} did not boot; the box runs ${bootedSlot?.name ?? this.booted} again` });
      return;
    }
    this.awaiting = pending;
    this.setState('confirming');
    this.log.info('first boot of a new firmware slot: waiting for the health check', { version: pending.version, slot: pending.slot, withinMs: this.opts.confirmMs });
    this.confirmTimer = this.opts.clock.setTimeout(() => {
      void this.rollBack(`the health check did not pass within ${Math.round(this.opts.confirmMs / 1000)} s`);
    }, this.opts.confirmMs);
  }

  /** A health report: the first passing one (status not down) confirms a slot on trial, and marks a normal boot good. */
  healthReport(status: 'ok' | 'degraded' | 'down'): void {
    if (status === 'down') return;
    const awaiting = this.awaiting;
    if (!awaiting) return;
    this.awaiting = undefined;
    this.opts.clock.clearTimeout(this.confirmTimer);
    void (async () => {
      try {
        await this.opts.rauc.mark('good', 'booted');
        this.clearPending();
        this.current = awaiting.version;
        this.setState('idle');
        this.log.info('new firmware confirmed: slot marked good', { version: awaiting.version, slot: awaiting.slot });
        this.record((h, at) => h.finished(awaiting.version, 'confirmed', at, { slot: awaiting.slot }));
        this.observer.emit('update.confirmed', awaiting.version, awaiting.slot);
      } catch (err) {
        this.fail({ code: 'update.mark_failed', message: `could not mark ${awaiting.slot} good: ${errorMessage(err)}` });
      }
    })();
  }

  /** Relais could not start on this boot (e.g. a schema migration failed): a slot on trial is rolled back now. */
  async startupFailed(reason: string): Promise<boolean> {
    if (!this.awaiting) return false;
    await this.rollBack(reason);
    return true;
  }

  /** The history table, once the store is open (the agent starts before it, for a rollback on a failed migration). */
  attachHistory(history: UpdateHistory): void {
    this.history = history;
  }

  private record(fn: (h: UpdateHistory, at: number) => void): void {
    try {
      if (this.history) fn(this.history, this.opts.clock.now());
    } catch (err) {
      this.log.warn('firmware history not written', { error: errorMessage(err) });
    }
  }

  /** The state now (the LEDs' "update in progress"). */
  currentState(): UpdateState {
    return this.state;
  }

  /** Whether this boot is a new slot's trial (the store's migration failure path asks). */
  onTrial(): boolean {
    return this.awaiting !== undefined;
  }

  status(): Promise<UpdateStatus> {
    return this.opts.rauc.slots().then(
      (slots) => this.snapshot(slots),
      () => this.snapshot([]),
    );
  }

  /**
   * Receives a bundle into the data partition (progress events as bytes arrive). `size` is the announced length
   * (Content-Length): a shorter body is a truncated upload and is refused.
   */
  async receive(body: Readable, size: number | undefined): Promise<string> {
    const max = this.opts.maxBundleBytes ?? 1024 * 1024 * 1024;
    if (size !== undefined && size > max) throw new RelaisError('update.too_large', `the bundle is ${size} bytes; at most ${max} are accepted`, { status: 413 });
    this.claim();
    const file = path.join(this.dir, `upload-${crypto.randomBytes(6).toString('hex')}.raucb`);
    this.bundle = undefined;
    this.error = undefined;
    this.setState('receiving');
    let received = 0;
    let lastPercent = -1;
    const count = new Transform({
      transform: (chunk: Buffer, _enc, done) => {
        received += chunk.length;
        if (received > max) return done(new RelaisError('update.too_large', `the bundle is larger than ${max} bytes`, { status: 413 }));
        const percent = size ? Math.floor((received / size) * 100) : 0;
        if (percent !== lastPercent && size) {
          lastPercent = percent;
          this.progressed('upload', percent, `received ${received} of ${size} bytes`);
        }
        done(null, chunk);
      },
    });
    try {
      await pipeline(body, count, fs.createWriteStream(file, { mode: 0o640 }));
      if (received === 0) throw new RelaisError('update.bundle_missing', 'the request carried no bundle: send the .raucb file as the body', { field: 'bundle' });
      if (size !== undefined && received < size) throw new RelaisError('update.bundle_truncated', `the upload stopped after ${received} of ${size} bytes; send the bundle again`, { field: 'bundle' });
      return file;
    } catch (err) {
      fs.rmSync(file, { force: true });
      this.busy = false;
      const e = err instanceof RelaisError ? err : new RelaisError('update.upload_failed', `the upload failed: ${errorMessage(err)}`);
      this.fail({ code: e.code, message: e.message });
      throw e;
    }
  }

  /**
   * Checks a received bundle (signature, compatible, version) and, when acceptable, returns the install's promise.
   * A refusal throws a RelaisError at once; the bundle file is removed either way once done with.
   */
  async check(file: string, opts: { allowDowngrade?: boolean } = {}): Promise<{ version: string; install: Promise<void> }> {
    this.busy = true;
    this.setState('checking');
    const broken = bundleStructureProblem(file);
    if (broken) throw this.refuse(file, new RelaisError('update.bundle_invalid', `the file is not a complete RAUC bundle: ${broken}`, { field: 'bundle' }));
    let info: { compatible: string; version: string };
    try {
      info = await this.opts.rauc.info(file);
    } catch (err) {
      throw this.refuse(file, refusalFor(errorMessage(err)));
    }
    this.bundle = info;
    if (info.compatible !== this.compatibleString) {
      throw this.refuse(file, new RelaisError('update.incompatible', `the bundle is for "${info.compatible}", this box is "${this.compatibleString}"`, { field: 'bundle' }));
    }
    if (compareVersions(info.version, this.current) <= 0 && !opts.allowDowngrade) {
      throw this.refuse(
        file,
        new RelaisError('update.not_newer', `the bundle's version ${info.version} is not newer than the running ${this.current}; a technician may force it with allowDowngrade=true`, { field: 'bundle', status: 409 }),
      );
    }
    return { version: info.version, install: this.install(file, info) };
  }

  private async install(file: string, info: { compatible: string; version: string }): Promise<void> {
    this.setState('installing');
    this.record((h, at) => h.started(info.version, info.compatible, at));
    this.log.info('installing firmware', { version: info.version, bundle: path.basename(file) });
    try {
      const { result, lastError } = await this.opts.rauc.install(file, (p) => this.progressed('install', p.percent, p.message));
      if (result !== 0) throw new RelaisError('update.install_failed', `RAUC could not install the bundle: ${lastError || `result ${result}`}`);
      const target = (await this.opts.rauc.slots()).find((s) => s.state === 'inactive' && s.bundleVersion === info.version && s.class === 'rootfs');
      const slot = target?.name ?? 'other';
      this.writePending({ version: info.version, slot, bootId: (this.opts.bootId ?? readBootId)(), installedAt: new Date(this.opts.clock.now()).toISOString() });
      this.setState('installed');
      this.record((h, at) => h.finished(info.version, 'installed', at, { slot }));
      this.observer.emit('update.installed', info.version, slot);
      this.log.info('firmware installed; rebooting into it', { version: info.version, slot });
      this.opts.clock.setTimeout(() => void this.rebootNow(), this.opts.rebootDelayMs ?? 3000);
    } catch (err) {
      const e = err instanceof RelaisError ? err : new RelaisError('update.install_failed', `RAUC could not install the bundle: ${errorMessage(err)}`);
      this.record((h, at) => h.finished(info.version, 'failed', at, { message: e.message }));
      this.fail({ code: e.code, message: e.message });
      throw e;
    } finally {
      fs.rmSync(file, { force: true });
      this.busy = false;
    }
  }

  private async rebootNow(): Promise<void> {
    this.setState('rebooting');
    try {
      await this.opts.reboot();
    } catch (err) {
      this.fail({ code: 'update.reboot_failed', message: `the reboot command failed: ${errorMessage(err)}; reboot the box to start the new firmware` });
    }
  }

  private async rollBack(reason: string): Promise<void> {
    const awaiting = this.awaiting ?? this.readPending();
    this.awaiting = undefined;
    this.opts.clock.clearTimeout(this.confirmTimer);
    if (!awaiting) return;
    this.log.error('new firmware failed its trial: marking the slot bad and rebooting back', { version: awaiting.version, slot: awaiting.slot, reason });
    try {
      await this.opts.rauc.mark('bad', 'booted');
      await this.opts.rauc.mark('active', 'other');
    } catch (err) {
      this.log.error('could not mark the slots for the rollback; the bootloader falls back after its tries', { error: errorMessage(err) });
    }
    this.clearPending();
    this.fail({ code: 'update.rolled_back', message: `firmware ${awaiting.version} was rolled back: ${reason}` });
    this.record((h, at) => h.finished(awaiting.version, 'rolled-back', at, { slot: awaiting.slot, message: reason }));
    this.observer.emit('update.rolled-back', awaiting.version, awaiting.slot, reason);
    await this.rebootNow();
  }

  private claim(): void {
    if (this.busy || this.state === 'installing' || this.state === 'installed' || this.state === 'rebooting') {
      throw new RelaisError('update.busy', `an update is already ${this.state === 'installed' ? 'installed and waiting for the reboot' : 'in progress'}`, { status: 409 });
    }
    this.busy = true;
  }

  private refuse(file: string, err: RelaisError): RelaisError {
    fs.rmSync(file, { force: true });
    this.busy = false;
    this.fail({ code: err.code, message: err.message });
    this.log.warn('bundle refused', { code: err.code, message: err.message });
    return err;
  }

  private fail(error: UpdateError): void {
    this.error = error;
    this.setState('failed');
    this.observer.emit('update.failed', error);
  }

  private progressed(phase: 'upload' | 'install', percent: number, message: string): void {
    this.progress = { phase, percent, message };
    this.observer.emit('update.progress', phase, percent, message);
  }

  private setState(state: UpdateState): void {
    if (this.state === state) return;
    this.state = state;
    if (state === 'idle' || state === 'receiving') this.progress = undefined;
    this.observer.emit('update.state', state);
  }

  private snapshot(slots: SlotStatus[]): UpdateStatus {
    return {
      state: this.state,
      currentVersion: this.current,
      compatible: this.compatibleString,
      bootSlot: this.booted,
      bundle: this.bundle,
      progress: this.progress,
      error: this.error,
      slots,
      history: this.history ? safe(() => this.history!.recent(), []) : [],
    };
  }

  private readPending(): PendingConfirmation | undefined {
    try {
      return JSON.parse(fs.readFileSync(path.join(this.dir, PENDING_FILE), 'utf8')) as PendingConfirmation;
    } catch {
      return undefined;
    }
  }

  private writePending(p: PendingConfirmation): void {
    const tmp = path.join(this.dir, `${PENDING_FILE}.tmp`);
    fs.writeFileSync(tmp, JSON.stringify(p));
    fs.renameSync(tmp, path.join(this.dir, PENDING_FILE));
  }

  private clearPending(): void {
    fs.rmSync(path.join(this.dir, PENDING_FILE), { force: true });
  }

  stop(): void {
    this.opts.clock.clearTimeout(this.confirmTimer);
    this.opts.rauc.close();
  }
}

function safe<T>(fn: () => T, fallback: T): T {
  try {
    return fn();
  } catch {
    return fallback;
  }
}

/**
 * A RAUC bundle is a squashfs image, then its CMS signature, then the signature's size as a big-endian 64-bit
 * number. A truncated upload or another file fails this before RAUC is asked; returns what is wrong, if anything.
 */
export function bundleStructureProblem(file: string): string | undefined {
  const size = fs.statSync(file).size;
  if (size < 4096) return `${size} bytes is too small for a bundle`;
  const fd = fs.openSync(file, 'r');
  try {
    const head = Buffer.alloc(4);
    fs.readSync(fd, head, 0, 4, 0);
    if (head.toString('latin1') !== 'hsqs') return 'it does not start with a squashfs image (not a .raucb file?)';
    const tail = Buffer.alloc(8);
    fs.readSync(fd, tail, 0, 8, size - 8);
    const sigSize = tail.readBigUInt64BE(0);
    if (sigSize === 0n || sigSize > BigInt(size - 8 - 4096)) return 'its signature trailer is missing or damaged (truncated upload?)';
    // The squashfs superblock's bytes_used (offset 40, little-endian 64-bit) must end where the signature starts.
    const sb = Buffer.alloc(8);
    fs.readSync(fd, sb, 0, 8, 40);
    const used = sb.readBigUInt64LE(0);
    const padded = (used + 4095n) & ~4095n;
    if (used > BigInt(size) - sigSize - 8n && padded > BigInt(size) - sigSize - 8n) return 'it is shorter than its image says (truncated upload?)';
    return undefined;
  } finally {
    fs.closeSync(fd);
  }
}

/** RAUC's reason for refusing a bundle, as an error a technician can act on. */
export function refusalFor(raucMessage: string): RelaisError {
  const m = raucMessage.replace(/^[\w.]+\.Error(\.\w+)*:\s*/, '');
  // RAUC 1.8 answers a failed Info over D-Bus with a bare "rauc info error" (the reason goes to its log); the
  // structure was checked before, so what is left is the signature.
  if (/rauc info error\s*$/i.test(m)) {
    return new RelaisError('update.signature_invalid', 'the bundle is not signed by a key this box trusts (another key, or altered after signing); RAUC refused it', { field: 'bundle' });
  }
  if (/signature|certificate|verify|CMS|PKCS7|issuer|keyring/i.test(m)) {
    return new RelaisError('update.signature_invalid', `the bundle is not signed by a key this box trusts: ${m}`, { field: 'bundle' });
  }
  return new RelaisError('update.bundle_invalid', `the file is not a complete RAUC bundle: ${m}`, { field: 'bundle' });
}
