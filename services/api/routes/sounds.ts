// /api/sounds: the sound library: list, upload (multipart or raw body) converted by SoundLibrary, download, delete.
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type Router from '@koa/router';
import { SOUND_KINDS, type Sound, type SoundKind, type SoundRepository } from '../../directory/index.js';
import type { SoundLibrary } from '../../media/sounds/index.js';
import { RelaisError } from '../../shared/index.js';
import type { ApiContext, ApiState, Authenticator } from '../auth.js';
import { boolParam, queryParams } from '../body.js';
import { receiveMultipart, receiveRaw } from '../upload.js';
import { sendWav } from '../files.js';

export interface SoundRouteDeps {
  auth: Authenticator;
  library: SoundLibrary;
  /** Largest upload (default 20 MB). */
  maxUploadBytes?: number;
  /** Uploads converted at once (ffmpeg costs CPU on a Pi); more get 503. A slot is taken once the body has arrived. */
  maxConcurrentUploads?: number;
}

/** docs/product.md §7: uploading hold music shows the office its responsibility. */
export const MOH_NOTICE =
  'Music on hold is played to callers in public: the office is responsible for its lawful use and for paying any royalties due (e.g. to the collecting society for the music).';

export function publicSound(s: Sound): Record<string, unknown> {
  return { id: s.id, name: s.name, kind: s.kind, language: s.language, durationMs: s.durationMs, createdAt: s.createdAt, audio: `/api/sounds/${encodeURIComponent(s.name)}/audio` };
}

function kindOf(value: string | undefined): SoundKind {
  if (value === undefined || value === '') return 'prompt';
  if (!(SOUND_KINDS as readonly string[]).includes(value)) throw new RelaisError('sound.kind_invalid', `kind "${value}" is not one of ${SOUND_KINDS.join(', ')}`, { field: 'kind' });
  return value as SoundKind;
}

const LANGUAGE_RE = /^[a-z]{2}(-[A-Z]{2})?$/;

function languageOf(value: string | undefined): string | null {
  if (value === undefined || value === '') return null;
  if (!LANGUAGE_RE.test(value)) throw new RelaisError('sound.language_invalid', `language "${value}" must be a code like "fr" or "en-GB"`, { field: 'language' });
  return value;
}

interface Upload {
  /** The uploaded bytes, in a temporary file (removed by the caller). */
  file: string;
  name: string | undefined;
  kind: string | undefined;
  language: string | undefined;
  originalName: string;
}

/** The upload, streamed to a temporary file in `tmpDir` (multipart/form-data with field "file", or a raw audio body). */
async function receiveUpload(ctx: ApiContext, maxBytes: number, tmpDir: string, q: Record<string, string | undefined>): Promise<Upload> {
  const type = ctx.get('content-type');
  if (/^multipart\/form-data\b/i.test(type)) {
    for (const k of ['name', 'kind', 'language'] as const) {
      if (q[k] !== undefined) throw new RelaisError('api.param_unknown', `with multipart/form-data, send "${k}" as a form field, not in the query`, { field: k });
    }
    const form = await receiveMultipart(ctx, { fileField: 'file', fields: ['name', 'kind', 'language'], maxFileBytes: maxBytes, tmpDir });
    const file = form.file;
    if (!file) throw new RelaisError('api.field_missing', 'send exactly one file, in a form field named "file"', { field: 'file' });
    const base = path.basename(file.filename.replace(/\\/g, '/'));
    return {
      file: file.path,
      // Without a name, the file's own name (without extension) names the sound.
      name: form.fields.get('name') ?? (base.replace(/\.[A-Za-z0-9]{1,5}$/, '') || undefined),
      kind: form.fields.get('kind'),
      language: form.fields.get('language'),
      originalName: base || 'upload',
    };
  }
  if (/^(audio\/|application\/octet-stream\b)/i.test(type)) {
    if (q.name === undefined) throw new RelaisError('api.field_missing', 'a raw upload needs ?name=<sound name>', { field: 'name' });
    const file = path.join(tmpDir, `.upload-${randomBytes(6).toString('hex')}`);
    await receiveRaw(ctx, file, { maxBytes });
    return { file, name: q.name, kind: q.kind, language: q.language, originalName: q.name };
  }
  throw new RelaisError('api.content_type', 'upload a sound as multipart/form-data (field "file") or as a raw audio body (Content-Type audio/mpeg, audio/wav or application/octet-stream) with ?name=', {
    status: 415,
  });
}

export function soundRoutes(router: Router<ApiState>, deps: SoundRouteDeps): void {
  const { auth, library } = deps;
  const repo: SoundRepository = library.repo;
  const maxBytes = deps.maxUploadBytes ?? 20 * 1024 * 1024;
  const maxConcurrent = deps.maxConcurrentUploads ?? 2;
  const sounds = auth.requireRight('sounds');
  /** Names being imported now: a second upload of the same name is a clash, not a race. */
  const importing = new Set<string>();
  let running = 0;
  /** Uploads land here before conversion (the library's own work directory, on the data partition). */
  const tmpDir = path.join(library.dir, '.tmp');

  const find = (name: string | undefined): Sound => {
    const s = name === undefined ? undefined : repo.findByName(name);
    if (!s) throw new RelaisError('sound.not_found', `sound "${String(name)}" does not exist`, { status: 404 });
    return s;
  };

  router.get('/sounds', sounds, (ctx) => {
    const q = queryParams(ctx, ['kind']);
    const kind = q.kind === undefined ? undefined : kindOf(q.kind);
    ctx.body = { sounds: library.list().filter((s) => kind === undefined || s.kind === kind).map(publicSound) };
  });

  router.get('/sounds/:name', sounds, (ctx) => {
    queryParams(ctx, []);
    const s = find(ctx.params.name);
    ctx.body = { sound: publicSound(s), usedBy: repo.usedBy(s) };
  });

  router.get('/sounds/:name/audio', sounds, async (ctx) => {
    queryParams(ctx, []);
    const s = find(ctx.params.name);
    await sendWav(ctx, library.path(s.name), library.dir, `${s.name}.wav`, 'sound');
  });

  router.post('/sounds', sounds, async (ctx) => {
    const q = queryParams(ctx, ['name', 'kind', 'language', 'replace']);
    const replace = boolParam(q.replace, 'replace') ?? false;
    // The body is received first (streamed to disk, with an idle timeout): a slow upload holds no conversion slot.
    const up = await receiveUpload(ctx, maxBytes, tmpDir, q);
    try {
      if (up.name === undefined || up.name.trim() === '') throw new RelaisError('api.field_missing', 'the sound needs a name', { field: 'name' });
      const name = up.name;
      const kind = kindOf(up.kind);
      const language = languageOf(up.language);
      if (importing.has(name) || (!replace && repo.findByName(name))) {
        throw new RelaisError('sound.exists', `sound "${name}" already exists; delete it first or upload with ?replace=true`, { status: 409, field: 'name' });
      }
      if (running >= maxConcurrent) {
        ctx.set('Retry-After', '5');
        throw new RelaisError('sound.busy', `${running} uploads are being converted; try again in a few seconds`, { status: 503 });
      }
      running++;
      importing.add(name);
      try {
        // SoundLibrary checks the audio (sniffing, ffmpeg) and stores nothing when it is not usable: 400 sound.invalid.
        const sound = await library.import(up.file, name, kind, { originalName: up.originalName, language });
        ctx.status = 201;
        ctx.body = kind === 'moh' ? { sound: publicSound(sound), notice: MOH_NOTICE } : { sound: publicSound(sound) };
      } finally {
        importing.delete(name);
        running--;
      }
    } finally {
      fs.rmSync(up.file, { force: true });
    }
  });

  router.delete('/sounds/:name', sounds, (ctx) => {
    queryParams(ctx, []);
    const s = find(ctx.params.name);
    const uses = repo.usedBy(s);
    if (uses.length > 0) throw new RelaisError('sound.in_use', `sound "${s.name}" is still used by ${uses.join(', ')}; change those first`, { status: 409 });
    library.remove(s.name);
    ctx.status = 204;
  });
}
