// /api/scenarios, /api/numbers, /api/holidays, /api/override, /api/services: the scenario module's configuration,
// in the site file's form and checked by its rules (services/scenario/config); changes apply to the next call.
import type Router from '@koa/router';
import { RelaisError } from '../../shared/index.js';
import type { Scenario, ScenarioVersion, UserRepository } from '../../directory/index.js';
import { OVERRIDE_MODES, type OverrideMode, type SiteCalendar } from '../../scenario/calendar/index.js';
import { parseBehaviourSpec } from '../../scenario/behaviours/index.js';
import type { SiteEditor } from '../../scenario/config/index.js';
import type { ApiContext, ApiState, Authenticator } from '../auth.js';
import { idParam, intParam, queryParams, readJsonObject, type JsonObject } from '../body.js';

export interface ScenarioConfigDeps {
  editor: SiteEditor;
  calendar: SiteCalendar;
  users: UserRepository;
}

/** Unknown fields are refused naming the first one (bodies are strict, docs/api.md). */
export function onlyFields(body: JsonObject, known: readonly string[], required: readonly string[] = []): void {
  for (const k of Object.keys(body)) {
    if (!known.includes(k)) throw new RelaisError('api.field_unknown', `unknown field "${k}"; expected ${known.join(', ')}`, { field: k });
  }
  for (const k of required) if (body[k] === undefined) throw new RelaisError('api.field_missing', `field "${k}" is required`, { field: k });
}

function userId(ctx: ApiContext): number | null {
  return ctx.state.user?.id ?? null;
}

export function scenarioConfigRoutes(router: Router<ApiState>, auth: Authenticator, deps: ScenarioConfigDeps): void {
  const { editor, calendar } = deps;
  const scenarios = auth.requireRight('scenarios');
  const numbers = auth.requireRight('numbers');
  const usernameOf = (id: number | null): string | null => (id === null ? null : (deps.users.get(id)?.username ?? null));
  const publicScenario = (s: Scenario): Record<string, unknown> => ({ id: s.id, name: s.name, version: s.version, updated_at: s.updatedAt, actions: s.actions });
  const publicVersion = (v: ScenarioVersion): Record<string, unknown> => ({ version: v.version, created_at: v.createdAt, created_by: usernameOf(v.createdBy), actions: v.actions });

  // ------------------------------------------------------------------ scenarios (`scenarios` right)
  router.get('/scenarios', scenarios, (ctx) => {
    queryParams(ctx, []);
    ctx.body = { scenarios: editor.dir.scenarios.list().map(publicScenario) };
  });
  router.get('/scenarios/:id', scenarios, (ctx) => {
    queryParams(ctx, []);
    ctx.body = { scenario: publicScenario(editor.requireScenario(idParam(ctx.params.id, 'scenario'))) };
  });
  router.get('/scenarios/:id/versions', scenarios, (ctx) => {
    queryParams(ctx, []);
    const s = editor.requireScenario(idParam(ctx.params.id, 'scenario'));
    ctx.body = { scenario: { id: s.id, name: s.name, version: s.version }, versions: editor.dir.scenarios.versions(s.id).reverse().map(publicVersion) };
  });
  router.post('/scenarios', scenarios, async (ctx) => {
    queryParams(ctx, []);
    const body = await readJsonObject(ctx);
    onlyFields(body, ['name', 'actions'], ['name', 'actions']);
    ctx.status = 201;
    ctx.body = { scenario: publicScenario(editor.createScenario(body.name, body.actions, userId(ctx))) };
  });
  router.put('/scenarios/:id', scenarios, async (ctx) => {
    queryParams(ctx, []);
    const id = idParam(ctx.params.id, 'scenario');
    const body = await readJsonObject(ctx);
    onlyFields(body, ['name', 'actions'], ['actions']);
    ctx.body = { scenario: publicScenario(editor.saveScenario(id, { name: body.name, actions: body.actions }, userId(ctx))) };
  });
  router.post('/scenarios/:id/versions/:version/restore', scenarios, (ctx) => {
    queryParams(ctx, []);
    const id = idParam(ctx.params.id, 'scenario');
    const version = idParam(ctx.params.version, 'version');
    ctx.body = { scenario: publicScenario(editor.restoreVersion(id, version, userId(ctx))) };
  });
  router.delete('/scenarios/:id', scenarios, (ctx) => {
    queryParams(ctx, []);
    editor.deleteScenario(idParam(ctx.params.id, 'scenario'));
    ctx.status = 204;
  });

  // ------------------------------------------------------------------ numbers (`numbers` right)
  router.get('/numbers', numbers, (ctx) => {
    queryParams(ctx, []);
    ctx.body = { numbers: editor.numbers() };
  });
  router.get('/numbers/:id', numbers, (ctx) => {
    queryParams(ctx, []);
    ctx.body = { number: editor.number(idParam(ctx.params.id, 'number')) };
  });
  router.post('/numbers', numbers, async (ctx) => {
    queryParams(ctx, []);
    const body = await readJsonObject(ctx);
    ctx.status = 201;
    ctx.body = { number: editor.putNumber(undefined, body) };
  });
  router.put('/numbers/:id', numbers, async (ctx) => {
    queryParams(ctx, []);
    const id = idParam(ctx.params.id, 'number');
    const body = await readJsonObject(ctx);
    ctx.body = { number: editor.putNumber(id, body) };
  });
  router.delete('/numbers/:id', numbers, (ctx) => {
    queryParams(ctx, []);
    editor.deleteNumber(idParam(ctx.params.id, 'number'));
    ctx.status = 204;
  });
  // Generating a scenario edits scenarios too: both rights.
  router.post('/numbers/:id/behaviour', numbers, scenarios, async (ctx) => {
    queryParams(ctx, []);
    const id = idParam(ctx.params.id, 'number');
    const spec = parseBehaviourSpec(await readJsonObject(ctx));
    const out = editor.applyBehaviour(id, spec, userId(ctx));
    ctx.body = { number: out.number, scenario: publicScenario(out.scenario) };
  });

  // ------------------------------------------------------------------ holidays and override (`scenarios` right)
  const holidayView = (year: number): Record<string, unknown> => ({
    country: calendar.country() ?? 'none',
    timezone: calendar.timeZone() ?? null,
    year,
    holidays: calendar.listHolidays(year),
    dates: editor.site().holidays,
  });
  router.get('/holidays', scenarios, (ctx) => {
    const q = queryParams(ctx, ['year']);
    ctx.body = holidayView(intParam(q.year, 'year', 1583, 9999) ?? calendar.currentYear());
  });
  router.put('/holidays', scenarios, async (ctx) => {
    queryParams(ctx, []);
    const body = await readJsonObject(ctx);
    onlyFields(body, ['country', 'dates']);
    editor.setHolidays({ country: body.country, dates: body.dates });
    ctx.body = holidayView(calendar.currentYear());
  });
  router.get('/override', scenarios, (ctx) => {
    queryParams(ctx, []);
    ctx.body = { override: calendar.override() };
  });
  router.put('/override', scenarios, async (ctx) => {
    queryParams(ctx, []);
    const body = await readJsonObject(ctx);
    onlyFields(body, ['mode'], ['mode']);
    if (typeof body.mode !== 'string' || !(OVERRIDE_MODES as readonly string[]).includes(body.mode)) {
      throw new RelaisError('override.mode_invalid', `mode ${JSON.stringify(body.mode)} is not one of ${OVERRIDE_MODES.join(', ')}`, { field: 'mode' });
    }
    ctx.body = { override: calendar.setOverride(body.mode as OverrideMode, ctx.state.user?.username ?? null) };
  });

  // ------------------------------------------------------------------ services and categories (`scenarios` right)
  router.get('/services', scenarios, (ctx) => {
    queryParams(ctx, []);
    ctx.body = { categories: editor.services() };
  });
  router.put('/services', scenarios, async (ctx) => {
    queryParams(ctx, []);
    const body = await readJsonObject(ctx);
    onlyFields(body, ['categories'], ['categories']);
    ctx.body = { categories: editor.setServices(body.categories) };
  });
}
