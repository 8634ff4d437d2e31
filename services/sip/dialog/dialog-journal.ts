// The INVITE dialogs alive now, on disk (table live_dialogs): written when a dialog is created (the answer), updated
// when its CSeq or remote target moves, deleted when it ends. After a crash the rows left are dialogs whose peers
// still think they are in a call; SipStack.start() sends each one a BYE, then forgets it (docs/security.md).
// INVITEs still ringing are kept as well (table ringing_invites): a caller's INVITE gets its final response and a
// callee we were ringing gets a CANCEL after the restart.
import type { Database, Statement } from 'better-sqlite3';
import type { TransportKind } from '../transport/index.js';
import type { DialogRole } from './dialog.js';
import { type Clock, SystemClock, WritePacer, type WritePacerOptions } from '../../shared/index.js';

/** What a BYE needs to reach the peer and match its dialog (RFC 3261 §12.2.1.1, §15.1.1). */
export interface JournalledDialog {
  id: string;
  role: DialogRole;
  callId: string;
  localTag: string;
  remoteTag: string;
  /** Our From (UAC) or To (UAS) with our tag, formatted. */
  local: string;
  /** The peer's name-addr with its tag, formatted. */
  remote: string;
  /** The last CSeq number we sent in this dialog. */
  localSeq: number;
  remoteTarget: string;
  routeSet: string[];
  flow: { transport: TransportKind; address: string; port: number };
  createdAt: number;
}

/**
 * An INVITE transaction that was ringing: ours toward a callee ('uac': enough to CANCEL it, §9.1) or a caller's
 * toward us ('uas': enough to send its final response, §8.2.6).
 */
export interface JournalledInvite {
  /** 'uac:' or 'uas:' and the transaction's branch. */
  id: string;
  role: DialogRole;
  callId: string;
  /**
   * The INVITE without its body, serialized: Request-URI, Via (ours alone for 'uac', the caller's whole stack for
   * 'uas'), From, To, Call-ID, CSeq and Route.
   */
  message: string;
  /** The To tag of our provisional responses ('uas'). */
  toTag: string;
  flow: { transport: TransportKind; address: string; port: number };
  createdAt: number;
}

/** What putInvite takes: the INVITE's text may be given as a function, called only if the row is written. */
export type RingingInvite = Omit<JournalledInvite, 'message'> & { message: string | (() => string) };

interface InviteRow {
  id: string;
  role: DialogRole;
  call_id: string;
  message: string;
  to_tag: string;
  transport: string;
  address: string;
  port: number;
  created_at: number;
}

interface Row {
  id: string;
  role: DialogRole;
  call_id: string;
  local_tag: string;
  remote_tag: string;
  local: string;
  remote: string;
  local_seq: number;
  remote_target: string;
  route_set: string;
  transport: string;
  address: string;
  port: number;
  created_at: number;
}

/**
 * The longest a journal change waits to be written, under a burst of calls. After a quiet moment a change is written
 * on the next turn of the event loop, and the wait in between grows with what the commits cost (WritePacer).
 */
export const JOURNAL_FLUSH_MS = 50;

type Pending =
  | { kind: 'put'; d: JournalledDialog }
  | { kind: 'update'; localSeq: number; remoteTarget: string }
  | { kind: 'remove' }
  | { kind: 'put-invite'; inv: RingingInvite }
  | { kind: 'remove-invite' };

/** Ringing INVITEs share the pending map with dialogs under this prefix (their ids never start with it). */
const INVITE_KEY = 'invite\u0000';

/**
 * Changes are written behind, paced by WritePacer: a change after a quiet moment on the next turn of the event loop;
 * under a burst, the changes of a wait that grows with the commits' cost (at most JOURNAL_FLUSH_MS) together, in one
 * transaction. One autocommit per change cost about 0.17 ms of the event loop each (three per call leg), and a ring
 * that ends within the wait never touches the disk. The price, only under a burst: a dialog answered within the
 * last wait before a kill -9 gets no BYE after the restart (docs/security.md "After a crash"). A graceful stop
 * writes everything first (flush()).
 */
export class DialogJournal {
  private readonly st: { put: Statement; remove: Statement; seq: Statement; putInvite: Statement; removeInvite: Statement };
  private failures = 0;
  private readonly pending = new Map<string, Pending>();
  /** Ids with a row on disk (so that a remove of a never-written dialog costs nothing). */
  private readonly written = new Set<string>();
  private readonly pacer: WritePacer;
  /** One transaction for a flush's changes, made once (better-sqlite3 builds a wrapper per transaction() call). */
  private readonly writeBatch: (ops: Array<[string, Pending]>) => void;

  constructor(
    private readonly db: Database,
    private readonly onError: (err: unknown) => void = () => undefined,
    pacing: WritePacerOptions = { maxIntervalMs: JOURNAL_FLUSH_MS },
    clock: Clock = new SystemClock(),
  ) {
    this.pacer = new WritePacer(clock, pacing, () => this.flush());
    this.st = {
      // Positional parameters: binding from an object looks every name up per row.
      put: db.prepare(`INSERT INTO live_dialogs
          (id, role, call_id, local_tag, remote_tag, local, remote, local_seq, remote_target, route_set, transport, address, port, created_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (id) DO UPDATE SET local_seq = excluded.local_seq, remote_target = excluded.remote_target`),
      remove: db.prepare('DELETE FROM live_dialogs WHERE id = ?'),
      seq: db.prepare('UPDATE live_dialogs SET local_seq = ?, remote_target = ? WHERE id = ?'),
      putInvite: db.prepare(`INSERT OR REPLACE INTO ringing_invites (id, role, call_id, message, to_tag, transport, address, port, created_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      removeInvite: db.prepare('DELETE FROM ringing_invites WHERE id = ?'),
    };
    this.writeBatch = db.transaction((ops: Array<[string, Pending]>) => this.write(ops));
  }

  /** A dialog was created (or its CSeq / remote target moved): upsert its row. */
  put(d: JournalledDialog): void {
    this.pending.set(d.id, { kind: 'put', d: { ...d } });
    this.schedule();
  }

  /** A later request moved the CSeq (re-INVITE, UPDATE, session refresh) or a target refresh moved the peer. */
  update(id: string, localSeq: number, remoteTarget: string): void {
    const p = this.pending.get(id);
    if (p?.kind === 'remove') return;
    if (p?.kind === 'put') {
      p.d.localSeq = localSeq;
      p.d.remoteTarget = remoteTarget;
      return;
    }
    this.pending.set(id, { kind: 'update', localSeq, remoteTarget });
    this.schedule();
  }

  remove(id: string): void {
    if (this.written.has(id)) {
      this.pending.set(id, { kind: 'remove' });
      this.schedule();
    } else {
      this.pending.delete(id);
    }
  }

  /** An INVITE started ringing (its first provisional response): kept until its final response. */
  putInvite(inv: RingingInvite): void {
    this.pending.set(INVITE_KEY + inv.id, { kind: 'put-invite', inv });
    this.schedule();
  }

  /** The INVITE got its final response (or was given up): a ring shorter than the flush delay costs no write. */
  removeInvite(id: string): void {
    const key = INVITE_KEY + id;
    if (this.written.has(key)) {
      this.pending.set(key, { kind: 'remove-invite' });
      this.schedule();
    } else {
      this.pending.delete(key);
    }
  }

  /** Writes every waiting change now, in one transaction. */
  flush(): void {
    if (this.pending.size === 0) {
      this.pacer.cancel();
      return;
    }
    const ops = [...this.pending];
    this.pending.clear();
    this.pacer.write(() => this.guard(() => this.writeBatch(ops)));
  }

  private write(ops: Array<[string, Pending]>): void {
    for (const [id, op] of ops) {
      if (op.kind === 'put') {
        const d = op.d;
        this.st.put.run(d.id, d.role, d.callId, d.localTag, d.remoteTag, d.local, d.remote, d.localSeq, d.remoteTarget, JSON.stringify(d.routeSet), d.flow.transport, d.flow.address, d.flow.port, d.createdAt);
        this.written.add(id);
      } else if (op.kind === 'update') {
        this.st.seq.run(op.localSeq, op.remoteTarget, id);
      } else if (op.kind === 'put-invite') {
        const i = op.inv;
        // The INVITE's text is made now, not when it started ringing: most are answered within the flush delay.
        let message: string;
        try {
          message = typeof i.message === 'function' ? i.message() : i.message;
        } catch (err) {
          this.failures++; // this row only: the rest of the batch is written
          this.onError(err);
          continue;
        }
        this.st.putInvite.run(i.id, i.role, i.callId, message, i.toTag, i.flow.transport, i.flow.address, i.flow.port, i.createdAt);
        this.written.add(id);
      } else if (op.kind === 'remove-invite') {
        this.st.removeInvite.run(id.slice(INVITE_KEY.length));
        this.written.delete(id);
      } else {
        this.st.remove.run(id);
        this.written.delete(id);
      }
    }
  }

  private schedule(): void {
    this.pacer.changed();
  }

  /** Every dialog on disk (at start: the ones a crash left behind). */
  list(): JournalledDialog[] {
    this.flush();
    const rows = this.db.prepare('SELECT * FROM live_dialogs ORDER BY created_at, id').all() as Row[];
    return rows.map((r) => ({
      id: r.id,
      role: r.role,
      callId: r.call_id,
      localTag: r.local_tag,
      remoteTag: r.remote_tag,
      local: r.local,
      remote: r.remote,
      localSeq: r.local_seq,
      remoteTarget: r.remote_target,
      routeSet: parseRouteSet(r.route_set),
      flow: { transport: transportOf(r.transport), address: r.address, port: r.port },
      createdAt: r.created_at,
    }));
  }

  /** Every ringing INVITE on disk (at start: the ones a crash left behind). */
  listInvites(): JournalledInvite[] {
    this.flush();
    const rows = this.db.prepare('SELECT * FROM ringing_invites ORDER BY created_at, id').all() as InviteRow[];
    return rows.map((r) => ({
      id: r.id,
      role: r.role,
      callId: r.call_id,
      message: r.message,
      toTag: r.to_tag,
      flow: { transport: transportOf(r.transport), address: r.address, port: r.port },
      createdAt: r.created_at,
    }));
  }

  clear(): void {
    this.pending.clear();
    this.written.clear();
    this.guard(() => {
      this.db.prepare('DELETE FROM live_dialogs').run();
      this.db.prepare('DELETE FROM ringing_invites').run();
    });
  }

  /** Writes that failed (a full disk, a closed database): counted, reported, never thrown into the SIP path. */
  get writeFailures(): number {
    return this.failures;
  }

  private guard(op: () => unknown): void {
    if (!this.db.open) return;
    try {
      op();
    } catch (err) {
      this.failures++;
      this.onError(err);
    }
  }
}

function transportOf(text: string): TransportKind {
  return text === 'tcp' || text === 'tls' ? text : 'udp';
}

function parseRouteSet(text: string): string[] {
  try {
    const v = JSON.parse(text) as unknown;
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
  } catch {
    return [];
  }
}
