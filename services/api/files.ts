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
  // Byte ranges: browsers' <audio> seeks with them (Safari plays nothing without them).
  ctx.set('Accept-Ranges', 'bytes');
  const range = byteRange(ctx.get('range'), st.size);
  if (range === 'unsatisfiable') {
    ctx.set('Content-Range', `bytes */${st.size}`);
    throw new RelaisError('api.range_invalid', `the Range header asks for bytes outside the file (${st.size} bytes)`, { status: 416 });
  }
  if (range) {
    ctx.status = 206;
    ctx.set('Content-Range', `bytes ${range.start}-${range.end}/${st.size}`);
    ctx.length = range.end - range.start + 1;
    ctx.body = fs.createReadStream(real, { start: range.start, end: range.end });
    return;
  }
  ctx.length = st.size;
  ctx.body = fs.createReadStream(real);
}

/**
 * One range of RFC 9110 §14.1.2 (`bytes=a-b`, `bytes=a-`, `bytes=-n`); undefined (whole file) for an absent,
 * malformed or multi-range header, which §14.2 allows a server to ignore.
 */
export function byteRange(header: string, size: number): { start: number; end: number } | 'unsatisfiable' | undefined {
  const m = /^bytes=(\d{0,15})-(\d{0,15})$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  let start: number;
  let end: number;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) return 'unsatisfiable';
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
    if (m[2] !== '' && Number(m[2]) < start) return undefined;
  }
  if (start >= size) return 'unsatisfiable';
  return { start, end };
}
