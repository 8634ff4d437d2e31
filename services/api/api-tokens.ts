// API tokens for scripts (Authorization: Bearer rls_…): stored as SHA-256 hashes, shown once at creation.
import { createHash, randomBytes } from 'node:crypto';
import type { Database } from 'better-sqlite3';
import { NotFoundError, type Clock } from '../shared/index.js';

export const API_TOKEN_PREFIX = 'rls_';

export interface ApiToken {
  id: number;
  userId: number;
  name: string;
  createdAt: number;
  lastUsedAt: number | null;
  expiresAt: number | null;
}

interface TokenRow {
  id: number;
  user_id: number;
  name: string;
  token_hash: string;
  created_at: number;
  last_used_at: number | null;
  expires_at: number | null;
}

function toToken(r: TokenRow): ApiToken {
  return { id: r.id, userId: r.user_id, name: r.name, createdAt: r.created_at, lastUsedAt: r.last_used_at, expiresAt: r.expires_at };
}

function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export class ApiTokenRepository {
  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
  ) {}

  /** A new token: the secret is returned once and only its hash is kept. */
  create(userId: number, name: string, lifetimeMs: number | null = null): { token: ApiToken; secret: string } {
    const now = this.clock.now();
    const secret = `${API_TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
    const info = this.db
      .prepare('INSERT INTO api_tokens (user_id, name, token_hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?)')
      .run(userId, name, hashToken(secret), now, lifetimeMs === null ? null : now + lifetimeMs);
    return { token: this.require(Number(info.lastInsertRowid)), secret };
  }

  require(id: number): ApiToken {
    const r = this.db.prepare('SELECT * FROM api_tokens WHERE id = ?').get(id) as TokenRow | undefined;
    if (!r) throw new NotFoundError('API token', id);
    return toToken(r);
  }

  list(userId?: number): ApiToken[] {
    const rows = (userId === undefined
      ? this.db.prepare('SELECT * FROM api_tokens ORDER BY id').all()
      : this.db.prepare('SELECT * FROM api_tokens WHERE user_id = ? ORDER BY id').all(userId)) as TokenRow[];
    return rows.map(toToken);
  }

  delete(id: number): void {
    if (this.db.prepare('DELETE FROM api_tokens WHERE id = ?').run(id).changes === 0) throw new NotFoundError('API token', id);
  }

  deleteForUser(userId: number): number {
    return this.db.prepare('DELETE FROM api_tokens WHERE user_id = ?').run(userId).changes;
  }

  /** The token's owner when the secret is valid and not expired; records its use (at most once a minute). */
  verify(secret: string): ApiToken | undefined {
    const r = this.db.prepare('SELECT * FROM api_tokens WHERE token_hash = ?').get(hashToken(secret)) as TokenRow | undefined;
    if (!r) return undefined;
    const now = this.clock.now();
    if (r.expires_at !== null && r.expires_at <= now) return undefined;
    if (r.last_used_at === null || now - r.last_used_at > 60_000) {
      this.db.prepare('UPDATE api_tokens SET last_used_at = ? WHERE id = ?').run(now, r.id);
      r.last_used_at = now;
    }
    return toToken(r);
  }
}
