// /api/calls: call history (newest first, paged), one call with its events, its recording as a WAV download.
import path from 'node:path';
import type Router from '@koa/router';
import type { CallModule, CallRecord } from '../../call/index.js';
import { RelaisError } from '../../shared/index.js';
import type { ApiState, Authenticator } from '../auth.js';
import { intParam, queryParams } from '../body.js';
import { sendWav } from '../files.js';

/** Call ids are UUIDs; anything else cannot name a call. */
const CALL_ID_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

function callId(value: string | undefined, field = 'id'): string {
  if (value === undefined || !CALL_ID_RE.test(value)) throw new RelaisError('api.id_invalid', `call id "${String(value)}" is not a call id`, { field });
  return value;
}

/** The row without the recording's place on disk: clients only learn whether there is one and where to fetch it. */
function publicCall(c: CallRecord): Omit<CallRecord, 'recording'> & { recording: string | null } {
  const { recording, ...rest } = c;
  return { ...rest, recording: recording ? `/api/calls/${encodeURIComponent(c.id)}/recording` : null };
}

export function callRoutes(router: Router<ApiState>, auth: Authenticator, calls: CallModule, dataDir: string): void {
  const history = auth.requireRight('history');

  router.get('/calls', history, (ctx) => {
    const q = queryParams(ctx, ['limit', 'before']);
    const limit = intParam(q.limit, 'limit', 1, 500) ?? 100;
    // before: a time in ms, or the id of the last call of the previous page (what `next` uses: exact on ties).
    let before: number | string | undefined;
    if (q.before !== undefined && /^\d+$/.test(q.before)) before = intParam(q.before, 'before', 0, Number.MAX_SAFE_INTEGER);
    else if (q.before !== undefined) {
      before = callId(q.before, 'before');
      if (!calls.history.get(before)) throw new RelaisError('call.not_found', `call ${before} (the "before" cursor) does not exist`, { status: 404, field: 'before' });
    }
    const rows = calls.history.list(limit, before);
    const last = rows.at(-1);
    ctx.body = { calls: rows.map(publicCall), next: rows.length === limit && last ? `/api/calls?limit=${limit}&before=${encodeURIComponent(last.id)}` : null };
  });

  router.get('/calls/:id', history, (ctx) => {
    queryParams(ctx, []);
    const id = callId(ctx.params.id);
    const call = calls.history.get(id);
    if (!call) throw new RelaisError('call.not_found', `call ${id} does not exist`, { status: 404 });
    // An inbound call to a number has the path it took through the number's handling (docs/calls.md).
    const path = calls.history.path(id);
    ctx.body = { call: publicCall(call), events: calls.history.events(id), ...(path ? { path: path.path, variables: path.variables } : {}) };
  });

  router.get('/calls/:id/recording', history, async (ctx) => {
    queryParams(ctx, []);
    const id = callId(ctx.params.id);
    const call = calls.history.get(id);
    if (!call) throw new RelaisError('call.not_found', `call ${id} does not exist`, { status: 404 });
    if (!call.recording) throw new RelaisError('recording.not_found', `call ${id} was not recorded`, { status: 404 });
    // The WAV header gets its sizes when the recording stops: a download before then would be a broken file.
    if (call.endedAt === null) throw new RelaisError('recording.in_progress', `call ${id} is still going on; its recording is ready when it ends`, { status: 409 });
    await sendWav(ctx, calls.recordingPath(call.recording), path.join(dataDir, 'recordings'), `call-${id}.wav`, 'recording');
  });
}
