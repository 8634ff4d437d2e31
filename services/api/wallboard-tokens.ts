// Wallboard tokens (rwb_…): read-only secrets an administrator gives a TV; stored as SHA-256 hashes, shown once.
import { createHash, randomBytes } from 'node:crypto';
import type { Database } from 'better-sqlite3';
import { NotFoundError, type Clock } from '../shared/index.js';

export const WALLBOARD_TOKEN_PREFIX = 'rwb_';

export interface WallboardToken {
  id: number;
  name: string;
  createdBy: number | null;
  createdAt: number;
  lastUsedAt: number | null;
}

interface Row {
  id: number;
  name: string;
  created_by: number | null;
  created_at: number;
  last_used_at: number | null;
}

const toToken = (r: Row): WallboardToken => ({ id: r.id, name: r.name, createdBy: r.created_by, createdAt: r.created_at, lastUsedAt: r.last_used_at });
const hash = (secret: string): string => createHash('sha256').update(secret).digest('hex');

export class WallboardTokenRepository {
  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
  ) {}

  create(name: string, createdBy: number | null): { token: WallboardToken; secret: string } {
    const secret = `${WALLBOARD_TOKEN_PREFIX}${randomBytes(24).toString('base64url')}`;
    const info = this.db.prepare('INSERT INTO wallboard_tokens (name, token_hash, created_by, created_at) VALUES (?, ?, ?, ?)').run(name, hash(secret), createdBy, this.clock.now());
    return { token: this.require(Number(info.lastInsertRowid)), secret };
  }

  require(id: number): WallboardToken {
    const r = this.db.prepare('SELECT id, name, created_by, created_at, last_used_at FROM wallboard_tokens WHERE id = ?').get(id) as Row | undefined;
    if (!r) throw new NotFoundError('wallboard token', id);
    return toToken(r);
  }

  list(): WallboardToken[] {
    return (this.db.prepare('SELECT id, name, created_by, created_at, last_used_at FROM wallboard_tokens ORDER BY id').all() as Row[]).map(toToken);
  }

  delete(id: number): void {
    if (this.db.prepare('DELETE FROM wallboard_tokens WHERE id = ?').run(id).changes === 0) throw new NotFoundError('wallboard token', id);
  }

  /** The token when the secret is one (records its use, at most once a minute); undefined otherwise. */
  verify(secret: string): WallboardToken | undefined {
    if (!secret.startsWith(WALLBOARD_TOKEN_PREFIX) || secret.length > 200) return undefined;
    const r = this.db.prepare('SELECT id, name, created_by, created_at, last_used_at FROM wallboard_tokens WHERE token_hash = ?').get(hash(secret)) as Row | undefined;
    if (!r) return undefined;
    const now = this.clock.now();
    if (r.last_used_at === null || now - r.last_used_at > 60_000) {
      this.db.prepare('UPDATE wallboard_tokens SET last_used_at = ? WHERE id = ?').run(now, r.id);
      r.last_used_at = now;
    }
    return toToken(r);
  }
}
