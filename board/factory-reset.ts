// Factory reset of the data dir: requested by the button, applied before the store opens on the next start,
// with everything kept in <data dir>/factory-backup until the next good boot (docs/appliance.md "Factory reset").
import fs from 'node:fs';
import path from 'node:path';

export const RESET_MARKER = 'factory-reset.requested';
export const RESET_BACKUP = 'factory-backup';

export class FactoryReset {
  constructor(readonly dataDir: string) {}

  /** Records the request; it is applied at the next start (so nothing is moved under an open database). */
  request(at: Date): void {
    fs.mkdirSync(this.dataDir, { recursive: true });
    const tmp = path.join(this.dataDir, `${RESET_MARKER}.tmp`);
    fs.writeFileSync(tmp, `${JSON.stringify({ requestedAt: at.toISOString() })}\n`);
    fs.renameSync(tmp, path.join(this.dataDir, RESET_MARKER));
  }

  pending(): boolean {
    return fs.existsSync(path.join(this.dataDir, RESET_MARKER));
  }

  /**
   * Moves every entry of the data dir into factory-backup/<stamp>/ (renames on one file system: each move is
   * atomic, and a crash half-way leaves the marker, so the next start finishes the job). The marker goes last.
   */
  applyPending(stamp: string): string | undefined {
    if (!this.pending()) return undefined;
    const backup = path.join(this.dataDir, RESET_BACKUP, stamp.replace(/[^0-9A-Za-z-]/g, '-'));
    fs.mkdirSync(backup, { recursive: true });
    for (const entry of fs.readdirSync(this.dataDir)) {
      if (entry === RESET_BACKUP || entry === RESET_MARKER) continue;
      fs.renameSync(path.join(this.dataDir, entry), path.join(backup, entry));
    }
    fs.rmSync(path.join(this.dataDir, RESET_MARKER), { force: true });
    return backup;
  }

  /** Backups waiting for a good boot. */
  backups(): string[] {
    const dir = path.join(this.dataDir, RESET_BACKUP);
    return fs.existsSync(dir) ? fs.readdirSync(dir).map((e) => path.join(dir, e)) : [];
  }

  /** The box booted fresh and is healthy: the backup is no longer needed. True when one was removed. */
  confirmGoodBoot(): boolean {
    const dir = path.join(this.dataDir, RESET_BACKUP);
    if (!fs.existsSync(dir) || this.pending()) return false;
    fs.rmSync(dir, { recursive: true, force: true });
    return true;
  }
}
