// /api/system: the box (version, uptime, network), health samples for the dashboard, backup download, restore upload
// (verified now, applied at the next start), the log tail. Administrators only, but health (any user).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type Router from '@koa/router';
import * as tar from 'tar';
import { z } from 'zod';
import { createBackup, verifyExtracted } from '../../backup/index.js';
import { RelaisError, errorMessage } from '../../shared/index.js';
import type { HealthSample } from '../../system/index.js';
import type { ApiState, Authenticator } from '../auth.js';
import { receiveRaw } from '../upload.js';
import { readQuery } from '../validate.js';

/** Applied by the next start of Relais (services/main.ts), before the database is opened. */
export const PENDING_RESTORE = 'restore-pending.tar.gz';
const MAX_RESTORE_BYTES = 4 * 1024 * 1024 * 1024;

export interface SystemRouteDeps {
  auth: Authenticator;
  dataDir: string;
  version: string;
  startedAt: number;
  now: () => number;
  health: () => HealthSample[];
  logTail: (lines: number) => string[];
  maxRestoreBytes?: number;
}

function networkInfo(): { name: string; address: string; family: string; mac: string; cidr: string | null }[] {
  const out: { name: string; address: string; family: string; mac: string; cidr: string | null }[] = [];
  for (const [name, addrs] of Object.entries(os.networkInterfaces())) {
    for (const a of addrs ?? []) if (!a.internal) out.push({ name, address: a.address, family: a.family, mac: a.mac, cidr: a.cidr });
  }
  return out;
}

export function systemRoutes(router: Router<ApiState>, deps: SystemRouteDeps): void {
  const { auth } = deps;
  const admin = auth.requireAdmin();

  router.get('/system', admin, (ctx) => {
    readQuery(ctx, z.strictObject({}));
    ctx.body = {
      version: deps.version,
      node: process.version,
      hostname: os.hostname(),
      uptimeS: Math.round(os.uptime()),
      processUptimeS: Math.round((deps.now() - deps.startedAt) / 1000),
      startedAt: deps.startedAt,
      network: networkInfo(),
      restorePending: fs.existsSync(path.join(deps.dataDir, PENDING_RESTORE)),
    };
  });

  router.get('/system/health', auth.required(), (ctx) => {
    readQuery(ctx, z.strictObject({}));
    const samples = deps.health();
    ctx.body = { latest: samples.at(-1) ?? null, samples };
  });

  router.get('/system/logs', admin, (ctx) => {
    const q = readQuery(ctx, z.strictObject({ lines: z.coerce.number().int().min(1).max(2000).default(200) }));
    ctx.body = { lines: deps.logTail(q.lines) };
  });

  router.get('/system/backup', admin, async (ctx) => {
    readQuery(ctx, z.strictObject({}));
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'relais-backup-'));
    const stamp = new Date(deps.now()).toISOString().slice(0, 16).replace(/[:T]/g, '-');
    const file = path.join(dir, `relais-backup-${stamp}.tar.gz`);
    try {
      await createBackup(deps.dataDir, file, { now: deps.now });
    } catch (err) {
      fs.rmSync(dir, { recursive: true, force: true });
      throw err;
    }
    const stream = fs.createReadStream(file);
    // The temporary archive goes once sent (or when the client goes away).
    stream.once('close', () => fs.rmSync(dir, { recursive: true, force: true }));
    ctx.set('Content-Type', 'application/gzip');
    ctx.set('Content-Disposition', `attachment; filename="${path.basename(file)}"`);
    ctx.set('Cache-Control', 'no-store');
    ctx.length = fs.statSync(file).size;
    ctx.body = stream;
    ctx.state.audit = { action: 'system.backup', resource: 'system' };
  });

  router.post('/system/restore', admin, async (ctx) => {
    readQuery(ctx, z.strictObject({}));
    if (!ctx.is('application/gzip', 'application/x-gzip', 'application/octet-stream')) {
      throw new RelaisError('api.content_type', 'send the backup file itself as the body (Content-Type: application/gzip)', { status: 415 });
    }
    const tmp = path.join(deps.dataDir, `.restore-upload-${randomBytes(4).toString('hex')}`);
    const stage = `${tmp}.d`;
    try {
      const bytes = await receiveRaw(ctx, tmp, { maxBytes: deps.maxRestoreBytes ?? MAX_RESTORE_BYTES, what: 'the backup upload' });
      if (bytes === 0) throw new RelaisError('backup.invalid', 'the upload is empty', { field: 'file' });
      fs.mkdirSync(stage);
      try {
        await tar.x({ file: tmp, cwd: stage, strict: true, preservePaths: false, filter: (_p, e) => ['File', 'Directory', 'OldFile', 'ContiguousFile'].includes((e as { type?: string }).type ?? '') });
      } catch (err) {
        throw new RelaisError('backup.invalid', `not a Relais backup, or damaged: ${errorMessage(err)}`, { field: 'file' });
      }
      let manifest;
      try {
        manifest = verifyExtracted(stage);
      } catch (err) {
        throw new RelaisError('backup.invalid', errorMessage(err), { field: 'file' });
      }
      fs.renameSync(tmp, path.join(deps.dataDir, PENDING_RESTORE));
      ctx.state.audit = { action: 'system.restore', resource: 'system', detail: { createdAt: manifest.createdAt, schema: manifest.schemaVersion } };
      ctx.status = 202;
      ctx.body = { restartRequired: true, backup: { createdAt: manifest.createdAt, schemaVersion: manifest.schemaVersion, files: Object.keys(manifest.files).length } };
    } finally {
      fs.rmSync(tmp, { force: true });
      fs.rmSync(stage, { recursive: true, force: true });
    }
  });

  router.delete('/system/restore', admin, (ctx) => {
    const file = path.join(deps.dataDir, PENDING_RESTORE);
    if (!fs.existsSync(file)) throw new RelaisError('restore.not_found', 'no restore is waiting', { status: 404 });
    fs.rmSync(file);
    ctx.status = 204;
  });
}
