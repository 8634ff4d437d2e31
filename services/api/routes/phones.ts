// /api/phones: the phone inventory (seen, assigned, status), assignment, device credentials, generated config,
// check-sync, provisioning settings and the phone firmware cache (right "phones"; the config file: administrators).
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type Router from '@koa/router';
import { z } from 'zod';
import { PHONE_VENDORS } from '../../directory/index.js';
import type { ProvisioningModule, ProvisioningService } from '../../provisioning/index.js';
import { RelaisError } from '../../shared/index.js';
import type { ApiContext, ApiState, Authenticator } from '../auth.js';
import { queryParams } from '../body.js';
import { receiveMultipart, receiveRaw } from '../upload.js';
import { readInput, readQuery } from '../validate.js';

const settingsSchema = z
  .strictObject({
    pnp: z.boolean(),
    autoAssign: z.boolean(),
    overrideCode: z.string().max(16),
    ntpServer: z.string().max(253),
    blfExtensions: z.boolean(),
    requireCredentials: z.boolean(),
    tls: z.boolean(),
  })
  .partial();

const assignSchema = z.strictObject({
  extension: z.string().max(8).nullable(),
  vendor: z.enum(PHONE_VENDORS).optional(),
  model: z.string().max(40).optional(),
  label: z.string().max(100).optional(),
});

const fetchesQuery = z.strictObject({
  mac: z.string().optional(),
  limit: z.coerce.number().int().min(1).max(2000).default(100),
});

export interface PhoneRouteDeps {
  auth: Authenticator;
  service: ProvisioningService;
  module: ProvisioningModule;
  /** Largest phone firmware upload (default 256 MB). */
  maxFirmwareBytes?: number;
}

function macParam(ctx: ApiContext, service: ProvisioningService): string {
  return service.requireMac(ctx.params['mac'] ?? '');
}

export function phoneRoutes(router: Router<ApiState>, deps: PhoneRouteDeps): void {
  const { service } = deps;
  const phones = deps.auth.requireRight('phones');
  const admin = deps.auth.requireAdmin();
  const maxFirmware = deps.maxFirmwareBytes ?? 256 * 1024 * 1024;

  router.get('/phones', phones, (ctx) => {
    queryParams(ctx, []);
    ctx.body = { phones: service.list(), settings: service.settings(), urls: { bootstrap: service.bootstrapUrl(ctx.hostname), provisioning: service.provisioningUrl(ctx.hostname) } };
  });

  router.get('/phones/settings', phones, (ctx) => {
    queryParams(ctx, []);
    ctx.body = service.settings();
  });

  router.put('/phones/settings', phones, async (ctx) => {
    const body = await readInput(ctx, settingsSchema);
    const patch = { ...body, ...(body.overrideCode === '' ? { overrideCode: null } : {}) };
    ctx.body = service.updateSettings(patch);
    await deps.module.pnp.applySettings();
  });

  router.get('/phones/fetches', phones, (ctx) => {
    const q = readQuery(ctx, fetchesQuery);
    const mac = q.mac === undefined ? undefined : service.requireMac(q.mac);
    ctx.body = { fetches: service.inventory.fetches(mac, q.limit) };
  });

  // ---- firmware cache: one file per model

  router.get('/phones/firmware', phones, (ctx) => {
    queryParams(ctx, []);
    ctx.body = { firmware: service.inventory.firmwareList().map((f) => ({ ...f, url: `${service.bootstrapUrl(ctx.hostname)}${f.fileName}` })) };
  });

  router.put('/phones/firmware/:model', phones, async (ctx) => {
    const model = ctx.params['model'] ?? '';
    const type = ctx.get('content-type');
    let vendor: string | undefined;
    let file: string;
    let fileName = '';
    // Streamed to a temporary file next to the firmware store (moved in when valid): never held in memory.
    const tmpDir = service.firmwareDir;
    if (/^multipart\/form-data\b/i.test(type)) {
      queryParams(ctx, []);
      const form = await receiveMultipart(ctx, { fileField: 'file', fields: ['vendor'], maxFileBytes: maxFirmware, tmpDir, what: 'the firmware upload' });
      if (!form.file) throw new RelaisError('api.field_missing', 'send exactly one file (form field "file")', { field: 'file' });
      vendor = form.fields.get('vendor');
      file = form.file.path;
      fileName = form.file.filename;
    } else {
      const q = queryParams(ctx, ['vendor', 'filename']);
      vendor = q['vendor'];
      fileName = q['filename'] ?? '';
      file = path.join(tmpDir, `.upload-${randomBytes(6).toString('hex')}`);
      await receiveRaw(ctx, file, { maxBytes: maxFirmware, what: 'the firmware upload' });
    }
    try {
      if (!vendor) throw new RelaisError('api.field_missing', 'give the vendor (query ?vendor= or form field "vendor")', { field: 'vendor' });
      const rec = service.putFirmware({ vendor, model, fileName, file });
      ctx.status = 201;
      ctx.body = { ...rec, url: `${service.bootstrapUrl(ctx.hostname)}${rec.fileName}` };
    } finally {
      fs.rmSync(file, { force: true });
    }
  });

  router.delete('/phones/firmware/:model', phones, (ctx) => {
    queryParams(ctx, []);
    service.deleteFirmware(ctx.params['model'] ?? '');
    ctx.status = 204;
  });

  // ---- one phone

  router.get('/phones/:mac', phones, (ctx) => {
    queryParams(ctx, []);
    const mac = macParam(ctx, service);
    const entry = service.get(mac);
    ctx.body = entry.known ? { ...entry, device: { ...service.deviceCredentials(mac), url: `http://${ctx.host}/provisioning/auth/` } } : entry;
  });

  router.put('/phones/:mac', phones, async (ctx) => {
    const mac = macParam(ctx, service);
    const body = await readInput(ctx, assignSchema);
    ctx.body = service.assign(mac, { extension: body.extension, vendor: body.vendor, model: body.model, label: body.label });
  });

  router.post('/phones/:mac/assign-next', phones, (ctx) => {
    queryParams(ctx, []);
    const mac = macParam(ctx, service);
    const ext = service.nextFreeExtension();
    if (!ext) throw new RelaisError('phone.no_free_extension', 'every extension already has a phone: create an extension first', { status: 409 });
    ctx.body = service.assign(mac, { extension: ext.number });
  });

  router.delete('/phones/:mac', phones, (ctx) => {
    queryParams(ctx, []);
    service.remove(macParam(ctx, service));
    ctx.status = 204;
  });

  router.get('/phones/:mac/config', admin, (ctx) => {
    queryParams(ctx, []);
    const c = service.configFor(macParam(ctx, service));
    ctx.set('Content-Disposition', `attachment; filename="${c.file}"`);
    ctx.set('Cache-Control', 'no-store');
    ctx.type = c.contentType;
    ctx.body = c.body;
  });

  router.post('/phones/:mac/check-sync', phones, async (ctx) => {
    const q = readQuery(ctx, z.strictObject({ reboot: z.enum(['true', 'false', '1', '0']).optional() }));
    const mac = macParam(ctx, service);
    ctx.body = await deps.module.checkSync(mac, q.reboot === 'true' || q.reboot === '1');
  });
}
