// Request input, read strictly: bounded bodies, JSON objects with known fields, query parameters, multipart/form-data.
import type { IncomingMessage } from 'node:http';
import { RelaisError } from '../shared/index.js';
import type { ApiContext } from './auth.js';

export const JSON_LIMIT = 64 * 1024;

function tooLarge(limit: number, what: string): RelaisError {
  return new RelaisError('api.too_large', `${what} is larger than the ${formatBytes(limit)} limit`, { status: 413 });
}

export function formatBytes(n: number): string {
  return n >= 1048576 ? `${Math.round(n / 1048576)} MB` : n >= 1024 ? `${Math.round(n / 1024)} KB` : `${n} bytes`;
}

/**
 * The whole body, at most `limit` bytes. Past the limit the rest is read and dropped (not kept in memory) and the
 * connection is closed after the 413, so a client still sending gets its answer instead of a reset mid-upload.
 */
export function readBody(ctx: ApiContext, limit: number, what = 'the request body'): Promise<Buffer> {
  const req: IncomingMessage = ctx.req;
  const declared = Number(ctx.get('content-length') || NaN);
  return new Promise((resolve, reject) => {
    const fail = (err: RelaisError): void => {
      req.removeListener('data', onData);
      req.removeListener('end', onEnd);
      req.removeListener('error', onError);
      req.removeListener('close', onClose);
      req.resume();
      reject(err);
    };
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) return fail(tooLarge(limit, what));
      chunks.push(chunk);
    };
    let ended = false;
    const onEnd = (): void => {
      ended = true;
      resolve(Buffer.concat(chunks, size));
    };
    const onError = (): void => fail(new RelaisError('api.body_aborted', 'the request body was cut off', { status: 400 }));
    // A client that goes away mid-upload may give neither 'end' nor 'error': without this the upload would hold its
    // memory and its conversion slot for ever.
    const onClose = (): void => {
      if (!ended) onError();
    };
    if (Number.isFinite(declared) && declared > limit) return fail(tooLarge(limit, what));
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('error', onError);
    req.once('close', onClose);
  });
}

export type JsonObject = Record<string, unknown>;

/** The body as a JSON object (Content-Type application/json, at most JSON_LIMIT). */
export async function readJsonObject(ctx: ApiContext): Promise<JsonObject> {
  if (!ctx.is('application/json')) {
    throw new RelaisError('api.content_type', 'send the body as JSON with "Content-Type: application/json"', { status: 415 });
  }
  const raw = await readBody(ctx, JSON_LIMIT);
  if (raw.length === 0) throw new RelaisError('api.body_missing', 'the request needs a JSON object body');
  let v: unknown;
  try {
    v = JSON.parse(raw.toString('utf8'));
  } catch (err) {
    throw new RelaisError('api.json_invalid', `the body is not valid JSON: ${(err as Error).message}`);
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new RelaisError('api.json_invalid', 'the body must be a JSON object');
  return v as JsonObject;
}

type FieldType = 'string' | 'boolean' | 'number';
type Spec = Record<string, { type: FieldType; required?: boolean; maxLength?: number }>;
type Typed<S extends Spec> = { [K in keyof S]?: S[K]['type'] extends 'string' ? string : S[K]['type'] extends 'boolean' ? boolean : number };

/** Checks a JSON object against a field list (older routes; new ones use zod schemas through validate.ts): unknown fields, missing ones and wrong types are 400s naming the field. */
export function fields<S extends Spec>(body: JsonObject, spec: S): Typed<S> {
  for (const k of Object.keys(body)) {
    if (!Object.hasOwn(spec, k)) throw new RelaisError('api.field_unknown', `unknown field "${k}"; expected ${Object.keys(spec).join(', ')}`, { field: k });
  }
  for (const [k, s] of Object.entries(spec)) {
    const v = body[k];
    if (v === undefined) {
      if (s.required) throw new RelaisError('api.field_missing', `field "${k}" is required`, { field: k });
      continue;
    }
    if (typeof v !== s.type || (s.type === 'number' && !Number.isFinite(v))) {
      throw new RelaisError('api.field_type', `field "${k}" must be a ${s.type}`, { field: k });
    }
    if (s.maxLength !== undefined && typeof v === 'string' && v.length > s.maxLength) {
      throw new RelaisError('api.field_too_long', `field "${k}" is longer than ${s.maxLength} characters`, { field: k });
    }
  }
  return body as Typed<S>;
}

/** Query parameters: unknown ones and repeated ones are 400s naming the parameter. */
export function queryParams(ctx: ApiContext, allowed: readonly string[]): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(ctx.query)) {
    if (!allowed.includes(k)) {
      throw new RelaisError('api.param_unknown', `unknown query parameter "${k}"${allowed.length ? `; expected ${allowed.join(', ')}` : ''}`, { field: k });
    }
    if (Array.isArray(v)) throw new RelaisError('api.param_repeated', `query parameter "${k}" is given more than once`, { field: k });
    out[k] = v;
  }
  return out;
}

/** A whole number within bounds, or undefined when absent. */
export function intParam(value: string | undefined, name: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,15}$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new RelaisError('api.param_invalid', `query parameter "${name}" must be a whole number from ${min} to ${max}`, { field: name });
  }
  return Number(value);
}

export function boolParam(value: string | undefined, name: string): boolean | undefined {
  if (value === undefined) return undefined;
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw new RelaisError('api.param_invalid', `query parameter "${name}" must be true or false`, { field: name });
}

/** A numeric id from the path (never a file name: files are found from ids through the database). */
export function idParam(value: string | undefined, what: string): number {
  if (value === undefined || !/^[1-9]\d{0,14}$/.test(value)) throw new RelaisError('api.id_invalid', `${what} id "${String(value)}" must be a positive whole number`, { field: 'id' });
  return Number(value);
}

export interface MultipartFile {
  field: string;
  filename: string;
  contentType: string;
  data: Buffer;
}

export interface MultipartForm {
  fields: Map<string, string>;
  files: MultipartFile[];
}

const MAX_PARTS = 16;
const MAX_FIELD_BYTES = 4096;
const MAX_HEADER_BYTES = 4096;

function multipartError(message: string): RelaisError {
  return new RelaisError('api.multipart_invalid', `multipart/form-data: ${message}`);
}

/** The value of a `key=value` or `key="value"` parameter of a header (RFC 7578 §4.2; no RFC 2231 encodings). */
function headerParam(header: string, key: string): string | undefined {
  const re = new RegExp(`;\\s*${key}\\s*=\\s*(?:"((?:[^"\\\\]|\\\\.)*)"|([^;\\s]+))`, 'i');
  const m = re.exec(header);
  if (!m) return undefined;
  return m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2];
}

/**
 * RFC 7578 / RFC 2046 §5.1.1 multipart body, strictly: a boundary parameter, CRLF line ends, a Content-Disposition
 * form-data header with a name on every part, a closing delimiter. Parts are slices of the body (no copies).
 */
export function parseMultipart(body: Buffer, contentType: string): MultipartForm {
  const boundary = headerParam(contentType, 'boundary');
  if (!boundary || boundary.length > 70) throw multipartError('the Content-Type needs a boundary parameter (1-70 characters)');
  const delimiter = Buffer.from(`--${boundary}`, 'latin1');
  const form: MultipartForm = { fields: new Map(), files: [] };
  // RFC 2046: the first delimiter may follow a preamble; later ones are preceded by CRLF.
  let pos = body.indexOf(delimiter);
  if (pos < 0) throw multipartError(`no part starts with the boundary "${boundary}"`);
  const next = Buffer.from(`\r\n--${boundary}`, 'latin1');
  for (let parts = 0; ; parts++) {
    pos += delimiter.length;
    if (body.toString('latin1', pos, pos + 2) === '--') return form;
    if (parts >= MAX_PARTS) throw multipartError(`more than ${MAX_PARTS} parts`);
    if (body.toString('latin1', pos, pos + 2) !== '\r\n') throw multipartError('a boundary line must end with CRLF');
    pos += 2;
    const headerEnd = body.indexOf('\r\n\r\n', pos, 'latin1');
    if (headerEnd < 0 || headerEnd - pos > MAX_HEADER_BYTES) throw multipartError('a part has no end to its headers');
    const headers = new Map<string, string>();
    for (const line of body.toString('utf8', pos, headerEnd).split('\r\n')) {
      if (line === '') continue;
      const colon = line.indexOf(':');
      if (colon <= 0) throw multipartError(`bad part header line "${line.slice(0, 80)}"`);
      headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
    }
    const dataStart = headerEnd + 4;
    const end = body.indexOf(next, dataStart);
    if (end < 0) throw multipartError('the body ends before the closing boundary (truncated upload?)');
    const disposition = headers.get('content-disposition') ?? '';
    if (!/^form-data\b/i.test(disposition)) throw multipartError('every part needs "Content-Disposition: form-data"');
    const name = headerParam(disposition, 'name');
    if (!name) throw multipartError('a part has no name');
    const filename = headerParam(disposition, 'filename');
    const data = body.subarray(dataStart, end);
    if (filename !== undefined) {
      form.files.push({ field: name, filename, contentType: headers.get('content-type') ?? 'application/octet-stream', data });
    } else {
      if (data.length > MAX_FIELD_BYTES) throw multipartError(`field "${name}" is longer than ${MAX_FIELD_BYTES} bytes`);
      if (form.fields.has(name)) throw new RelaisError('api.field_repeated', `field "${name}" is given more than once`, { field: name });
      form.fields.set(name, data.toString('utf8'));
    }
    pos = end + 2; // at the "--boundary" of the next delimiter
  }
}
