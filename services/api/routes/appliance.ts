// /api/system/board and /api/system/update: the board (LEDs, button; the simulated board's button is pressable) and
// firmware updates (upload a RAUC bundle, follow its progress). Administrators only (docs/api.md "Board and firmware").
import type Router from '@koa/router';
import type { BoardController, SimBoard } from '../../../board/index.js';
import { RelaisError, errorMessage } from '../../shared/index.js';
import type { UpdateAgent, UpdateEvents } from '../../update/index.js';
import type { ApiState, Authenticator } from '../auth.js';
import { boolParam, fields, queryParams, readJsonObject } from '../body.js';

export interface ApplianceRouteDeps {
  auth: Authenticator;
  board: BoardController | undefined;
  /** Present when the board is simulated: POST /system/board/button drives it. */
  simBoard: SimBoard | undefined;
  /** The firmware update agent; undefined when RAUC is off or unreachable. */
  updates: UpdateAgent | undefined;
}

function agent(deps: ApplianceRouteDeps): UpdateAgent {
  if (!deps.updates) throw new RelaisError('update.unavailable', 'firmware updates are off on this box (no RAUC service; see --rauc)', { status: 503 });
  return deps.updates;
}

/** The events an NDJSON follower sees, one JSON object per line. */
const FOLLOWED: readonly (keyof UpdateEvents & string)[] = ['update.progress', 'update.installed', 'update.failed'];

const BUTTON_ACTIONS = ['press', 'release', 'announce-ip'] as const;

export function applianceRoutes(router: Router<ApiState>, deps: ApplianceRouteDeps): void {
  const admin = deps.auth.requireAdmin();

  router.get('/system/board', admin, (ctx) => {
    queryParams(ctx, []);
    if (!deps.board) throw new RelaisError('board.unavailable', 'the board module is not running', { status: 503 });
    ctx.body = deps.board.state();
  });

  // The simulated board's button (tests, the console on a dev machine): press, release, or a short press's effect.
  router.post('/system/board/button', admin, async (ctx) => {
    queryParams(ctx, []);
    const body = fields(await readJsonObject(ctx), { action: { type: 'string', required: true } });
    const action = body.action!;
    if (!(BUTTON_ACTIONS as readonly string[]).includes(action)) {
      throw new RelaisError('api.field_invalid', `action "${action.slice(0, 40)}" must be one of ${BUTTON_ACTIONS.join(', ')}`, { field: 'action' });
    }
    if (!deps.board) throw new RelaisError('board.unavailable', 'the board module is not running', { status: 503 });
    if (action === 'announce-ip') {
      ctx.body = { addresses: deps.board.announceIp(), board: deps.board.state() };
      return;
    }
    if (!deps.simBoard) throw new RelaisError('board.not_simulated', 'this box has a real button: press it on the board', { status: 409 });
    deps.simBoard.setButton(action === 'press');
    ctx.body = deps.board.state();
  });

  router.get('/system/update', admin, async (ctx) => {
    queryParams(ctx, []);
    ctx.body = await agent(deps).status();
  });

  // The bundle is the raw body (curl --data-binary @file.raucb -H 'Content-Type: application/octet-stream'),
  // streamed to the data partition. A refused bundle is a 4xx naming why; an accepted one installs in the
  // background (202), or with ?follow=true the answer is NDJSON: upload progress, then RAUC's, then the outcome.
  router.post('/system/update', admin, async (ctx) => {
    const q = queryParams(ctx, ['allowDowngrade', 'follow']);
    const allowDowngrade = boolParam(q.allowDowngrade, 'allowDowngrade') ?? false;
    const follow = boolParam(q.follow, 'follow') ?? false;
    const updates = agent(deps);
    if (!ctx.is('application/octet-stream')) {
      throw new RelaisError('api.content_type', 'send the bundle as the body with "Content-Type: application/octet-stream"', { status: 415 });
    }
    const length = ctx.get('content-length');
    const lines: string[] = [];
    const record = (event: string) => (...args: unknown[]) => lines.push(`${JSON.stringify({ event, ...eventFields(event, args) })}\n`);
    const listeners = FOLLOWED.map((e) => [e, record(e)] as const);
    for (const [e, l] of listeners) updates.observer.on(e, l);
    const unsubscribe = () => {
      for (const [e, l] of listeners) updates.observer.off(e, l);
    };
    let version: string;
    let install: Promise<void>;
    try {
      const file = await updates.receive(ctx.req, length ? Number(length) : undefined);
      ({ version, install } = await updates.check(file, { allowDowngrade }));
    } catch (err) {
      unsubscribe();
      throw err;
    }
    if (!follow) {
      unsubscribe();
      install.catch(() => {}); // the agent records and reports the failure (GET /api/system/update)
      ctx.status = 202;
      ctx.body = { version, status: await updates.status() };
      return;
    }
    const { PassThrough } = await import('node:stream');
    const out = new PassThrough();
    ctx.status = 200;
    ctx.type = 'application/x-ndjson';
    ctx.body = out;
    const flush = () => {
      while (lines.length) out.write(lines.shift());
    };
    flush();
    const timer = setInterval(flush, 100);
    install
      .then(
        () => lines.push(`${JSON.stringify({ event: 'update.done', version })}\n`),
        (err: unknown) => lines.push(`${JSON.stringify({ event: 'update.done', error: err instanceof RelaisError ? err.toJSON() : { code: 'update.install_failed', message: errorMessage(err) } })}\n`),
      )
      .finally(() => {
        clearInterval(timer);
        unsubscribe();
        flush();
        out.end();
      });
  });
}

function eventFields(event: string, args: unknown[]): Record<string, unknown> {
  switch (event) {
    case 'update.progress':
      return { phase: args[0], percent: args[1], message: args[2] };
    case 'update.installed':
      return { version: args[0], slot: args[1] };
    case 'update.failed':
      return { error: args[0] };
    default:
      return { args };
  }
}
