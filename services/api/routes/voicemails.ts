// /api/voicemails: messages per extension (a user sees his own; "history" or admin sees all), audio, heard flag, delete.
import fs from 'node:fs';
import path from 'node:path';
import type Router from '@koa/router';
import type { CallModule, VoicemailRecord } from '../../call/index.js';
import type { Extension, ExtensionRepository, InboundNumber, NumberRepository, User } from '../../directory/index.js';
import { RelaisError, type Logger } from '../../shared/index.js';
import type { ApiContext, ApiState, Authenticator } from '../auth.js';
import { z } from 'zod';
import { boolParam, idParam, queryParams } from '../body.js';
import { readInput } from '../validate.js';
import { sendWav } from '../files.js';

export interface VoicemailRouteDeps {
  auth: Authenticator;
  calls: CallModule;
  extensions: ExtensionRepository;
  numbers: NumberRepository;
  dataDir: string;
  logger: Logger;
}

/** The mailbox a message is in: an extension's, or a number's own. */
interface Box {
  ext?: Extension | undefined;
  number?: InboundNumber | undefined;
}

function publicVoicemail(v: VoicemailRecord, box: Box): Record<string, unknown> {
  return {
    id: v.id,
    extension: box.ext?.number ?? null,
    number: box.number?.did ?? null,
    caller: v.caller,
    callId: v.callId,
    durationMs: v.durationMs,
    heard: !v.isNew,
    createdAt: v.createdAt,
    audio: `/api/voicemails/${v.id}/audio`,
  };
}

export function voicemailRoutes(router: Router<ApiState>, deps: VoicemailRouteDeps): void {
  const { auth, calls, extensions, numbers } = deps;
  const repo = calls.voicemail.repo;
  const root = path.resolve(deps.dataDir, 'voicemail');
  const log = deps.logger.child({ module: 'api' });

  /**
   * Everyone's mailbox with the "history" right (admins have it); else the mailboxes of the extensions assigned to
   * the user, and of the numbers he is assigned to (docs/product.md §4: a number's users take its calls).
   */
  const mayRead = (user: User, box: Box): boolean =>
    auth.hasRight(user, 'history') ||
    (box.ext !== undefined && box.ext.userId === user.id) ||
    (box.number !== undefined && box.number.userIds.includes(user.id));

  const boxOf = (v: VoicemailRecord): Box => ({
    ext: v.extensionId !== null ? extensions.get(v.extensionId) : undefined,
    number: v.extensionId === null && v.numberId !== null ? numbers.get(v.numberId) : undefined,
  });

  /** The message and its mailbox, 404 when it does not exist or is not the caller's to see (no probing of ids). */
  const find = (ctx: ApiContext): { v: VoicemailRecord; box: Box } => {
    const id = idParam(ctx.params.id as string | undefined, 'voicemail');
    const v = repo.get(id);
    const box = v ? boxOf(v) : {};
    if (!v || !mayRead(ctx.state.user!, box)) throw new RelaisError('voicemail.not_found', `voicemail ${id} does not exist`, { status: 404 });
    return { v, box };
  };

  /** The phone's message lamp (MWI NOTIFY) follows the count; numbers' mailboxes have no lamp. */
  const publish = (box: Box): void => {
    if (box.ext) calls.voicemail.publishMailbox(box.ext);
  };

  router.get('/voicemails', auth.required(), (ctx) => {
    const q = queryParams(ctx, ['extension', 'number', 'new']);
    const onlyNew = boolParam(q.new, 'new') ?? false;
    const user = ctx.state.user!;
    if (q.extension !== undefined && q.number !== undefined) {
      throw new RelaisError('api.param_invalid', 'give "extension" or "number", not both', { field: 'number' });
    }
    let boxes: Box[];
    if (q.extension !== undefined) {
      const ext = extensions.findByNumber(q.extension);
      // The same answer for a mailbox that does not exist and one the caller may not read: no probing of numbers.
      if (!ext || !mayRead(user, { ext })) {
        throw new RelaisError('extension.not_found', `no mailbox of extension "${q.extension}" that you may read (your own, or every one with the "history" right)`, { status: 404, field: 'extension' });
      }
      boxes = [{ ext }];
    } else if (q.number !== undefined) {
      const number = numbers.findByDid(q.number);
      if (!number || !mayRead(user, { number })) {
        throw new RelaisError('number.not_found', `no mailbox of number "${q.number}" that you may read (assigned to you, or every one with the "history" right)`, { status: 404, field: 'number' });
      }
      boxes = [{ number }];
    } else {
      boxes = [...extensions.list().map((ext) => ({ ext })), ...numbers.list().map((number) => ({ number }))].filter((b) => mayRead(user, b));
    }
    const out = boxes.flatMap((box) =>
      (box.ext ? repo.list(box.ext.id, { onlyNew }) : repo.listByNumber(box.number!.id, { onlyNew }))
        // A message with an extension is in that extension's box, even if it also names a number.
        .filter((v) => box.ext !== undefined || v.extensionId === null)
        .map((v) => publicVoicemail(v, box)),
    );
    out.sort((a, b) => (b.createdAt as number) - (a.createdAt as number) || (b.id as number) - (a.id as number));
    ctx.body = { voicemails: out };
  });

  router.get('/voicemails/:id', auth.required(), (ctx) => {
    queryParams(ctx, []);
    const { v, box } = find(ctx);
    ctx.body = { voicemail: publicVoicemail(v, box) };
  });

  router.get('/voicemails/:id/audio', auth.required(), async (ctx) => {
    queryParams(ctx, []);
    const { v } = find(ctx);
    await sendWav(ctx, calls.recordingPath(v.file), root, `voicemail-${v.id}.wav`, 'voicemail');
  });

  router.patch('/voicemails/:id', auth.required(), async (ctx) => {
    queryParams(ctx, []);
    const { v, box } = find(ctx);
    const body = await readInput(ctx, z.strictObject({ heard: z.boolean() }));
    if (body.heard) repo.markOld(v.id);
    else repo.markNew(v.id);
    publish(box);
    ctx.body = { voicemail: publicVoicemail(repo.get(v.id)!, box) };
  });

  router.delete('/voicemails/:id', auth.required(), async (ctx) => {
    queryParams(ctx, []);
    const { v, box } = find(ctx);
    repo.remove(v.id);
    // Row first: a message whose file is gone is worse than a stray file no row names.
    const file = path.resolve(calls.recordingPath(v.file));
    if (file.startsWith(root + path.sep)) {
      await fs.promises.rm(file, { force: true }).catch((err: unknown) => log.warn('voicemail file not removed', { id: v.id, err }));
    }
    publish(box);
    ctx.status = 204;
  });
}
