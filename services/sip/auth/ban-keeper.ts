// Keeps the AuthGuard's bans in SQLite: restored at start, security events written, lifts by `relais bans lift`
// (another process, same database) applied within a couple of seconds.
import type { Clock, Logger, Module, ModuleHealth, TimerHandle } from '../../shared/index.js';
import type { AuthGuard, Ban } from './auth-guard.js';
import type { BanRepository } from './ban-repository.js';

export interface BanKeeperOptions {
  guard: AuthGuard;
  repo: BanRepository;
  clock: Clock;
  logger: Logger;
  /** How often the database is checked for lifts made by the CLI (default 2 s). */
  syncIntervalMs?: number;
}

export class BanKeeper implements Module {
  readonly name = 'security';
  private timer: TimerHandle | undefined;
  private version = -1;
  private syncing = false;
  private running = false;
  private readonly log: Logger;

  constructor(private readonly opts: BanKeeperOptions) {
    this.log = opts.logger.child({ module: 'security' });
    opts.guard.on('banned', (ban) => this.onBanned(ban));
    opts.guard.on('lifted', (ban) => this.onLifted(ban));
  }

  async start(): Promise<void> {
    const { repo, guard, clock } = this.opts;
    const now = clock.now();
    repo.prune(now);
    for (const ban of repo.active(now)) guard.restore(ban);
    this.version = repo.dataVersion();
    this.running = true;
    this.schedule();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.opts.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  health(): ModuleHealth {
    const s = this.opts.guard.stats();
    return { status: this.running ? 'ok' : 'down', detail: { bannedAddresses: s.banned, lockedExtensions: s.locked, bansSinceStart: s.bansTotal } };
  }

  /** Applies lifts made in the database by another process (the CLI): bans missing there end here too. */
  sync(): void {
    const { repo, guard, clock } = this.opts;
    const v = repo.dataVersion();
    if (v === this.version) return;
    this.version = v;
    const stored = new Set(repo.active(clock.now()).map((b) => `${b.kind}\n${b.address}\n${b.kind === 'extension' ? (b.user ?? '') : ''}`));
    this.syncing = true;
    try {
      for (const b of guard.bans()) {
        if (stored.has(`${b.kind}\n${b.address}\n${b.kind === 'extension' ? (b.user ?? '') : ''}`)) continue;
        guard.lift(b.address, b.kind === 'extension' ? b.user : undefined);
      }
    } finally {
      this.syncing = false;
    }
  }

  private schedule(): void {
    if (!this.running) return;
    this.timer = this.opts.clock.setTimeout(() => {
      try {
        this.sync();
      } catch (err) {
        this.log.warn('bans not synchronised with the database', { error: err instanceof Error ? err.message : String(err) });
      }
      this.schedule();
    }, this.opts.syncIntervalMs ?? 2000);
  }

  private onBanned(ban: Ban): void {
    const fields = { address: ban.address, user: ban.user, reason: ban.reason, offence: ban.offence, until: new Date(ban.until).toISOString() };
    if (ban.kind === 'address') this.log.warn('security: address banned', { ...fields, event: 'sip.banned' });
    else this.log.warn('security: extension locked at address', { ...fields, event: 'sip.locked' });
    this.write(() => {
      this.opts.repo.save(ban);
      this.opts.repo.addEvent({
        at: this.opts.clock.now(),
        type: ban.kind === 'address' ? 'sip.banned' : 'sip.locked',
        address: ban.address,
        user: ban.user,
        detail: { reason: ban.reason, offence: ban.offence, until: ban.until },
      });
    });
  }

  private onLifted(ban: Ban): void {
    if (this.syncing) return; // lifted by the CLI, which removed the row and wrote the event itself
    this.log.info('security: ban lifted', { address: ban.address, user: ban.user, kind: ban.kind, event: 'sip.lifted' });
    this.write(() => {
      this.opts.repo.remove(ban.address, ban.kind === 'extension' ? (ban.user ?? '') : '');
      this.opts.repo.addEvent({ at: this.opts.clock.now(), type: 'sip.lifted', address: ban.address, user: ban.user, detail: { kind: ban.kind, by: 'api' } });
    });
  }

  private write(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      // The ban holds in memory either way; only its record is missing.
      this.log.warn('ban not recorded in the database', { error: err instanceof Error ? err.message : String(err) });
    }
  }
}
