// Bindings of the registrar: in-memory by extension (the REGISTER and lookup paths read only memory), written behind to
// SQLite in one transaction per flush (usrloc "write-back" as in Kamailio's db_mode 2).
import type { Database, Statement } from 'better-sqlite3';
import { detach } from '../message/index.js';
import type { Binding, BindingSource } from './binding.js';

interface RegistrationRow {
  extension_id: number;
  number: string | null;
  aor: string;
  contact: string;
  received: string;
  transport: string;
  call_id: string;
  cseq: number;
  expires_at: number;
  user_agent: string | null;
  instance_id: string | null;
  q: number;
}

function formatReceived(s: BindingSource): string {
  return s.address.includes(':') ? `[${s.address}]:${s.port}` : `${s.address}:${s.port}`;
}

function parseReceived(received: string, transport: string): BindingSource {
  const m = /^\[?([^\]]*?)\]?:(\d+)$/.exec(received);
  return {
    transport: transport === 'tcp' || transport === 'tls' ? transport : 'udp',
    address: m ? m[1]! : received,
    port: m ? Number(m[2]) : 5060,
  };
}

/**
 * A refresh that changes nothing but the expiry (and CSeq) is not written while the stored expiry still covers this
 * share of the newly granted time: a phone re-registering every few seconds costs no write, while one that refreshes
 * at half or 90 % of its interval (what phones do) is written every time. After a power cut a binding therefore
 * outlives the phone's next refresh (docs/sip-services.md, "Registrar").
 */
const UNWRITTEN_REFRESH_COVER = 0.9;

/**
 * Whether a REGISTER for binding `b` leaves its row as it is apart from expires_at, call_id and cseq. Call-ID and CSeq
 * only order the REGISTERs of one Call-ID (§10.3 step 7); a stored pair older than the one in memory only means that
 * after a restart a REGISTER is checked against the older pair, and the phone's next refresh writes its own.
 */
function keepsRow(b: Binding, source: BindingSource, userAgent: string | undefined, instanceId: string | undefined, q: number, aor: string): boolean {
  const s = b.source;
  return (
    s.address === source.address &&
    s.port === source.port &&
    s.transport === source.transport &&
    s.connectionId === source.connectionId &&
    b.userAgent === userAgent &&
    b.instanceId === instanceId &&
    b.q === q &&
    b.aor === aor
  );
}

/** The last change of one binding not yet on disk: upsert it, or delete it. */
type PendingChange = { op: 'put'; binding: Binding } | { op: 'delete'; extensionId: number; contact: string };

export interface BindingStoreOptions {
  /**
   * Called when a change is queued and no flush is scheduled: the owner schedules flush() soon (the registrar paces
   * it: the next turn after a quiet moment, at most 200 ms under a burst). A crash loses at most that wait's
   * refreshes; phones simply register again.
   */
  scheduleFlush?: () => void;
}

export class BindingStore {
  private readonly byExtension = new Map<number, Binding[]>();
  /** Changes not yet written, by binding key; only the last change of each binding matters. */
  private readonly pending = new Map<string, PendingChange>();
  private flushScheduled = false;
  private readonly scheduleFlush: (() => void) | undefined;
  private readonly upsertStmt: Statement;
  private readonly deleteOneStmt: Statement;
  private total = 0;
  /** Lower bound of the earliest expiry: the sweep does nothing before it. */
  private nextExpiry = Number.POSITIVE_INFINITY;

  constructor(
    private readonly db: Database,
    opts: BindingStoreOptions = {},
  ) {
    this.scheduleFlush = opts.scheduleFlush;
    this.upsertStmt = db.prepare(`INSERT INTO registrations
        (extension_id, aor, contact, received, transport, call_id, cseq, expires_at, user_agent, instance_id, q)
      VALUES (@extensionId, @aor, @contact, @received, @transport, @callId, @cseq, @expiresAt, @userAgent, @instanceId, @q)
      ON CONFLICT (extension_id, contact) DO UPDATE SET aor = excluded.aor, received = excluded.received,
        transport = excluded.transport, call_id = excluded.call_id, cseq = excluded.cseq, expires_at = excluded.expires_at,
        user_agent = excluded.user_agent, instance_id = excluded.instance_id, q = excluded.q`);
    this.deleteOneStmt = db.prepare('DELETE FROM registrations WHERE extension_id = ? AND contact = ?');
  }

  /**
   * Extension numbers with an unexpired binding as stored (read-only: what a command-line tool sees of a running
   * box; the registrar's write-behind may be up to a flush interval behind).
   */
  static registeredNumbers(db: Database, now: number): Set<string> {
    const rows = db.prepare('SELECT DISTINCT e.number AS number FROM registrations r JOIN extensions e ON e.id = r.extension_id WHERE r.expires_at > ?').all(now) as { number: string }[];
    return new Set(rows.map((r) => r.number));
  }

  /** Loads the live bindings after a restart and drops the ones that expired while Relais was down. */
  load(now: number): { loaded: number; expired: Binding[] } {
    this.byExtension.clear();
    this.total = 0;
    this.nextExpiry = Number.POSITIVE_INFINITY;
    const rows = this.db
      .prepare(`SELECT r.*, e.number AS number FROM registrations r LEFT JOIN extensions e ON e.id = r.extension_id`)
      .all() as RegistrationRow[];
    const expired: Binding[] = [];
    for (const r of rows) {
      const b: Binding = {
        extensionId: r.extension_id,
        extensionNumber: r.number ?? '',
        aor: r.aor,
        contact: r.contact,
        source: parseReceived(r.received, r.transport),
        callId: r.call_id,
        cseq: r.cseq,
        expiresAt: r.expires_at,
        userAgent: r.user_agent ?? undefined,
        instanceId: r.instance_id ?? undefined,
        q: r.q,
        persistedExpiresAt: r.expires_at,
      };
      if (b.expiresAt <= now) expired.push(b);
      else this.remember(b);
    }
    if (expired.length > 0) this.db.prepare('DELETE FROM registrations WHERE expires_at <= ?').run(now);
    return { loaded: this.total, expired };
  }

  get(extensionId: number): readonly Binding[] {
    return this.byExtension.get(extensionId) ?? [];
  }

  count(): number {
    return this.total;
  }

  extensionIds(): IterableIterator<number> {
    return this.byExtension.keys();
  }

  /** Adds or replaces the binding with the same contact (written with the next flush); returns whether it is new. */
  put(b: Binding): boolean {
    b.persistedExpiresAt = b.expiresAt;
    this.queue(b.extensionId, b.contact, { op: 'put', binding: b });
    const list = this.byExtension.get(b.extensionId);
    if (list) {
      for (let i = 0; i < list.length; i++) {
        if (list[i]!.contact === b.contact) {
          list[i] = b;
          if (b.expiresAt < this.nextExpiry) this.nextExpiry = b.expiresAt;
          return false;
        }
      }
    }
    this.remember(b);
    return true;
  }

  /**
   * A refresh of a binding that keeps its row (keepsRow): the binding is updated in place instead of being replaced,
   * so a phone re-registering leaves no object behind, and it is only written when the stored expiry no longer covers
   * UNWRITTEN_REFRESH_COVER of the new interval. Returns it, or undefined when there is no such binding (the caller
   * then puts a new one, which is written).
   */
  refresh(
    extensionId: number,
    contact: string,
    source: BindingSource,
    userAgent: string | undefined,
    instanceId: string | undefined,
    q: number,
    aor: string,
    callId: string,
    cseq: number,
    expiresAt: number,
    now: number,
  ): Binding | undefined {
    const list = this.byExtension.get(extensionId);
    if (!list) return undefined;
    for (const b of list) {
      if (b.contact !== contact) continue;
      if (!keepsRow(b, source, userAgent, instanceId, q, aor)) return undefined;
      // Copies only when it changed: a binding lives for the whole registration, a slice would keep the REGISTER.
      if (b.callId !== callId) b.callId = detach(callId);
      b.cseq = cseq;
      b.expiresAt = expiresAt;
      const stored = b.persistedExpiresAt;
      if (stored === undefined || stored - now < UNWRITTEN_REFRESH_COVER * (expiresAt - now)) {
        b.persistedExpiresAt = expiresAt;
        this.queue(extensionId, contact, { op: 'put', binding: b });
      }
      if (expiresAt < this.nextExpiry) this.nextExpiry = expiresAt;
      return b;
    }
    return undefined;
  }

  remove(extensionId: number, contact: string): Binding | undefined {
    const list = this.byExtension.get(extensionId);
    if (!list) return undefined;
    const i = list.findIndex((x) => x.contact === contact);
    if (i < 0) return undefined;
    this.queue(extensionId, contact, { op: 'delete', extensionId, contact });
    const [b] = list.splice(i, 1);
    this.total--;
    if (list.length === 0) this.byExtension.delete(extensionId);
    return b;
  }

  removeAll(extensionId: number): Binding[] {
    const list = this.byExtension.get(extensionId);
    if (!list) return [];
    for (const b of list) this.queue(extensionId, b.contact, { op: 'delete', extensionId, contact: b.contact });
    this.byExtension.delete(extensionId);
    this.total -= list.length;
    return list;
  }

  /** Removes and returns every binding expired at `now`; cheap when nothing can have expired yet. */
  sweep(now: number): Binding[] {
    if (now < this.nextExpiry) return [];
    const gone: Binding[] = [];
    let next = Number.POSITIVE_INFINITY;
    for (const [id, list] of this.byExtension) {
      for (let i = list.length - 1; i >= 0; i--) {
        const b = list[i]!;
        if (b.expiresAt <= now) {
          gone.push(b);
          list.splice(i, 1);
          this.queue(id, b.contact, { op: 'delete', extensionId: id, contact: b.contact });
        } else if (b.expiresAt < next) next = b.expiresAt;
      }
      if (list.length === 0) this.byExtension.delete(id);
    }
    this.total -= gone.length;
    this.nextExpiry = next;
    return gone;
  }

  /** Changes waiting for the next flush (health, tests). */
  pendingCount(): number {
    return this.pending.size;
  }

  /** Writes every queued change in one SQLite transaction. */
  flush(): void {
    this.flushScheduled = false;
    if (this.pending.size === 0) return;
    const changes = [...this.pending.entries()];
    this.pending.clear();
    try {
      this.writeAll(changes.map(([, c]) => c));
    } catch (err) {
      // Keep what failed for the next flush, unless a newer change of the same binding came meanwhile.
      for (const [key, c] of changes) if (!this.pending.has(key)) this.pending.set(key, c);
      throw err;
    }
  }

  private writeAll(changes: PendingChange[]): void {
    this.db.transaction(() => {
      for (const c of changes) {
        if (c.op === 'delete') {
          this.deleteOneStmt.run(c.extensionId, c.contact);
          continue;
        }
        const b = c.binding;
        this.upsertStmt.run({
          extensionId: b.extensionId,
          aor: b.aor,
          contact: b.contact,
          received: formatReceived(b.source),
          transport: b.source.transport,
          callId: b.callId,
          cseq: b.cseq,
          expiresAt: b.expiresAt,
          userAgent: b.userAgent ?? null,
          instanceId: b.instanceId ?? null,
          q: b.q,
        });
      }
    })();
  }

  private queue(extensionId: number, contact: string, change: PendingChange): void {
    // Only the last change of a binding is written; rows of different bindings do not depend on each other's order.
    this.pending.set(`${extensionId}\u0000${contact}`, change);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      if (this.scheduleFlush) this.scheduleFlush();
      else this.flush();
    }
  }

  private remember(b: Binding): void {
    let list = this.byExtension.get(b.extensionId);
    if (!list) {
      list = [];
      this.byExtension.set(b.extensionId, list);
    }
    list.push(b);
    this.total++;
    if (b.expiresAt < this.nextExpiry) this.nextExpiry = b.expiresAt;
  }
}
