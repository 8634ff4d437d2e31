// Notifier for SUBSCRIBE/NOTIFY (RFC 6665): BLF via the dialog package (RFC 4235), MWI via message-summary (RFC 3842).
import { randomToken, TypedEmitter, errorMessage, type Clock, type Logger, type Module, type ModuleHealth } from '../../shared/index.js';
import type { Extension } from '../../directory/index.js';

/** What presence reads of the extensions (ExtensionRepository fits). */
export interface PresenceLookup {
  findByNumber(number: string): Extension | undefined;
  findBySipUsername(username: string): Extension | undefined;
}
import type { AuthGuard, DigestServer } from '../auth/index.js';
import { SipParseError, type SipRequest, type SipResponse } from '../message/index.js';
import type { BindingSource } from '../registrar/index.js';
import { aggregateState, DIALOG_INFO_TYPE, formatDialogInfo, withEndedDialogs, type DialogEntry, type DialogInfoDetail, type BlfState } from './dialog-info.js';
import { formatMessageSummary, MESSAGE_SUMMARY_TYPE, type MailboxState } from './message-summary.js';
import { Subscription, type EventPackageName, type TerminationReason } from './subscription.js';

export interface PresenceSendOptions {
  headers?: Record<string, string | string[]>;
  body?: string;
  contentType?: string;
}

/** The part of SipStack presence needs. */
export interface PresenceSipHost {
  use(
    method: string,
    handler: (
      req: { msg: SipRequest; source: BindingSource },
      res: { send(status: number, reason?: string, opts?: PresenceSendOptions): unknown },
      next: () => void,
    ) => void | Promise<void>,
  ): unknown;
  request(opts: {
    method: string;
    uri: string;
    headers?: Record<string, string | string[]>;
    body?: string;
    contentType?: string;
    target?: { address: string; port: number; transport: 'udp' | 'tcp' | 'tls'; connectionId?: string | undefined };
  }): Promise<SipResponse>;
}

/**
 * An event package served by another module (e.g. provisioning's ua-profile): it answers the SUBSCRIBE itself,
 * with `after` sending its NOTIFY once the response is out.
 */
export type EventPackageHandler = (req: SipRequest, source: BindingSource) => HandleResult;

/**
 * Initial state of entities nobody has set yet (e.g. the queue module for *41/*42 login codes). `subscriber` is the
 * watching extension when the state depends on who watches (a login lamp shows the watcher's own login).
 */
export type DialogStateProvider = (entity: string, subscriber?: string) => BlfState | DialogEntry[] | undefined;

export interface PresenceOptions {
  extensions: PresenceLookup;
  /** Shared with the registrar: same realm and nonces. */
  digest: DigestServer;
  /** Wrong passwords on SUBSCRIBE count towards banning the address (shared with the registrar). */
  guard?: AuthGuard;
  clock: Clock;
  logger: Logger;
  domain: string;
  /** Our Contact URI for the subscription dialogs, as seen from a subscriber at `source`. */
  contact: (source: BindingSource) => string;
  /** RFC 6665 §4.2.1.1: shorter non-zero requests get 423 (default 60 s). */
  minExpires?: number;
  maxExpires?: number;
  /** RFC 4235 §3.2 and RFC 3842 §4.5: 3600 s when the SUBSCRIBE has no Expires. */
  defaultExpires?: number;
  /** Challenge SUBSCRIBE with digest (default true). */
  authenticate?: boolean;
}

export interface PresenceEvents {
  [event: string]: unknown[];
  subscribed: [{ event: EventPackageName; entity: string; subscriber: string }];
  terminated: [{ event: EventPackageName; entity: string; subscriber: string; reason: TerminationReason }];
  /** A NOTIFY was answered (status) or failed (0): lets tests and health watch delivery. */
  notified: [{ event: EventPackageName; entity: string; subscriber: string; status: number; state: string }];
}

const PACKAGES: Record<EventPackageName, string> = { dialog: DIALOG_INFO_TYPE, 'message-summary': MESSAGE_SUMMARY_TYPE };
const ALLOW_EVENTS = 'dialog, message-summary';

/** "sip:1001@relais.test" or "1001" → "1001"; feature codes keep their star ("%2A41" arrives decoded). */
export function entityOf(uriOrEntity: string): string {
  let s = uriOrEntity.trim();
  const m = /^<?(?:sips?|tel):([^@;>]*)/i.exec(s);
  if (m) s = m[1]!;
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function sameDetail(a: DialogInfoDetail | undefined, b: DialogInfoDetail): boolean {
  const x = a ?? {};
  return x.id === b.id && x.direction === b.direction && x.remote === b.remote && x.remoteDisplay === b.remoteDisplay &&
    x.callId === b.callId && x.localTag === b.localTag && x.remoteTag === b.remoteTag;
}

export class PresenceServer extends TypedEmitter<PresenceEvents> implements Module {
  readonly name = 'presence';
  private readonly opts: PresenceOptions;
  private readonly log: Logger;
  private sip: PresenceSipHost | undefined;
  private readonly minExpires: number;
  private readonly maxExpires: number;
  private readonly defaultExpires: number;
  private readonly subs = new Map<string, Subscription>();
  private readonly byEntity = new Map<string, Set<Subscription>>();
  /** Explicit dialog state per entity (call layer, queue module), one entry per call. */
  private readonly dialogs = new Map<string, Map<string, DialogEntry>>();
  private readonly mailboxes = new Map<string, MailboxState>();
  private readonly providers: Array<{ match: (entity: string) => boolean; provider: DialogStateProvider }> = [];
  private readonly packages = new Map<string, EventPackageHandler>();
  private running = false;
  private counters = { subscribes: 0, notifies: 0, notifyFailures: 0 };

  constructor(opts: PresenceOptions) {
    super();
    this.opts = opts;
    this.log = opts.logger.child({ module: 'presence' });
    this.minExpires = opts.minExpires ?? 60;
    this.maxExpires = opts.maxExpires ?? 3600;
    this.defaultExpires = opts.defaultExpires ?? 3600;
  }

  async start(): Promise<void> {
    this.running = true;
  }

  async stop(): Promise<void> {
    this.running = false;
    // Subscriptions do not survive a restart: a phone's next refresh gets 481 and it subscribes afresh.
    for (const s of this.subs.values()) this.opts.clock.clearTimeout(s.expiryTimer);
    this.subs.clear();
    this.byEntity.clear();
  }

  health(): ModuleHealth {
    return { status: this.running ? 'ok' : 'down', detail: { subscriptions: this.subs.size, ...this.counters } };
  }

  attach(sip: PresenceSipHost): void {
    this.sip = sip;
    sip.use('SUBSCRIBE', (req, res) => {
      const out = this.safeHandle(req.msg, req.source);
      res.send(out.status, out.reason, { headers: out.headers });
      out.after?.();
    });
  }

  // ---------------------------------------------------------------- state API for the call layer and queues

  /**
   * The BLF state of an entity (extension number or feature code). With detail.callId, each call is tracked on
   * its own (two calls, one ends: the lamp stays on); idle without a callId clears every call of the entity.
   */
  setDialogState(entity: string, state: BlfState, detail?: DialogInfoDetail): void {
    const key = entityOf(entity);
    let calls = this.dialogs.get(key);
    // The first explicit state replaces a provider's: count it as a change.
    let changed = !calls;
    if (!calls) {
      calls = new Map();
      this.dialogs.set(key, calls);
    }
    const callKey = detail?.callId ?? detail?.id ?? '';
    if (state === 'idle') {
      if (callKey === '') {
        changed ||= calls.size > 0;
        calls.clear();
      } else {
        changed = calls.delete(callKey) || changed;
      }
    } else {
      // The call layer repeats itself (each leg going idle, say): only a real change of this call is worth a
      // NOTIFY, and the comparison looks at this call only (an extension may have many calls at once).
      const cur = calls.get(callKey);
      const merged: DialogInfoDetail = { ...(cur?.detail ?? {}), ...(detail ?? {}) };
      changed ||= !cur || cur.state !== state || !sameDetail(cur.detail, merged);
      calls.set(callKey, { state, detail: merged });
    }
    if (changed) this.notifyEntity('dialog', key);
  }

  /** Aggregated lamp state of an entity. */
  dialogState(entity: string): BlfState {
    return aggregateState(this.currentDialogs(entityOf(entity)));
  }

  /** Mailbox counts of an extension; subscribers of its message-summary get a NOTIFY when they change. */
  setMailbox(extension: string, box: MailboxState): void {
    const key = entityOf(extension);
    const cur = this.mailboxes.get(key);
    if (cur && cur.newMessages === box.newMessages && cur.oldMessages === box.oldMessages) return;
    this.mailboxes.set(key, { newMessages: box.newMessages, oldMessages: box.oldMessages });
    this.notifyEntity('message-summary', key);
  }

  /** Makes entities matching `match` subscribable, with `provider` giving their state until someone sets it. */
  addStateProvider(match: RegExp | ((entity: string) => boolean), provider: DialogStateProvider): void {
    const fn = match instanceof RegExp ? (e: string): boolean => match.test(e) : match;
    this.providers.push({ match: fn, provider });
  }

  /** Serves SUBSCRIBEs of another event package (RFC 6665 §7.2) through `handler`; listed in Allow-Events. */
  addEventPackage(name: string, handler: EventPackageHandler): void {
    this.packages.set(name.toLowerCase(), handler);
  }

  /** A provider's state changed: its subscribers get a NOTIFY with their current state. */
  refreshEntity(entity: string): void {
    this.notifyEntity('dialog', entityOf(entity));
  }

  subscriptionCount(event?: EventPackageName): number {
    if (!event) return this.subs.size;
    let n = 0;
    for (const s of this.subs.values()) if (s.event === event) n++;
    return n;
  }

  // ---------------------------------------------------------------- SUBSCRIBE (RFC 6665 §4.2.1)

  private safeHandle(req: SipRequest, source: BindingSource): HandleResult {
    this.counters.subscribes++;
    try {
      return this.handleSubscribe(req, source);
    } catch (err) {
      if (err instanceof SipParseError) return { status: 400, reason: err.message.slice(0, 120), headers: {} };
      this.log.error('SUBSCRIBE handling failed', { error: errorMessage(err) });
      return { status: 500, headers: {} };
    }
  }

  /** Handles one SUBSCRIBE; `after` sends the NOTIFY that must follow the 200. Exposed for tests. */
  handleSubscribe(req: SipRequest, source: BindingSource): HandleResult {
    const eventHeader = req.get('event');
    const event = (eventHeader ?? '').split(';')[0]!.trim().toLowerCase();
    const other = this.packages.get(event);
    if (other) return other(req, source);
    if (event !== 'dialog' && event !== 'message-summary') {
      // RFC 6665 §4.2.1.1: unknown package → 489 with Allow-Events.
      return { status: 489, headers: { 'Allow-Events': [ALLOW_EVENTS, ...this.packages.keys()].join(', ') } };
    }
    const accept = req.getAll('accept');
    if (accept.length > 0 && !accept.some((a) => a.split(';')[0]!.trim().toLowerCase() === PACKAGES[event] || a.trim() === '*/*')) {
      return { status: 406, headers: { Accept: PACKAGES[event] } };
    }
    let expires = req.expires ?? this.defaultExpires;
    if (expires > 0 && expires < this.minExpires) return { status: 423, headers: { 'Min-Expires': String(this.minExpires) } };
    if (expires > this.maxExpires) expires = this.maxExpires;

    const toTag = req.to().tag;
    if (toTag !== undefined) return this.refresh(req, source, toTag, expires);

    // Out-of-dialog: authenticate the subscriber (the phone of an extension).
    let subscriber = '';
    if (this.opts.authenticate ?? true) {
      const checked = this.opts.digest.verify({
        authorization: req.getAll('authorization'),
        method: 'SUBSCRIBE',
        requestUri: req.uri,
        source: source.address,
        account: (u) => {
          const ext = this.opts.extensions.findBySipUsername(u);
          return ext ? { ha1Md5: ext.ha1Md5, ha1Sha256: ext.ha1Sha256, algorithms: ext.digestAlgorithm } : undefined;
        },
      });
      const verdict = this.opts.guard ? this.opts.guard.judge(source.address, checked) : checked;
      if (!verdict.ok) {
        if (verdict.reason === 'malformed') return { status: 400, reason: 'Bad Authorization header', headers: {} };
        return { status: 401, headers: { 'WWW-Authenticate': this.opts.digest.challengeFor(req.from().uri.user, verdict.stale, source.address) } };
      }
      subscriber = this.opts.extensions.findBySipUsername(verdict.username)?.number ?? verdict.username;
    } else {
      subscriber = req.from().uri.user ?? '';
    }

    const entity = entityOf(req.ruri.user ?? '');
    if (event === 'message-summary') {
      // A mailbox is private: only its own extension may watch it (an empty user part means "my mailbox").
      if (entity !== '' && entity !== subscriber) return { status: 403, reason: 'Only the mailbox owner may subscribe', headers: {} };
    } else if (!this.knownEntity(entity)) {
      return { status: 404, reason: `No such extension or feature code "${entity}"`, headers: {} };
    }
    const target = entity === '' ? subscriber : entity;
    const contact = req.contacts()[0];
    if (!contact) return { status: 400, reason: 'SUBSCRIBE needs a Contact', headers: {} };
    const fromTag = req.from().tag;
    if (!fromTag) return { status: 400, reason: 'SUBSCRIBE needs a From tag', headers: {} };

    const localTag = randomToken(6);
    const to = req.to();
    const from = req.from();
    const sub = new Subscription(
      `${req.callId}|${localTag}`,
      event,
      target,
      subscriber,
      req.callId,
      localTag,
      fromTag,
      `<${to.uri.format()}>`,
      from.displayName ? `"${from.displayName.replace(/"/g, '')}" <${from.uri.format()}>` : `<${from.uri.format()}>`,
      contact.uri.format(),
      req.getAll('record-route'),
      source,
      this.opts.clock.now() + expires * 1000,
    );
    const toWithTag = `${to.format()};tag=${localTag}`;
    const headers = { To: toWithTag, Contact: `<${this.opts.contact(source)}>`, Expires: String(expires) };
    if (expires === 0) {
      // RFC 6665 §4.2.1.4: a fetch: one NOTIFY with the state, the subscription terminated at once.
      return { status: 200, headers, after: () => this.sendNotify(sub, 'timeout') };
    }
    this.subs.set(sub.key, sub);
    let set = this.byEntity.get(this.indexKey(event, target));
    if (!set) {
      set = new Set();
      this.byEntity.set(this.indexKey(event, target), set);
    }
    set.add(sub);
    this.armExpiry(sub);
    this.emit('subscribed', { event, entity: target, subscriber });
    return { status: 200, headers, after: () => this.sendNotify(sub) };
  }

  /** In-dialog SUBSCRIBE: refresh or unsubscribe (RFC 6665 §4.2.1.2, §4.2.1.3). */
  private refresh(req: SipRequest, source: BindingSource, toTag: string, expires: number): HandleResult {
    const sub = this.subs.get(`${req.callId}|${toTag}`);
    if (!sub || sub.remoteTag !== req.from().tag) return { status: 481, headers: {} };
    const contact = req.contacts()[0];
    if (contact) sub.remoteTarget = contact.uri.format();
    sub.source = source;
    const headers = { Contact: `<${this.opts.contact(source)}>`, Expires: String(expires) };
    if (expires === 0) {
      return { status: 200, headers, after: () => this.terminate(sub, 'timeout') };
    }
    sub.expiresAt = this.opts.clock.now() + expires * 1000;
    this.armExpiry(sub);
    return { status: 200, headers, after: () => this.sendNotify(sub) };
  }

  private knownEntity(entity: string): boolean {
    if (entity === '') return false;
    if (this.dialogs.has(entity)) return true;
    if (this.providers.some((p) => p.match(entity))) return true;
    return this.opts.extensions.findByNumber(entity) !== undefined;
  }

  private indexKey(event: EventPackageName, entity: string): string {
    return `${event}|${entity}`;
  }

  private armExpiry(sub: Subscription): void {
    this.opts.clock.clearTimeout(sub.expiryTimer);
    const ms = Math.max(0, sub.expiresAt - this.opts.clock.now());
    sub.expiryTimer = this.opts.clock.setTimeout(() => this.terminate(sub, 'timeout'), ms);
  }

  /** Ends a subscription with a final NOTIFY (RFC 6665 §4.2.2: Subscription-State: terminated;reason=...). */
  private terminate(sub: Subscription, reason: TerminationReason, sendNotify = true): void {
    if (sub.state === 'terminated') return;
    this.forget(sub);
    if (sendNotify) this.sendNotify(sub, reason);
    else sub.transition('terminated');
    this.emit('terminated', { event: sub.event, entity: sub.entity, subscriber: sub.subscriber, reason });
  }

  private forget(sub: Subscription): void {
    this.opts.clock.clearTimeout(sub.expiryTimer);
    sub.expiryTimer = undefined;
    this.subs.delete(sub.key);
    const set = this.byEntity.get(this.indexKey(sub.event, sub.entity));
    if (set) {
      set.delete(sub);
      if (set.size === 0) this.byEntity.delete(this.indexKey(sub.event, sub.entity));
    }
  }

  // ---------------------------------------------------------------- NOTIFY (RFC 6665 §4.2.2)

  private notifyEntity(event: EventPackageName, entity: string): void {
    const set = this.byEntity.get(this.indexKey(event, entity));
    if (!set) return;
    for (const sub of set) this.sendNotify(sub);
  }

  private currentDialogs(entity: string, subscriber?: string): DialogEntry[] {
    const calls = this.dialogs.get(entity);
    if (calls) return [...calls.values()];
    for (const p of this.providers) {
      if (!p.match(entity)) continue;
      const v = p.provider(entity, subscriber);
      if (v === undefined) continue;
      if (typeof v === 'string') return v === 'idle' ? [] : [{ state: v }];
      return v;
    }
    return [];
  }

  /** The subscriber's dialog-info document: its current dialogs, and those ended since its last NOTIFY as terminated. */
  private dialogBody(sub: Subscription): string {
    const entity = `sip:${sub.entity}@${this.opts.domain}`;
    const { dialogs, shown } = withEndedDialogs(entity, this.currentDialogs(sub.entity, sub.subscriber), sub.shownDialogs);
    sub.shownDialogs = shown;
    return formatDialogInfo({ entity, version: sub.version++, dialogs });
  }

  private body(sub: Subscription): { body: string; contentType: string } {
    if (sub.event === 'dialog') {
      return {
        body: this.dialogBody(sub),
        contentType: DIALOG_INFO_TYPE,
      };
    }
    const box = this.mailboxes.get(sub.entity) ?? { newMessages: 0, oldMessages: 0 };
    return { body: formatMessageSummary(`sip:${sub.entity}@${this.opts.domain}`, box), contentType: MESSAGE_SUMMARY_TYPE };
  }

  /**
   * Sends the current state. One NOTIFY at a time per subscription; a change during a transaction is sent when
   * it ends (full-state bodies make the latest state enough). `final` sends the terminating NOTIFY.
   */
  private sendNotify(sub: Subscription, final?: TerminationReason): void {
    const sip = this.sip;
    if (!sip) return;
    if (!final && sub.state === 'terminated') return;
    if (sub.inFlight && !final) {
      sub.dirty = true;
      return;
    }
    if (final) sub.transition('terminated');
    const now = this.opts.clock.now();
    const left = Math.max(0, Math.round((sub.expiresAt - now) / 1000));
    const subState = final ? `terminated;reason=${final}` : `active;expires=${left}`;
    const { body, contentType } = this.body(sub);
    const headers: Record<string, string | string[]> = {
      From: `${sub.localUri};tag=${sub.localTag}`,
      To: `${sub.remoteUri};tag=${sub.remoteTag}`,
      'Call-ID': sub.callId,
      CSeq: `${++sub.localCseq} NOTIFY`,
      Contact: `<${this.opts.contact(sub.source)}>`,
      Event: sub.event,
      'Subscription-State': subState,
      'Max-Forwards': '70',
    };
    if (sub.routeSet.length > 0) headers['Route'] = [...sub.routeSet];
    sub.inFlight = true;
    sub.dirty = false;
    this.counters.notifies++;
    const target = { address: sub.source.address, port: sub.source.port, transport: sub.source.transport, connectionId: sub.source.connectionId };
    sip
      .request({ method: 'NOTIFY', uri: sub.remoteTarget, headers, body, contentType, target })
      .then(
        (res) => this.notifyDone(sub, res.status, subState),
        (err: unknown) => {
          this.log.debug('NOTIFY failed', { entity: sub.entity, subscriber: sub.subscriber, error: errorMessage(err) });
          this.notifyDone(sub, 0, subState);
        },
      );
  }

  private notifyDone(sub: Subscription, status: number, state: string): void {
    sub.inFlight = false;
    this.emit('notified', { event: sub.event, entity: sub.entity, subscriber: sub.subscriber, status, state });
    if (status >= 200 && status < 300) {
      if (sub.dirty && sub.state === 'active') this.sendNotify(sub);
      return;
    }
    // RFC 6665 §4.2.2: 481, a timeout (408) or a transport failure ends the subscription without another NOTIFY.
    // Other failures end it too: a phone that refuses our NOTIFYs will subscribe again.
    this.counters.notifyFailures++;
    if (sub.state === 'active') this.terminate(sub, 'rejected', false);
  }
}

export interface HandleResult {
  status: number;
  reason?: string | undefined;
  headers: Record<string, string | string[]>;
  /** Runs after the response is sent (the NOTIFY must not overtake the 200). */
  after?: () => void;
}
