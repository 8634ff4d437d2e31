// SQL of SIP bans (sip_bans) and security events (security_events): what the service and the CLI share.
import type { Database } from 'better-sqlite3';
import type { Ban, BanReason } from './auth-guard.js';

export interface SecurityEvent {
  id: number;
  /** Epoch ms. */
  at: number;
  /** sip.banned, sip.locked, sip.lifted, … */
  type: string;
  address?: string | undefined;
  user?: string | undefined;
  detail: Record<string, unknown>;
}

interface BanRow {
  address: string;
  user: string;
  kind: 'address' | 'extension';
  reason: BanReason;
  until: number;
  offence: number;
}

interface EventRow {
  id: number;
  at: number;
  type: string;
  address: string | null;
  user: string | null;
  detail: string;
}

/** Security events kept at most (oldest go first). */
const MAX_EVENTS = 10_000;

export class BanRepository {
  constructor(private readonly db: Database) {}

  /** Bans and locks not yet over at `now` (epoch ms). */
  active(now: number): Ban[] {
    const rows = this.db.prepare('SELECT * FROM sip_bans WHERE until > ? ORDER BY until DESC').all(now) as BanRow[];
    return rows.map((r) => ({
      kind: r.kind,
      address: r.address,
      user: r.user === '' ? undefined : r.user,
      reason: r.reason,
      until: r.until,
      offence: r.offence,
    }));
  }

  save(ban: Ban): void {
    const user = ban.kind === 'extension' ? (ban.user ?? '') : '';
    this.db
      .prepare(
        `INSERT INTO sip_bans (address, user, kind, reason, until, offence) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (address, user) DO UPDATE SET kind = excluded.kind, reason = excluded.reason, until = excluded.until, offence = excluded.offence`,
      )
      .run(ban.address, user, ban.kind, ban.reason, ban.until, ban.offence);
  }

  /** Removes the ban of `address` and its locks (only `user`'s when given); the number of rows removed. */
  remove(address: string, user?: string): number {
    if (user !== undefined) return this.db.prepare('DELETE FROM sip_bans WHERE address = ? AND user = ?').run(address, user).changes;
    return this.db.prepare('DELETE FROM sip_bans WHERE address = ?').run(address).changes;
  }

  /** Drops rows whose time is over. */
  prune(now: number): void {
    this.db.prepare('DELETE FROM sip_bans WHERE until <= ?').run(now);
  }

  addEvent(e: Omit<SecurityEvent, 'id'>): void {
    const { lastInsertRowid } = this.db
      .prepare('INSERT INTO security_events (at, type, address, user, detail) VALUES (?, ?, ?, ?, ?)')
      .run(e.at, e.type, e.address ?? null, e.user ?? null, JSON.stringify(e.detail));
    const id = Number(lastInsertRowid);
    if (id % 100 === 0) this.db.prepare('DELETE FROM security_events WHERE id <= ?').run(id - MAX_EVENTS);
  }

  /** Newest first. */
  events(limit = 100): SecurityEvent[] {
    const rows = this.db.prepare('SELECT * FROM security_events ORDER BY id DESC LIMIT ?').all(limit) as EventRow[];
    return rows.map((r) => ({
      id: r.id,
      at: r.at,
      type: r.type,
      address: r.address ?? undefined,
      user: r.user ?? undefined,
      detail: JSON.parse(r.detail) as Record<string, unknown>,
    }));
  }

  /** Changes when another connection (the CLI) committed: the service re-reads the bans then. */
  dataVersion(): number {
    return this.db.pragma('data_version', { simple: true }) as number;
  }
}
