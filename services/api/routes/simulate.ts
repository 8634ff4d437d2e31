// POST /api/simulate: a pretend call to a number through the live interpreter (same fields as `relais simulate`).
import type Router from '@koa/router';
import { RelaisError } from '../../shared/index.js';
import type { ScenarioModule } from '../../scenario/index.js';
import type { ApiState, Authenticator } from '../auth.js';
import { readJsonObject, type JsonObject } from '../body.js';

/** A list given as ["1","2"] or "1,2"; each item a short string. */
function list(body: JsonObject, field: string, item: RegExp, hint: string): string[] | undefined {
  const v = body[field];
  if (v === undefined) return undefined;
  const raw = typeof v === 'string' ? (v === '' ? [] : v.split(',')) : Array.isArray(v) ? v : undefined;
  if (!raw) throw new RelaisError('api.field_type', `field "${field}" must be a list of strings or a comma-separated string`, { field });
  return raw.map((x, i) => {
    if (typeof x !== 'string' || !item.test(x.trim())) throw new RelaisError('api.field_invalid', `${field}[${i}]: ${hint}`, { field });
    return x.trim();
  });
}

function str(body: JsonObject, field: string, max: number): string | undefined {
  const v = body[field];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v.length === 0 || v.length > max) throw new RelaisError('api.field_type', `field "${field}" must be a non-empty string of at most ${max} characters`, { field });
  return v;
}

export function simulateRoutes(router: Router<ApiState>, auth: Authenticator, scenarios: ScenarioModule): void {
  router.post('/simulate', auth.requireRight('scenarios'), async (ctx) => {
    const body = await readJsonObject(ctx);
    const allowed = ['number', 'from', 'at', 'digits', 'online', 'no_answer'];
    for (const k of Object.keys(body)) if (!allowed.includes(k)) throw new RelaisError('api.field_unknown', `unknown field "${k}"; expected ${allowed.join(', ')}`, { field: k });
    const number = str(body, 'number', 32);
    if (number === undefined) throw new RelaisError('api.field_missing', 'field "number" is required', { field: 'number' });
    const noAnswer = body.no_answer;
    if (noAnswer !== undefined && typeof noAnswer !== 'boolean') throw new RelaisError('api.field_type', 'field "no_answer" must be a boolean', { field: 'no_answer' });
    ctx.body = await scenarios.simulate({
      number,
      from: str(body, 'from', 64),
      at: str(body, 'at', 40),
      digits: list(body, 'digits', /^[0-9*#]{1,32}$/, 'keys are 1-32 of 0-9 * #'),
      online: list(body, 'online', /^[^\s,]{1,64}$/, 'a username'),
      noAnswer: noAnswer === true,
    });
  });
}
