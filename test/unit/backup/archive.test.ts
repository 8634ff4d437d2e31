// Backup archives: manifest, checksums, and every way restore must refuse without touching data.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import * as tar from 'tar';
import { Store, MIGRATIONS } from '../../../services/storage/index.js';
import { Directory } from '../../../services/directory/index.js';
import { createBackup, restoreBackup, BackupError, type BackupManifest } from '../../../services/backup/index.js';
import { tempDir } from '../../helpers/relais-process.js';

function seed(dataDir: string): void {
  const store = Store.open(path.join(dataDir, 'relais.db'));
  const d = new Directory(store.db, 'r');
  d.users.create({ username: 'keep-me' });
  store.close();
  fs.mkdirSync(path.join(dataDir, 'sounds'), { recursive: true });
  fs.writeFileSync(path.join(dataDir, 'sounds/a.wav'), 'sound-a');
}

function users(dataDir: string): string[] {
  const store = Store.open(path.join(dataDir, 'relais.db'));
  try {
    return new Directory(store.db, 'r').users.list().map((u) => u.username);
  } finally {
    store.close();
  }
}

/** Extracts a backup, lets the test tamper with it, packs it again. */
async function tamper(archive: string, out: string, edit: (dir: string, manifest: BackupManifest) => void): Promise<void> {
  const dir = tempDir('tamper-');
  await tar.x({ file: archive, cwd: dir });
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as BackupManifest;
  edit(dir, manifest);
  fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(manifest));
  await tar.c({ gzip: true, file: out, cwd: dir }, ['manifest.json', ...Object.keys(manifest.files).filter((f) => fs.existsSync(path.join(dir, f)))]);
}

async function refused(dataDir: string, archive: string, pattern: RegExp): Promise<void> {
  const before = users(dataDir);
  const sound = fs.readFileSync(path.join(dataDir, 'sounds/a.wav'), 'utf8');
  await assert.rejects(restoreBackup(dataDir, archive), (err: unknown) => err instanceof BackupError && pattern.test(err.message));
  assert.deepEqual(users(dataDir), before);
  assert.equal(fs.readFileSync(path.join(dataDir, 'sounds/a.wav'), 'utf8'), sound);
  assert.deepEqual(fs.readdirSync(dataDir).filter((f) => f.startsWith('.')), []);
}

test('backup manifest lists schema version and every file with size and SHA-256', async () => {
  const dataDir = tempDir('bk-');
  seed(dataDir);
  const file = path.join(tempDir('bk-out-'), 'b.tar.gz');
  const r = await createBackup(dataDir, file);
  assert.match(r.manifest.schemaVersion, /^\d{12}$/);
  assert.deepEqual(Object.keys(r.manifest.files), ['relais.db', 'sounds/a.wav']);
  assert.equal(r.manifest.files['sounds/a.wav']!.sha256, createHash('sha256').update('sound-a').digest('hex'));
  assert.ok(!fs.existsSync(`${file}.partial`));
  assert.equal(fs.statSync(file).mode & 0o777, 0o600, 'the archive holds the secrets: owner only');
  await assert.rejects(createBackup(tempDir('empty-'), file), /no database at .*nothing to back up/);
});

test('restore refuses a newer schema, a checksum mismatch, a corrupt database and a non-backup, changing nothing', async () => {
  const dataDir = tempDir('rs-');
  seed(dataDir);
  const out = tempDir('rs-out-');
  const good = path.join(out, 'good.tar.gz');
  await createBackup(dataDir, good);
  // The live data moves on after the backup, so "unchanged" is visible.
  const store = Store.open(path.join(dataDir, 'relais.db'));
  new Directory(store.db, 'r').users.create({ username: 'after-backup' });
  store.close();

  const newer = path.join(out, 'newer.tar.gz');
  await tamper(good, newer, (_d, m) => (m.schemaVersion = '299912312359'));
  await refused(dataDir, newer, /backup schema 299912312359 is newer than this firmware knows/);

  const mismatch = path.join(out, 'mismatch.tar.gz');
  await tamper(good, mismatch, (d) => fs.writeFileSync(path.join(d, 'sounds/a.wav'), 'sound-b'));
  await refused(dataDir, mismatch, /sounds\/a\.wav does not match its checksum/);

  const corrupt = path.join(out, 'corrupt.tar.gz');
  await tamper(good, corrupt, (d, m) => {
    const db = path.join(d, 'relais.db');
    const buf = fs.readFileSync(db);
    // Scribble over every page but the header page: the b-trees no longer make sense.
    for (let i = 4096; i < buf.length; i += 7) buf[i] = (buf[i]! + 91) & 0xff;
    fs.writeFileSync(db, buf);
    m.files['relais.db'] = { size: buf.length, sha256: createHash('sha256').update(buf).digest('hex') };
  });
  await refused(dataDir, corrupt, /backup database (fails the SQLite integrity check|cannot be read)/);

  const missing = path.join(out, 'missing.tar.gz');
  await tamper(good, missing, (d) => fs.rmSync(path.join(d, 'sounds/a.wav')));
  await refused(dataDir, missing, /backup is incomplete: sounds\/a\.wav is missing/);

  const notBackup = path.join(out, 'not.tar.gz');
  fs.writeFileSync(path.join(out, 'hello.txt'), 'hi');
  await tar.c({ gzip: true, file: notBackup, cwd: out }, ['hello.txt']);
  await refused(dataDir, notBackup, /not a Relais backup: manifest\.json is missing/);

  const garbage = path.join(out, 'garbage.tar.gz');
  fs.writeFileSync(garbage, 'this is not gzip at all');
  await refused(dataDir, garbage, /damaged or truncated|not a Relais backup/);

  // And the good one restores, dropping what came after the backup.
  const r = await restoreBackup(dataDir, good);
  assert.equal(r.schemaVersion, r.manifest.schemaVersion);
  assert.deepEqual(users(dataDir), ['keep-me']);
});

test('restore of an older-schema backup migrates it forward', async () => {
  const dataDir = tempDir('old-');
  const old = Store.open(path.join(dataDir, 'relais.db'), { migrations: MIGRATIONS.slice(0, 1) });
  old.db.prepare("INSERT INTO users (username, created_at) VALUES ('from-old-firmware', 1)").run();
  old.close();
  const archive = path.join(tempDir('old-out-'), 'b.tar.gz');
  const r = await createBackup(dataDir, archive);
  assert.equal(r.manifest.schemaVersion, MIGRATIONS[0]!.version);
  const target = tempDir('old-target-');
  seed(target);
  const res = await restoreBackup(target, archive);
  assert.equal(res.manifest.schemaVersion, MIGRATIONS[0]!.version);
  assert.equal(res.schemaVersion, MIGRATIONS[MIGRATIONS.length - 1]!.version);
  assert.deepEqual(users(target), ['from-old-firmware']);
  assert.ok(!fs.existsSync(path.join(target, 'sounds')), 'media dirs are those of the backup (it had none)');
});
