// The INVITE dialogs alive now, on disk (table live_dialogs): written when a dialog is created (the answer), updated
// when its CSeq or remote target moves, deleted when it ends. After a crash the rows left are dialogs whose peers
// still think they are in a call; SipStack.start() sends each one a BYE, then forgets it (docs/security.md).
import type { Database, Statement } from 'better-sqlite3';
import type { TransportKind } from '../transport/index.js';
import type { DialogRole } from './dialog.js';

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
 * Writes are synchronous on purpose: a dialog answered a moment before a kill -9 must still get its BYE. It costs
 * two small writes per leg (WAL, synchronous=NORMAL: no fsync per commit), a few tens of microseconds each.
 */
export class DialogJournal {
  private readonly st: { put: Statement; remove: Statement; seq: Statement };
  private failures = 0;

  constructor(
    private readonly db: Database,
    private readonly onError: (err: unknown) => void = () => undefined,
  ) {
    this.st = {
      put: db.prepare(`INSERT INTO live_dialogs
          (id, role, call_id, local_tag, remote_tag, local, remote, local_seq, remote_target, route_set, transport, address, port, created_at)
        VALUES (@id, @role, @callId, @localTag, @remoteTag, @local, @remote, @localSeq, @remoteTarget, @routeSet, @transport, @address, @port, @createdAt)
        ON CONFLICT (id) DO UPDATE SET local_seq = excluded.local_seq, remote_target = excluded.remote_target`),
      remove: db.prepare('DELETE FROM live_dialogs WHERE id = ?'),
      seq: db.prepare('UPDATE live_dialogs SET local_seq = ?, remote_target = ? WHERE id = ?'),
    };
  }

  /** A dialog was created (or its CSeq / remote target moved): upsert its row. */
  put(d: JournalledDialog): void {
    this.guard(() =>
      this.st.put.run({
        id: d.id,
        role: d.role,
        callId: d.callId,
        localTag: d.localTag,
        remoteTag: d.remoteTag,
        local: d.local,
        remote: d.remote,
        localSeq: d.localSeq,
        remoteTarget: d.remoteTarget,
        routeSet: JSON.stringify(d.routeSet),
        transport: d.flow.transport,
        address: d.flow.address,
        port: d.flow.port,
        createdAt: d.createdAt,
      }),
    );
  }

  /** A later request moved the CSeq (re-INVITE, UPDATE, session refresh) or a target refresh moved the peer. */
  update(id: string, localSeq: number, remoteTarget: string): void {
    this.guard(() => this.st.seq.run(localSeq, remoteTarget, id));
  }

  remove(id: string): void {
    this.guard(() => this.st.remove.run(id));
  }

  /** Every dialog on disk (at start: the ones a crash left behind). */
  list(): JournalledDialog[] {
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
      flow: { transport: r.transport === 'tcp' || r.transport === 'tls' ? r.transport : 'udp', address: r.address, port: r.port },
      createdAt: r.created_at,
    }));
  }

  clear(): void {
    this.guard(() => this.db.prepare('DELETE FROM live_dialogs').run());
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

function parseRouteSet(text: string): string[] {
  try {
    const v = JSON.parse(text) as unknown;
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
  } catch {
    return [];
  }
}
