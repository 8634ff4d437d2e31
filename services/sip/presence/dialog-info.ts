// The dialog event package body (RFC 4235 application/dialog-info+xml), as BLF keys on desk phones read it.

export const DIALOG_INFO_TYPE = 'application/dialog-info+xml';

/** What a BLF lamp shows: idle (off), early (blinking: ringing), confirmed (on: busy). */
export type BlfState = 'idle' | 'early' | 'confirmed';

export interface DialogInfoDetail {
  /** Dialog id (e.g. the Call-ID); one is made up from the entity when absent. */
  id?: string | undefined;
  /** RFC 4235 §4.1.1: "initiator" when the entity placed the call, "recipient" when it is being called. */
  direction?: 'initiator' | 'recipient' | undefined;
  /** The other party (URI), shown by some phones on the key (and used for directed pickup). */
  remote?: string | undefined;
  remoteDisplay?: string | undefined;
  callId?: string | undefined;
  localTag?: string | undefined;
  remoteTag?: string | undefined;
}

/**
 * One call of the entity as a dialog element. `terminated` (RFC 4235 §3.7.1) reports a dialog that ended since
 * the subscriber's last NOTIFY; it never lights a lamp.
 */
export interface DialogEntry {
  state: Exclude<BlfState, 'idle'> | 'terminated';
  detail?: DialogInfoDetail | undefined;
}

export interface DialogInfoDocument {
  entity: string;
  version: number;
  /** Current calls of the entity; empty = idle. */
  dialogs: readonly DialogEntry[];
}

export function xmlEscape(s: string): string {
  return s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/** The lamp state of a set of calls: confirmed beats early beats idle. */
export function aggregateState(dialogs: readonly DialogEntry[]): BlfState {
  let state: BlfState = 'idle';
  for (const d of dialogs) {
    if (d.state === 'confirmed') return 'confirmed';
    if (d.state === 'early') state = 'early';
  }
  return state;
}

/** The id of the n-th (from 1) dialog element of an entity's document: its own id, its Call-ID, or made up. */
export function dialogIdOf(entity: string, entry: DialogEntry, n: number): string {
  const d = entry.detail ?? {};
  return d.id ?? d.callId ?? `${entity.replace(/[^A-Za-z0-9]/g, '')}-${n}`;
}

/**
 * The dialogs of a NOTIFY to one subscriber: the current ones, then — once — each dialog of its previous NOTIFY
 * that is gone, as `terminated` with the same id (RFC 4235 §3.7.1: a lamp goes off on a terminated dialog, as
 * phones expect, rather than on an empty document). `shown` is what that previous NOTIFY listed; the new one is
 * returned for the next time.
 */
export function withEndedDialogs(
  entity: string,
  current: readonly DialogEntry[],
  shown: ReadonlyMap<string, DialogInfoDetail>,
): { dialogs: DialogEntry[]; shown: Map<string, DialogInfoDetail> } {
  const next = new Map<string, DialogInfoDetail>();
  const dialogs: DialogEntry[] = [];
  current.forEach((entry, i) => {
    if (entry.state === 'terminated') return;
    const id = dialogIdOf(entity, entry, i + 1);
    next.set(id, { ...(entry.detail ?? {}), id });
    dialogs.push({ state: entry.state, detail: { ...(entry.detail ?? {}), id } });
  });
  for (const [id, detail] of shown) if (!next.has(id)) dialogs.push({ state: 'terminated', detail });
  return { dialogs, shown: next };
}

/**
 * RFC 4235 §4.1: a full-state document; each current call is one dialog element, and a call that ended since the
 * subscriber's last NOTIFY is listed once as `terminated` (withEndedDialogs), which is what Yealink, Polycom, Snom
 * and Grandstream read as "lamp off" (as Asterisk sends it); an entity idle from the start has no dialog element.
 */
export function formatDialogInfo(doc: DialogInfoDocument): string {
  let out = `<?xml version="1.0" encoding="UTF-8"?>\r\n<dialog-info xmlns="urn:ietf:params:xml:ns:dialog-info" version="${doc.version}" state="full" entity="${xmlEscape(doc.entity)}">\r\n`;
  let n = 0;
  for (const entry of doc.dialogs) {
    n++;
    const d = entry.detail ?? {};
    const id = dialogIdOf(doc.entity, entry, n);
    let attrs = ` id="${xmlEscape(id)}"`;
    if (d.callId) attrs += ` call-id="${xmlEscape(d.callId)}"`;
    if (d.localTag) attrs += ` local-tag="${xmlEscape(d.localTag)}"`;
    if (d.remoteTag) attrs += ` remote-tag="${xmlEscape(d.remoteTag)}"`;
    if (d.direction) attrs += ` direction="${d.direction}"`;
    out += `  <dialog${attrs}>\r\n    <state>${entry.state}</state>\r\n`;
    if (d.remote) {
      const display = d.remoteDisplay ? ` display="${xmlEscape(d.remoteDisplay)}"` : '';
      out += `    <remote>\r\n      <identity${display}>${xmlEscape(d.remote)}</identity>\r\n      <target uri="${xmlEscape(d.remote)}"/>\r\n    </remote>\r\n`;
    }
    out += `    <local>\r\n      <identity>${xmlEscape(doc.entity)}</identity>\r\n    </local>\r\n  </dialog>\r\n`;
  }
  return out + '</dialog-info>\r\n';
}
