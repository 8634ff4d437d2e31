// File uploads streamed to disk, never held whole in memory: multipart/form-data through busboy, or a raw body.
// Limits are checked while the bytes arrive (413 past the file limit, 400 for a bad form), and an upload that stalls
// is dropped after an idle timeout (408), so a slow client holds a socket and a temporary file, nothing else.
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import busboy from 'busboy';
import { RelaisError } from '../shared/index.js';
import type { ApiContext } from './auth.js';
import { formatBytes } from './body.js';

/** Headers, boundaries and small fields of a form: allowed on top of the file limit. */
const FORM_OVERHEAD = 64 * 1024;
const MAX_PARTS = 16;
const MAX_FIELD_BYTES = 4096;
/** Nothing received for this long: the upload is dropped (default). */
export const UPLOAD_IDLE_MS = 30_000;

export interface ReceivedFile {
  field: string;
  /** The client's file name, as sent (use path.basename before showing it). */
  filename: string;
  contentType: string;
  /** Where the bytes are (a temporary file: move it or remove it). */
  path: string;
  size: number;
}

export interface ReceivedForm {
  fields: Map<string, string>;
  file: ReceivedFile | undefined;
}

export interface MultipartLimits {
  /** The form field that carries the file. */
  fileField: string;
  /** The other fields allowed (anything else is 400 api.field_unknown naming it). */
  fields: readonly string[];
  maxFileBytes: number;
  /** Directory of the temporary file (on the data partition: a firmware image does not belong in a RAM /tmp). */
  tmpDir: string;
  idleMs?: number;
  /** How the error messages name the upload ("the upload", "the firmware upload"). */
  what?: string;
}

function tooLarge(limit: number, what: string): RelaisError {
  return new RelaisError('api.too_large', `${what} is larger than the ${formatBytes(limit)} limit`, { status: 413 });
}

function multipartError(message: string): RelaisError {
  return new RelaisError('api.multipart_invalid', `multipart/form-data: ${message}`);
}

function stalled(idleMs: number, what: string): RelaisError {
  return new RelaisError('api.upload_stalled', `${what} stalled: nothing arrived for ${Math.round(idleMs / 1000)} s`, { status: 408 });
}

/**
 * Closes a write stream and removes its file once closed (it may still be opening: removing first would race), then
 * calls `then` (the error is answered only when nothing is left on disk).
 */
function discard(out: fs.WriteStream | undefined, file: string, then: () => void): void {
  const remove = (): void => {
    fs.rmSync(file, { force: true });
    then();
  };
  if (!out || out.closed) return remove();
  out.once('close', remove);
  out.destroy();
}

function tempFile(dir: string): string {
  fs.mkdirSync(dir, { recursive: true });
  return path.join(dir, `.upload-${randomBytes(6).toString('hex')}`);
}

/**
 * Reads a multipart/form-data body (RFC 7578) as it arrives: the one file goes to a temporary file, the fields into a
 * map. Resolves once the whole body is in and the file is on disk. On any error the temporary file is removed, the
 * rest of the body is read and dropped (the client gets its answer rather than a reset) and a RelaisError says why.
 */
export function receiveMultipart(ctx: ApiContext, limits: MultipartLimits): Promise<ReceivedForm> {
  const what = limits.what ?? 'the upload';
  const idleMs = limits.idleMs ?? UPLOAD_IDLE_MS;
  const req = ctx.req;
  const declared = Number(ctx.get('content-length') || NaN);
  if (Number.isFinite(declared) && declared > limits.maxFileBytes + FORM_OVERHEAD) return Promise.reject(tooLarge(limits.maxFileBytes, what));
  let bb: busboy.Busboy;
  try {
    bb = busboy({
      headers: req.headers,
      // Browsers send file names as raw UTF-8 (RFC 7578 §4.2), not latin1.
      defParamCharset: 'utf8',
      limits: { fileSize: limits.maxFileBytes, files: 1, fields: MAX_PARTS, parts: MAX_PARTS, fieldSize: MAX_FIELD_BYTES, headerPairs: 20 },
    });
  } catch (err) {
    return Promise.reject(multipartError(err instanceof Error ? err.message.replace(/^Multipart: /, '') : String(err)));
  }
  return new Promise<ReceivedForm>((resolve, reject) => {
    const form: ReceivedForm = { fields: new Map(), file: undefined };
    let settled = false;
    let formDone = false;
    let fileDone = true;
    let tmp: string | undefined;
    let out: fs.WriteStream | undefined;
    let idle: NodeJS.Timeout | undefined;
    const cleanup = (): void => {
      clearTimeout(idle);
      req.removeListener('data', onData);
      req.removeListener('close', onClose);
    };
    const fail = (err: RelaisError): void => {
      if (settled) return;
      settled = true;
      cleanup();
      req.unpipe(bb);
      bb.removeAllListeners();
      bb.on('error', () => {});
      req.resume();
      if (tmp) discard(out, tmp, () => reject(err));
      else reject(err);
    };
    const finish = (): void => {
      if (settled || !formDone || !fileDone) return;
      settled = true;
      cleanup();
      resolve(form);
    };
    const arm = (): void => {
      clearTimeout(idle);
      idle = setTimeout(() => fail(stalled(idleMs, what)), idleMs);
    };
    const onData = (): void => arm();
    // A client gone mid-upload may give no 'end': the form would wait for ever.
    const onClose = (): void => {
      if (!formDone && !req.complete) fail(new RelaisError('api.body_aborted', `${what} was cut off`, { status: 400 }));
    };
    bb.on('file', (name, stream, info) => {
      // A body cut off inside the file errors the file stream as well as the form: the form's error answers it, and
      // an 'error' without a listener would end the process.
      stream.on('error', () => {});
      if (name !== limits.fileField) {
        stream.resume();
        return fail(new RelaisError('api.field_unknown', `unknown form field "${name}"; the file goes in "${limits.fileField}"`, { field: name }));
      }
      fileDone = false;
      tmp = tempFile(limits.tmpDir);
      const file: ReceivedFile = { field: name, filename: info.filename ?? '', contentType: info.mimeType || 'application/octet-stream', path: tmp, size: 0 };
      form.file = file;
      out = fs.createWriteStream(tmp, { mode: 0o600 });
      stream.on('data', (chunk: Buffer) => (file.size += chunk.length));
      stream.once('limit', () => fail(tooLarge(limits.maxFileBytes, `"${path.basename(file.filename.replace(/\\/g, '/')) || 'the file'}"`)));
      out.once('error', (err: Error) => fail(new RelaisError('api.upload_failed', `${what} could not be stored: ${err.message}`, { status: 500 })));
      out.once('finish', () => {
        fileDone = true;
        finish();
      });
      stream.pipe(out);
    });
    bb.on('field', (name, value, info) => {
      if (!limits.fields.includes(name)) {
        return fail(new RelaisError('api.field_unknown', `unknown form field "${name}"; expected ${[limits.fileField, ...limits.fields].join(', ')}`, { field: name }));
      }
      if (info.valueTruncated) return fail(multipartError(`field "${name}" is longer than ${MAX_FIELD_BYTES} bytes`));
      if (form.fields.has(name)) return fail(new RelaisError('api.field_repeated', `field "${name}" is given more than once`, { field: name }));
      form.fields.set(name, value);
    });
    bb.on('filesLimit', () => fail(new RelaisError('api.field_repeated', `send exactly one file (form field "${limits.fileField}")`, { field: limits.fileField })));
    bb.on('partsLimit', () => fail(multipartError(`more than ${MAX_PARTS} parts`)));
    bb.on('error', (err: unknown) => fail(multipartError(err instanceof Error ? err.message.replace(/^Multipart: /, '') : String(err))));
    bb.on('close', () => {
      formDone = true;
      finish();
    });
    req.on('data', onData);
    req.once('close', onClose);
    arm();
    req.pipe(bb);
  });
}

/**
 * A raw request body into `file`, at most `maxBytes` (413 past it), dropped after `idleMs` without a byte (408).
 * The partial file is removed on any failure. Resolves the size.
 */
export function receiveRaw(ctx: ApiContext, file: string, opts: { maxBytes: number; idleMs?: number; what?: string }): Promise<number> {
  const what = opts.what ?? 'the upload';
  const idleMs = opts.idleMs ?? UPLOAD_IDLE_MS;
  const req = ctx.req;
  const declared = Number(ctx.get('content-length') || NaN);
  if (Number.isFinite(declared) && declared > opts.maxBytes) return Promise.reject(tooLarge(opts.maxBytes, what));
  fs.mkdirSync(path.dirname(file), { recursive: true });
  return new Promise<number>((resolve, reject) => {
    const out = fs.createWriteStream(file, { mode: 0o600 });
    let size = 0;
    let settled = false;
    let idle: NodeJS.Timeout | undefined;
    const done = (err: RelaisError | undefined): void => {
      if (settled) return;
      settled = true;
      clearTimeout(idle);
      req.removeListener('data', onData);
      req.removeListener('end', onEnd);
      req.removeListener('close', onClose);
      if (err) {
        req.resume();
        discard(out, file, () => reject(err));
      } else out.end(() => resolve(size));
    };
    const arm = (): void => {
      clearTimeout(idle);
      idle = setTimeout(() => done(stalled(idleMs, what)), idleMs);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > opts.maxBytes) return done(tooLarge(opts.maxBytes, what));
      arm();
      // Back-pressure: a slow disk pauses the socket rather than filling memory.
      if (!out.write(chunk)) {
        req.pause();
        out.once('drain', () => req.resume());
      }
    };
    const onEnd = (): void => done(undefined);
    const onClose = (): void => {
      if (!req.complete) done(new RelaisError('api.body_aborted', `${what} was cut off`, { status: 400 }));
    };
    out.once('error', (err) => done(new RelaisError('api.upload_failed', `${what} could not be stored: ${err.message}`, { status: 500 })));
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('close', onClose);
    arm();
  });
}
