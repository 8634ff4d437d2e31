// Request input, read strictly: bounded bodies, JSON objects with known fields, query parameters (file uploads: upload.ts).
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
