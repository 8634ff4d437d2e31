// Measures the foundation's data paths: scrypt, extension lookups, site import/export, backup/restore.
// Run: node dist/scripts/bench-site.js [--users N] [--media-mb M] [--out FILE]  (prints JSON).
import { execSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { Store } from '../services/storage/index.js';
import { ExtensionRepository, hashPassword, verifyPasswordHash } from '../services/directory/index.js';
import { importSiteText, exportSiteText } from '../services/site/index.js';
import { createBackup, restoreBackup } from '../services/backup/index.js';

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
}

function ms<T>(fn: () => T): [number, T] {
  const t = process.hrtime.bigint();
  const r = fn();
  return [Number(process.hrtime.bigint() - t) / 1e6, r];
}

async function msAsync<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const t = process.hrtime.bigint();
  const r = await fn();
  return [Number(process.hrtime.bigint() - t) / 1e6, r];
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function main(): Promise<void> {
  const users = arg('--users', 300);
  const mediaMb = arg('--media-mb', 100);
  const outIdx = process.argv.indexOf('--out');
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'relais-bench-site-'));
  try {
    // scrypt: one console login costs one verify.
    const hash = hashPassword('bench-password');
    const verify = median(Array.from({ length: 9 }, () => ms(() => verifyPasswordHash('bench-password', hash))[0]));

    // A site of `users` users, each with an extension, 20 queues of 10, 50 numbers.
    const u = Array.from({ length: users }, (_, i) => ({ username: `u${i}`, name: `User ${i}` }));
    const site = {
      version: 1,
      users: u,
      extensions: u.map((x, i) => ({ number: String(1000 + i), user: x.username, secret: `secret-${i}-bench` })),
      scenarios: [{ name: 's', actions: [{ type: 'answer' }, { type: 'distribute', queue: 'Q0' }, { type: 'voicemail' }] }],
      queues: Array.from({ length: 20 }, (_, q) => ({ name: `Q${q}`, short_number: String(99000 + q), members: u.slice((q * 10) % users, ((q * 10) % users) + 10).map((x) => x.username) })),
      numbers: Array.from({ length: 50 }, (_, n) => ({ did: `+3314200${String(n).padStart(4, '0')}`, scenario: 's' })),
    };
    const text = stringify(site);
    const store = Store.open(path.join(work, 'relais.db'));
    const [importFirst] = ms(() => importSiteText(store, 'bench.local', text));
    const [importAgain] = ms(() => importSiteText(store, 'bench.local', text));
    const [exportMs, exported] = ms(() => exportSiteText(store, 'bench.local'));

    // The registrar's lookup per REGISTER.
    const exts = new ExtensionRepository(store.db, 'bench.local');
    const lookups = 200_000;
    const [lookupMs] = ms(() => {
      for (let i = 0; i < lookups; i++) exts.findBySipUsername(String(1000 + (i % users)));
    });
    store.close();

    // Backup/restore with `mediaMb` MB of incompressible recordings.
    fs.mkdirSync(path.join(work, 'recordings/2026/11'), { recursive: true });
    for (let i = 0; i < mediaMb; i++) fs.writeFileSync(path.join(work, `recordings/2026/11/r${i}.wav`), randomMb());
    const archive = path.join(work, 'backup.tar.gz');
    const [backupMs, b] = await msAsync(() => createBackup(work, archive));
    const [restoreMs] = await msAsync(() => restoreBackup(work, archive));

    let commit = '';
    try {
      commit = execSync('git rev-parse --short HEAD', { encoding: 'utf8' }).trim();
    } catch {
      /* not a checkout */
    }
    const result = {
      bench: 'site',
      date: new Date().toISOString(),
      commit,
      machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model ?? '', node: process.version },
      scrypt_verify_ms: Number(verify.toFixed(1)),
      site: { users, extensions: users, queues: 20, numbers: 50, yaml_bytes: text.length, import_first_ms: Math.round(importFirst), import_again_ms: Math.round(importAgain), export_ms: Math.round(exportMs), export_bytes: exported.length },
      extension_lookup: { per_second: Math.round(lookups / (lookupMs / 1000)), us_each: Number(((lookupMs * 1000) / lookups).toFixed(2)) },
      backup: { media_mb: mediaMb, archive_bytes: b.bytes, backup_ms: Math.round(backupMs), restore_ms: Math.round(restoreMs) },
    };
    const json = JSON.stringify(result, null, 1);
    process.stdout.write(`${json}\n`);
    if (outIdx >= 0) fs.writeFileSync(process.argv[outIdx + 1]!, `${json}\n`);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/** 1 MB of random bytes: incompressible, as recorded audio roughly is for gzip. */
function randomMb(): Buffer {
  return randomBytes(1 << 20);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench-site: ${(err as Error).message}\n`);
  process.exit(1);
});
