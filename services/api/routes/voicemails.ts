// /api/voicemails: messages per extension (a user sees his own; "history" or admin sees all), audio, heard flag, delete.
import fs from 'node:fs';
import path from 'node:path';
import type Router from '@koa/router';
import type { CallModule, VoicemailRecord } from '../../call/index.js';
import type { Extension, ExtensionRepository, User } from '../../directory/index.js';
import { RelaisError, type Logger } from '../../shared/index.js';
import type { ApiContext, ApiState, Authenticator } from '../auth.js';
import { boolParam, fields, idParam, queryParams, readJsonObject } from '../body.js';
import { sendWav } from '../files.js';

export interface VoicemailRouteDeps {
  auth: Authenticator;
  calls: CallModule;
  extensions: ExtensionRepository;
  dataDir: string;
  logger: Logger;
}

function publicVoicemail(v: VoicemailRecord, ext: Extension | undefined): Record<string, unknown> {
  return {
    id: v.id,
    extension: ext?.number ?? null,
    caller: v.caller,
    callId: v.callId,
    durationMs: v.durationMs,
    heard: !v.isNew,
    createdAt: v.createdAt,
    audio: `/api/voicemails/${v.id}/audio`,
  };
}

export function voicemailRoutes(router: Router<ApiState>, deps: VoicemailRouteDeps): void {
  const { auth, calls, extensions } = deps;
  const repo = calls.voicemail.repo;
  const root = path.resolve(deps.dataDir, 'voicemail');
  const log = deps.logger.child({ module: 'api' });

  /** Everyone's mailbox with the "history" right (admins have it), else only the extensions assigned to the user. */
  const mayRead = (user: User, ext: Extension): boolean => auth.hasRight(user, 'history') || (ext.userId !== null && ext.userId === user.id);

  /** The message and its extension, 404 when it does not exist or is not the caller's to see (no probing of ids). */
  const find = (ctx: ApiContext): { v: VoicemailRecord; ext: Extension | undefined } => {
    const id = idParam(ctx.params.id as string | undefined, 'voicemail');
    const v = repo.get(id);
    const ext = v?.extensionId != null ? extensions.get(v.extensionId) : undefined;
    const user = ctx.state.user!;
    if (!v || !(ext ? mayRead(user, ext) : auth.hasRight(user, 'history'))) {
      throw new RelaisError('voicemail.not_found', `voicemail ${id} does not exist`, { status: 404 });
    }
    return { v, ext };
  };

  router.get('/voicemails', auth.required(), (ctx) => {
    const q = queryParams(ctx, ['extension', 'new']);
    const onlyNew = boolParam(q.new, 'new') ?? false;
    const user = ctx.state.user!;
    let boxes: Extension[];
    if (q.extension !== undefined) {
      const ext = extensions.findByNumber(q.extension);
      if (!ext) throw new RelaisError('extension.not_found', `extension "${q.extension}" does not exist`, { status: 404, field: 'extension' });
      if (!mayRead(user, ext)) throw new RelaisError('auth.forbidden', `extension ${ext.number} is not yours; its messages need the "history" right`, { status: 403 });
      boxes = [ext];
    } else {
      boxes = extensions.list().filter((e) => mayRead(user, e));
    }
    const out = boxes.flatMap((ext) => repo.list(ext.id, { onlyNew }).map((v) => publicVoicemail(v, ext)));
    out.sort((a, b) => (b.createdAt as number) - (a.createdAt as number) || (b.id as number) - (a.id as number));
    ctx.body = { voicemails: out };
  });

  router.get('/voicemails/:id', auth.required(), (ctx) => {
    queryParams(ctx, []);
    const { v, ext } = find(ctx);
    ctx.body = { voicemail: publicVoicemail(v, ext) };
  });

  router.get('/voicemails/:id/audio', auth.required(), async (ctx) => {
    queryParams(ctx, []);
    const { v } = find(ctx);
    await sendWav(ctx, calls.recordingPath(v.file), root, `voicemail-${v.id}.wav`, 'voicemail');
  });

  router.patch('/voicemails/:id', auth.required(), async (ctx) => {
    queryParams(ctx, []);
    const { v, ext } = find(ctx);
    const body = fields(await readJsonObject(ctx), { heard: { type: 'boolean', required: true } });
    if (body.heard) repo.markOld(v.id);
    else repo.markNew(v.id);
    // The phone's message lamp (MWI NOTIFY) follows the new count.
    if (ext) calls.voicemail.publishMailbox(ext);
    ctx.body = { voicemail: publicVoicemail(repo.get(v.id)!, ext) };
  });

  router.delete('/voicemails/:id', auth.required(), async (ctx) => {
    queryParams(ctx, []);
    const { v, ext } = find(ctx);
    repo.remove(v.id);
    // Row first: a message whose file is gone is worse than a stray file no row names.
    const file = path.resolve(calls.recordingPath(v.file));
    if (file.startsWith(root + path.sep)) {
      await fs.promises.rm(file, { force: true }).catch((err: unknown) => log.warn('voicemail file not removed', { id: v.id, err }));
    }
    if (ext) calls.voicemail.publishMailbox(ext);
    ctx.status = 204;
  });
}
