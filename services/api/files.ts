// Audio downloads: a file found through the database, checked to lie inside its directory, streamed as WAV.
import fs from 'node:fs';
import path from 'node:path';
import { RelaisError } from '../shared/index.js';
import type { ApiContext } from './auth.js';

/**
 * Streams `file` (absolute) if it is a regular file inside `root`. Paths come from database rows, never from the
 * client; the check is a second lock should a row ever hold "../" or a symlink point outside.
 */
export async function sendWav(ctx: ApiContext, file: string, root: string, downloadName: string, what: string): Promise<void> {
  const missing = new RelaisError(`${what}.not_found`, `the ${what} file is missing on the appliance`, { status: 404 });
  let real: string;
  let realRoot: string;
  try {
    [real, realRoot] = await Promise.all([fs.promises.realpath(file), fs.promises.realpath(root)]);
  } catch {
    throw missing;
  }
  if (!real.startsWith(realRoot + path.sep)) throw missing;
  const st = await fs.promises.stat(real).catch(() => undefined);
  if (!st?.isFile()) throw missing;
  ctx.set('Content-Type', 'audio/wav');
  ctx.set('Content-Disposition', `attachment; filename="${downloadName.replace(/[^A-Za-z0-9._-]/g, '_')}"`);
  ctx.set('Cache-Control', 'private, no-store');
  ctx.length = st.size;
  ctx.body = fs.createReadStream(real);
}
