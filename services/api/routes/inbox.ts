// The call inbox (`calls` right): PATCH /api/calls/:id (status; blocking the caller is a separate choice),
// /api/inbox, /api/jobs (follow-up tickets made from calls) and /api/blocklist.
import type Router from '@koa/router';
import { RelaisError } from '../../shared/index.js';
import type { UserRepository } from '../../directory/index.js';
import {
  INBOX_STATUSES,
  JOB_STATUSES,
  BLOCK_ACTIONS,
  type BlockedCaller,
  type BlocklistRepository,
  type InboxCall,
  type InboxRepository,
  type InboxStatus,
  type Job,
  type JobRepository,
  type JobStatus,
  type BlockAction,
} from '../../scenario/inbox/index.js';
import type { ApiState, Authenticator } from '../auth.js';
import { idParam, intParam, queryParams, readJsonObject, type JsonObject } from '../body.js';
import { onlyFields } from './scenario-config.js';

export interface InboxDeps {
  inbox: InboxRepository;
  jobs: JobRepository;
  blocklist: BlocklistRepository;
  users: UserRepository;
}

const CALL_ID_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

function str(body: JsonObject, key: string, max = 1000): string | undefined {
  const v = body[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new RelaisError('api.field_type', `field "${key}" must be a string`, { field: key });
  if (v.length > max) throw new RelaisError('api.field_too_long', `field "${key}" is longer than ${max} characters`, { field: key });
  return v;
}

function oneOf<T extends string>(body: JsonObject, key: string, values: readonly T[]): T | undefined {
  const v = body[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) {
    throw new RelaisError('api.field_invalid', `field "${key}" must be one of ${values.join(', ')}`, { field: key });
  }
  return v as T;
}

export function inboxRoutes(router: Router<ApiState>, auth: Authenticator, deps: InboxDeps): void {
  const calls = auth.requireRight('calls');
  const usernameOf = (id: number | null): string | null => (id === null ? null : (deps.users.get(id)?.username ?? null));
  const assignee = (body: JsonObject): number | null | undefined => {
    const v = body.assignee;
    if (v === undefined) return undefined;
    if (v === null) return null;
    if (typeof v !== 'string') throw new RelaisError('api.field_type', 'field "assignee" must be a username or null', { field: 'assignee' });
    const u = deps.users.findByUsername(v);
    if (!u) throw new RelaisError('api.field_invalid', `user "${v}" does not exist`, { field: 'assignee' });
    return u.id;
  };
  const publicCall = (c: InboxCall): Record<string, unknown> => ({
    id: c.id,
    caller: c.caller,
    callee: c.callee,
    number_id: c.numberId,
    started_at: c.startedAt,
    answered_at: c.answeredAt,
    ended_at: c.endedAt,
    service: c.service,
    status: c.status,
    blocked: deps.blocklist.find(c.caller) !== undefined,
  });
  const publicJob = (j: Job): Record<string, unknown> => ({
    id: j.id,
    title: j.title,
    caller: j.caller,
    call_id: j.callId,
    assignee: usernameOf(j.assigneeId),
    status: j.status,
    notes: j.notes,
    created_by: usernameOf(j.createdBy),
    created_at: j.createdAt,
    updated_at: j.updatedAt,
  });
  const publicBlock = (b: BlockedCaller): Record<string, unknown> => ({
    id: b.id,
    number: b.number,
    action: b.action,
    scenario: b.scenario,
    note: b.note,
    created_by: usernameOf(b.createdBy),
    created_at: b.createdAt,
  });
  const requireCall = (id: string | undefined): InboxCall => {
    if (id === undefined || !CALL_ID_RE.test(id)) throw new RelaisError('api.id_invalid', `call id "${String(id)}" is not a call id`, { field: 'id' });
    const c = deps.inbox.get(id);
    if (!c) throw new RelaisError('call.not_found', `call ${id} does not exist`, { status: 404 });
    return c;
  };

  // ------------------------------------------------------------------ inbox
  router.get('/inbox', calls, (ctx) => {
    const q = queryParams(ctx, ['status', 'limit', 'before']);
    if (q.status !== undefined && !(INBOX_STATUSES as readonly string[]).includes(q.status)) {
      throw new RelaisError('api.param_invalid', `query parameter "status" must be one of ${INBOX_STATUSES.join(', ')}`, { field: 'status' });
    }
    const limit = intParam(q.limit, 'limit', 1, 500) ?? 100;
    const before = intParam(q.before, 'before', 0, Number.MAX_SAFE_INTEGER);
    ctx.body = { calls: deps.inbox.list(q.status as InboxStatus | undefined, limit, before).map(publicCall) };
  });

  router.patch('/calls/:id', calls, async (ctx) => {
    queryParams(ctx, []);
    const call = requireCall(ctx.params.id);
    const body = await readJsonObject(ctx);
    onlyFields(body, ['status', 'block_caller', 'block_action', 'block_scenario']);
    if (body.status === undefined && body.block_caller === undefined) {
      throw new RelaisError('api.field_missing', 'give "status" (new, job, spam, closed, deleted) and/or "block_caller": true', { field: 'status' });
    }
    const status = oneOf(body, 'status', INBOX_STATUSES);
    if (body.block_caller !== undefined && typeof body.block_caller !== 'boolean') throw new RelaisError('api.field_type', 'field "block_caller" must be a boolean', { field: 'block_caller' });
    if (body.block_caller !== true && (body.block_action !== undefined || body.block_scenario !== undefined)) {
      throw new RelaisError('api.field_invalid', '"block_action" and "block_scenario" go with "block_caller": true', { field: body.block_action !== undefined ? 'block_action' : 'block_scenario' });
    }
    let blocked: BlockedCaller | undefined;
    if (body.block_caller === true) {
      if (!/[0-9]/.test(call.caller)) throw new RelaisError('blocklist.withheld', `the caller's number is withheld ("${call.caller}"): there is nothing to block`, { field: 'block_caller', status: 409 });
      const action = oneOf(body, 'block_action', BLOCK_ACTIONS);
      const scenario = str(body, 'block_scenario', 200);
      try {
        blocked = deps.blocklist.add({ number: call.caller, ...(action ? { action } : {}), ...(scenario !== undefined ? { scenario } : {}), note: `from call ${call.id}`, createdBy: ctx.state.user?.id ?? null });
      } catch (err) {
        if (err instanceof RelaisError && err.field === 'action') throw new RelaisError(err.code, err.message, { field: 'block_action', status: err.status });
        if (err instanceof RelaisError && err.field === 'scenario') throw new RelaisError(err.code, err.message, { field: 'block_scenario', status: err.status });
        throw err;
      }
    } else if (body.block_caller === false) {
      const entry = deps.blocklist.find(call.caller);
      if (entry) deps.blocklist.delete(entry.id);
    }
    const updated = status ? deps.inbox.setStatus(call.id, status) : deps.inbox.get(call.id)!;
    ctx.body = { call: publicCall(updated), ...(blocked ? { blocked: publicBlock(blocked) } : {}) };
  });

  // ------------------------------------------------------------------ jobs
  router.get('/jobs', calls, (ctx) => {
    const q = queryParams(ctx, ['status', 'assignee', 'call_id']);
    if (q.status !== undefined && !(JOB_STATUSES as readonly string[]).includes(q.status)) {
      throw new RelaisError('api.param_invalid', `query parameter "status" must be one of ${JOB_STATUSES.join(', ')}`, { field: 'status' });
    }
    let assigneeId: number | undefined;
    if (q.assignee !== undefined) {
      const u = deps.users.findByUsername(q.assignee);
      if (!u) throw new RelaisError('api.param_invalid', `user "${q.assignee}" does not exist`, { field: 'assignee' });
      assigneeId = u.id;
    }
    ctx.body = {
      jobs: deps.jobs
        .list({ ...(q.status ? { status: q.status as JobStatus } : {}), ...(assigneeId !== undefined ? { assigneeId } : {}), ...(q.call_id ? { callId: q.call_id } : {}) })
        .map(publicJob),
    };
  });
  router.get('/jobs/:id', calls, (ctx) => {
    queryParams(ctx, []);
    ctx.body = { job: publicJob(deps.jobs.require(idParam(ctx.params.id, 'job'))) };
  });
  // From an inbox call (call_id: title and caller default from it, the call's status becomes "job") or by hand.
  router.post('/jobs', calls, async (ctx) => {
    queryParams(ctx, []);
    const body = await readJsonObject(ctx);
    onlyFields(body, ['title', 'call_id', 'caller', 'assignee', 'status', 'notes']);
    const callId = str(body, 'call_id', 128);
    const call = callId === undefined ? undefined : requireCallField(callId);
    const title = str(body, 'title', 200) ?? (call ? `Call from ${call.caller}${call.service ? ` (${call.service})` : ''}` : undefined);
    if (!title || !title.trim()) throw new RelaisError('api.field_missing', 'field "title" is required (or give "call_id" to make the job from a call)', { field: 'title' });
    const caller = str(body, 'caller', 64) ?? call?.caller ?? '';
    const a = assignee(body);
    const status = oneOf(body, 'status', JOB_STATUSES);
    const notes = str(body, 'notes', 10_000);
    const job = deps.jobs.create({
      title,
      caller,
      callId: call?.id ?? null,
      assigneeId: a ?? null,
      ...(status ? { status } : {}),
      ...(notes !== undefined ? { notes } : {}),
      createdBy: ctx.state.user?.id ?? null,
    });
    if (call) deps.inbox.setStatus(call.id, 'job');
    ctx.status = 201;
    ctx.body = { job: publicJob(job) };
  });
  function requireCallField(id: string): InboxCall {
    try {
      return requireCall(id);
    } catch (err) {
      if (err instanceof RelaisError) throw new RelaisError(err.code, err.message, { field: 'call_id', status: err.status === 404 ? 400 : err.status });
      throw err;
    }
  }
  router.patch('/jobs/:id', calls, async (ctx) => {
    queryParams(ctx, []);
    const id = idParam(ctx.params.id, 'job');
    deps.jobs.require(id);
    const body = await readJsonObject(ctx);
    onlyFields(body, ['title', 'caller', 'assignee', 'status', 'notes']);
    const title = str(body, 'title', 200);
    if (title !== undefined && !title.trim()) throw new RelaisError('api.field_invalid', 'a job needs a title', { field: 'title' });
    const caller = str(body, 'caller', 64);
    const a = assignee(body);
    const status = oneOf(body, 'status', JOB_STATUSES);
    const notes = str(body, 'notes', 10_000);
    ctx.body = {
      job: publicJob(
        deps.jobs.update(id, {
          ...(title !== undefined ? { title } : {}),
          ...(caller !== undefined ? { caller } : {}),
          ...(a !== undefined ? { assigneeId: a } : {}),
          ...(status ? { status } : {}),
          ...(notes !== undefined ? { notes } : {}),
        }),
      ),
    };
  });
  router.delete('/jobs/:id', calls, (ctx) => {
    queryParams(ctx, []);
    if (!deps.jobs.delete(idParam(ctx.params.id, 'job'))) throw new RelaisError('job.not_found', `job ${ctx.params.id} does not exist`, { status: 404 });
    ctx.status = 204;
  });

  // ------------------------------------------------------------------ blocklist
  router.get('/blocklist', calls, (ctx) => {
    queryParams(ctx, []);
    ctx.body = { blocklist: deps.blocklist.list().map(publicBlock) };
  });
  router.post('/blocklist', calls, async (ctx) => {
    queryParams(ctx, []);
    const body = await readJsonObject(ctx);
    onlyFields(body, ['number', 'action', 'scenario', 'note'], ['number']);
    const number = str(body, 'number', 64)!;
    const action = oneOf<BlockAction>(body, 'action', BLOCK_ACTIONS);
    const scenario = str(body, 'scenario', 200);
    const note = str(body, 'note', 1000);
    if (deps.blocklist.find(number)) throw new RelaisError('blocklist.exists', `${number} is already blocked`, { field: 'number', status: 409 });
    const b = deps.blocklist.add({ number, ...(action ? { action } : {}), ...(scenario !== undefined ? { scenario } : {}), ...(note !== undefined ? { note } : {}), createdBy: ctx.state.user?.id ?? null });
    ctx.status = 201;
    ctx.body = { blocked: publicBlock(b) };
  });
  router.patch('/blocklist/:id', calls, async (ctx) => {
    queryParams(ctx, []);
    const id = idParam(ctx.params.id, 'blocklist entry');
    deps.blocklist.require(id);
    const body = await readJsonObject(ctx);
    onlyFields(body, ['number', 'action', 'scenario', 'note']);
    const number = str(body, 'number', 64);
    const action = oneOf<BlockAction>(body, 'action', BLOCK_ACTIONS);
    const scenario = body.scenario === null ? null : str(body, 'scenario', 200);
    const note = str(body, 'note', 1000);
    ctx.body = {
      blocked: publicBlock(
        deps.blocklist.update(id, {
          ...(number !== undefined ? { number } : {}),
          ...(action ? { action } : {}),
          ...(scenario !== undefined ? { scenario } : {}),
          ...(note !== undefined ? { note } : {}),
        }),
      ),
    };
  });
  router.delete('/blocklist/:id', calls, (ctx) => {
    queryParams(ctx, []);
    if (!deps.blocklist.delete(idParam(ctx.params.id, 'blocklist entry'))) throw new RelaisError('blocklist.not_found', `blocklist entry ${ctx.params.id} does not exist`, { status: 404 });
    ctx.status = 204;
  });
}
