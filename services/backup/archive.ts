// Backup and restore of a data dir: SQLite online backup + sounds/, recordings/, voicemail/ in one tar.gz
// with a manifest (schema version, size and SHA-256 of every file). Restore verifies everything before it
// touches the live data, then swaps directories by rename.
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import * as tar from 'tar';
import BetterSqlite3 from 'better-sqlite3';
import { MIGRATIONS, Store } from '../storage/index.js';
import { RelaisError, SystemClock, errorMessage, type Clock } from '../shared/index.js';

export const BACKUP_FORMAT = 'relais-backup';
export const BACKUP_FORMAT_VERSION = 1;
/** Data dir entries carried by a backup besides the database. */
export const BACKUP_DIRS = ['sounds', 'recordings', 'voicemail'] as const;
export const DB_FILE = 'relais.db';
const MANIFEST = 'manifest.json';

export interface BackupManifest {
  format: typeof BACKUP_FORMAT;
  formatVersion: number;
  schemaVersion: string;
  createdAt: string;
  /** Every file of the archive but the manifest: relative path → size and SHA-256. */
  files: Record<string, { size: number; sha256: string }>;
}

export class BackupError extends RelaisError {
  constructor(message: string, code = 'backup.invalid') {
    super(code, message);
    this.name = 'BackupError';
  }
}

function sha256File(file: string): string {
  const h = createHash('sha256');
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    for (;;) {
      const n = fs.readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
    }
  } finally {
    fs.closeSync(fd);
  }
  return h.digest('hex');
}

/** Regular files under dir, relative to base, sorted; symlinks and other special files are skipped. */
function listFiles(base: string, rel: string): string[] {
  const out: string[] = [];
  const abs = path.join(base, rel);
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(abs, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return out;
    throw err;
  }
  for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const r = path.posix.join(rel, e.name);
    if (e.isDirectory()) out.push(...listFiles(base, r));
    else if (e.isFile()) out.push(r);
  }
  return out;
}

/** For callers without a clock of their own (the CLI passes its own). */
const WALL_CLOCK: Clock = new SystemClock();

function latestSchema(): string {
  return MIGRATIONS[MIGRATIONS.length - 1]!.version;
}

function tempName(dataDir: string, kind: string): string {
  return path.join(dataDir, `.${kind}-${Date.now()}-${randomBytes(4).toString('hex')}`);
}

export interface BackupResult {
  file: string;
  manifest: BackupManifest;
  bytes: number;
}

/**
 * Writes a backup of dataDir to file. The database is copied with SQLite's online backup API, so a running
 * Relais may keep writing; the archive is written to file.partial and renamed when complete.
 */
export async function createBackup(dataDir: string, file: string, clock: Pick<Clock, 'now'> = WALL_CLOCK): Promise<BackupResult> {
  const dbPath = path.join(dataDir, DB_FILE);
  if (!fs.existsSync(dbPath)) throw new BackupError(`no database at ${dbPath}: nothing to back up (check --data-dir)`, 'backup.no_data');
  const stage = tempName(dataDir, 'backup');
  fs.mkdirSync(stage, { recursive: true });
  const partial = `${file}.partial`;
  try {
    const db = new BetterSqlite3(dbPath, { fileMustExist: true });
    let schemaVersion: string;
    try {
      db.pragma('busy_timeout = 5000');
      await db.backup(path.join(stage, DB_FILE));
      const row = db.prepare('SELECT max(version) AS v FROM schema_migrations').get() as { v: string | null };
      schemaVersion = row.v ?? '';
    } finally {
      db.close();
    }
    // Point the staging dir at the live media directories; tar follows the links.
    const present = BACKUP_DIRS.filter((d) => fs.existsSync(path.join(dataDir, d)));
    for (const d of present) fs.symlinkSync(path.join(dataDir, d), path.join(stage, d), 'dir');
    const files: BackupManifest['files'] = {};
    for (const rel of [DB_FILE, ...present.flatMap((d) => listFiles(stage, d))]) {
      const abs = path.join(stage, rel);
      files[rel] = { size: fs.statSync(abs).size, sha256: sha256File(abs) };
    }
    const manifest: BackupManifest = { format: BACKUP_FORMAT, formatVersion: BACKUP_FORMAT_VERSION, schemaVersion, createdAt: new Date(clock.now()).toISOString(), files };
    fs.writeFileSync(path.join(stage, MANIFEST), JSON.stringify(manifest, null, 1));
    fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    // Only the files listed in the manifest: a file that appears while archiving is left for the next backup.
    await tar.c({ gzip: true, file: partial, cwd: stage, follow: true, portable: true, noDirRecurse: true }, [MANIFEST, ...Object.keys(files)]);
    // The archive carries the database (password hashes, SIP secrets): owner only.
    fs.chmodSync(partial, 0o600);
    fs.renameSync(partial, file);
    return { file, manifest, bytes: fs.statSync(file).size };
  } catch (err) {
    fs.rmSync(partial, { force: true });
    if (err instanceof RelaisError) throw err;
    throw new BackupError(`backup failed: ${errorMessage(err)}`, 'backup.failed');
  } finally {
    fs.rmSync(stage, { recursive: true, force: true });
  }
}

/** Reads and checks an extracted archive; returns its manifest or throws naming what is wrong. */
export function verifyExtracted(dir: string): BackupManifest {
  let manifest: BackupManifest;
  try {
    manifest = JSON.parse(fs.readFileSync(path.join(dir, MANIFEST), 'utf8')) as BackupManifest;
  } catch (err) {
    throw new BackupError(`not a Relais backup: ${MANIFEST} is missing or unreadable (${errorMessage(err)})`);
  }
  if (manifest.format !== BACKUP_FORMAT) throw new BackupError(`not a Relais backup: manifest format is "${String(manifest.format)}"`);
  if (typeof manifest.formatVersion !== 'number' || manifest.formatVersion > BACKUP_FORMAT_VERSION) {
    throw new BackupError(`backup format version ${String(manifest.formatVersion)} is newer than this firmware reads (${BACKUP_FORMAT_VERSION})`, 'backup.newer');
  }
  if (typeof manifest.schemaVersion !== 'string' || !/^\d{12}$/.test(manifest.schemaVersion)) throw new BackupError('backup manifest has no valid schema version');
  if (manifest.schemaVersion > latestSchema()) {
    throw new BackupError(`backup schema ${manifest.schemaVersion} is newer than this firmware knows (${latestSchema()}); update the firmware first`, 'backup.newer');
  }
  if (typeof manifest.files !== 'object' || manifest.files === null || !manifest.files[DB_FILE]) throw new BackupError(`backup manifest does not list ${DB_FILE}`);
  for (const [rel, meta] of Object.entries(manifest.files)) {
    if (rel.split('/').includes('..') || path.isAbsolute(rel)) throw new BackupError(`backup lists a file outside the data dir: ${rel}`);
    const abs = path.join(dir, rel);
    let st: fs.Stats;
    try {
      st = fs.statSync(abs);
    } catch {
      throw new BackupError(`backup is incomplete: ${rel} is missing`);
    }
    if (st.size !== meta.size) throw new BackupError(`backup is damaged: ${rel} has ${st.size} bytes, manifest says ${meta.size}`);
    if (sha256File(abs) !== meta.sha256) throw new BackupError(`backup is damaged: ${rel} does not match its checksum`);
  }
  let db: BetterSqlite3.Database | undefined;
  try {
    db = new BetterSqlite3(path.join(dir, DB_FILE), { readonly: true, fileMustExist: true });
    const rows = db.pragma('integrity_check') as { integrity_check: string }[];
    const result = rows.map((r) => r.integrity_check).join('; ');
    if (result !== 'ok') throw new BackupError(`backup database fails the SQLite integrity check: ${result}`);
    const v = (db.prepare('SELECT max(version) AS v FROM schema_migrations').get() as { v: string | null }).v ?? '';
    if (v !== manifest.schemaVersion) throw new BackupError(`backup database schema ${v} differs from the manifest's ${manifest.schemaVersion}`);
  } catch (err) {
    if (err instanceof BackupError) throw err;
    throw new BackupError(`backup database cannot be read: ${errorMessage(err)}`);
  } finally {
    db?.close();
  }
  return manifest;
}

export interface RestoreResult {
  manifest: BackupManifest;
  /** Schema after restore (older backups are migrated forward). */
  schemaVersion: string;
}

/**
 * Restores a backup into dataDir (Relais must be stopped). The archive is extracted and fully verified in a
 * staging directory first; a truncated, corrupt or newer archive is refused and the live data is not touched.
 */
export async function restoreBackup(dataDir: string, file: string): Promise<RestoreResult> {
  if (!fs.existsSync(file)) throw new BackupError(`backup file ${file} does not exist`, 'backup.not_found');
  fs.mkdirSync(dataDir, { recursive: true });
  const stage = tempName(dataDir, 'restore');
  fs.mkdirSync(stage);
  const previous = tempName(dataDir, 'previous');
  try {
    try {
      await tar.x({
        file,
        cwd: stage,
        strict: true,
        preservePaths: false,
        // Only regular files and directories: no links, devices or fifos from an archive.
        filter: (_p, entry) => {
          const type = (entry as { type?: string }).type;
          return type === 'File' || type === 'Directory' || type === 'OldFile' || type === 'ContiguousFile';
        },
      });
    } catch (err) {
      throw new BackupError(`backup archive is damaged or truncated: ${errorMessage(err)}`);
    }
    const manifest = verifyExtracted(stage);

    // Swap: live → previous, staged → live; on any failure put the live data back.
    const entries = [DB_FILE, `${DB_FILE}-wal`, `${DB_FILE}-shm`, ...BACKUP_DIRS];
    fs.mkdirSync(previous);
    const moved: string[] = [];
    try {
      for (const e of entries) {
        if (fs.existsSync(path.join(dataDir, e))) {
          fs.renameSync(path.join(dataDir, e), path.join(previous, e));
          moved.push(e);
        }
      }
      for (const e of [DB_FILE, ...BACKUP_DIRS]) {
        if (fs.existsSync(path.join(stage, e))) fs.renameSync(path.join(stage, e), path.join(dataDir, e));
      }
    } catch (err) {
      for (const e of [DB_FILE, ...BACKUP_DIRS]) fs.rmSync(path.join(dataDir, e), { recursive: true, force: true });
      for (const e of moved) fs.renameSync(path.join(previous, e), path.join(dataDir, e));
      throw new BackupError(`restore failed while swapping files (live data put back): ${errorMessage(err)}`, 'backup.failed');
    }
    // Bring an older schema up to this firmware's.
    const store = Store.open(path.join(dataDir, DB_FILE));
    const schemaVersion = store.schemaVersion();
    store.close();
    fs.rmSync(previous, { recursive: true, force: true });
    return { manifest, schemaVersion };
  } finally {
    fs.rmSync(stage, { recursive: true, force: true });
  }
}
