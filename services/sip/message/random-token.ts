// Random hex tokens for tags, branches and Call-IDs, drawn from a pooled buffer (one getrandom call per 4 KiB).
import { randomFillSync } from 'node:crypto';

const POOL = Buffer.alloc(4096);
let offset = POOL.length;

/** `bytes` random bytes as hex: as unpredictable as randomToken(), without a syscall per message. */
export function sipToken(bytes = 8): string {
  if (offset + bytes > POOL.length) {
    randomFillSync(POOL);
    offset = 0;
  }
  const s = POOL.toString('hex', offset, offset + bytes);
  offset += bytes;
  return s;
}
