// API input checked by zod schemas: one place turns a schema failure into the API's error JSON naming the field.
import { z } from 'zod';
import { RelaisError } from '../shared/index.js';
import type { ApiContext } from './auth.js';
import { readJsonObject } from './body.js';

/** "a.b.0.c" for the path of a nested field (what the error's `field` names). */
function fieldPath(path: readonly PropertyKey[]): string {
  return path.map((p) => String(p)).join('.');
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let v = input;
  for (const p of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[p];
  }
  return v;
}

/** The first zod issue as a RelaisError with the codes the API documents (api.field_unknown, _missing, _type, _too_long, _invalid). */
export function schemaError(error: z.ZodError, input: unknown, what: 'field' | 'query parameter' = 'field'): RelaisError {
  const issue = error.issues[0];
  if (!issue) return new RelaisError('api.field_invalid', `the ${what}s are not valid`);
  const prefix = what === 'field' ? 'api.field' : 'api.param';
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0] ?? '';
    const field = fieldPath([...issue.path, key]);
    return new RelaisError(`${prefix}_unknown`, `unknown ${what} "${field}"`, { field });
  }
  const field = fieldPath(issue.path);
  const name = field === '' ? `the ${what === 'field' ? 'body' : 'query'}` : `${what} "${field}"`;
  if (issue.code === 'invalid_type') {
    if (valueAt(input, issue.path) === undefined) return new RelaisError(`${prefix}_missing`, `${name} is required`, { field });
    return new RelaisError(what === 'field' ? 'api.field_type' : 'api.param_invalid', `${name} must be ${article(issue.expected)}`, { field });
  }
  if (issue.code === 'too_big' && issue.origin === 'string') {
    return new RelaisError(what === 'field' ? 'api.field_too_long' : 'api.param_invalid', `${name} is longer than ${String(issue.maximum)} characters`, { field });
  }
  return new RelaisError(`${prefix}_invalid`, `${name}: ${issue.message}`, { field });
}

function article(expected: string): string {
  if (expected === 'int') return 'a whole number';
  return /^[aeiou]/.test(expected) ? `an ${expected}` : `a ${expected}`;
}

/** Checks a value against a schema; the parsed (typed) value, or a 400 naming the field. */
export function parse<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const r = schema.safeParse(input);
  if (!r.success) throw schemaError(r.error, input);
  return r.data;
}

/** The JSON body checked against a schema (415 unless JSON, 413 over the limit, 400 naming the field). */
export async function readInput<S extends z.ZodType>(ctx: ApiContext, schema: S): Promise<z.output<S>> {
  const value = parse(schema, await readJsonObject(ctx));
  // What the change was, for the audit log (secrets are masked when it is written).
  ctx.state.audit = { detail: value as Record<string, unknown>, ...ctx.state.audit };
  return value;
}

/** Query parameters checked against a schema of strings (use z.coerce for numbers); repeated ones are refused. */
export function readQuery<S extends z.ZodType>(ctx: ApiContext, schema: S): z.output<S> {
  const q: Record<string, string> = {};
  for (const [k, v] of Object.entries(ctx.query)) {
    if (Array.isArray(v)) throw new RelaisError('api.param_repeated', `query parameter "${k}" is given more than once`, { field: k });
    if (v !== undefined) q[k] = v;
  }
  const r = schema.safeParse(q);
  if (!r.success) throw schemaError(r.error, q, 'query parameter');
  return r.data;
}

/** Shared pieces of request schemas. */
export const schemas = {
  /** A page of a growing list: `?limit=&before=<id>` (newest first). */
  page: (maxLimit = 500, defaultLimit = 100) =>
    z.strictObject({
      limit: z.coerce.number().int().min(1).max(maxLimit).default(defaultLimit),
      before: z.coerce.number().int().min(1).optional(),
    }),
  language: z.enum(['fr', 'en', 'es']),
  password: z.string().min(8, 'must be at least 8 characters').max(1024),
};
