// Session timers (RFC 4028): Session-Expires / Min-SE negotiation for INVITE and UPDATE, and the per-dialog timer
// that refreshes the session (when we are the refresher) or ends it with BYE (when the peer stops refreshing).
import { type Clock, type TimerHandle } from '../../shared/index.js';
import { SipParseError, type SipRequest, type SipResponse } from '../message/index.js';

/** RFC 4028 §4: "the minimum allowed value ... is 90 seconds"; Relais accepts any interval from there. */
export const MIN_SE = 90;
/**
 * Longest interval Relais keeps (one day): a UAS may lower the interval it is offered (§9), and a timer beyond
 * 2^31 ms would fire at once in Node.
 */
export const MAX_SE = 86_400;

export type Refresher = 'uac' | 'uas';

export interface SessionExpires {
  /** Delta-seconds. */
  interval: number;
  refresher?: Refresher | undefined;
}

/** Session-Expires = delta-seconds *(SEMI se-params), se-params = refresher-param / generic-param (§4). */
export function parseSessionExpires(value: string): SessionExpires {
  const parts = value.split(';');
  const delta = parts[0]!.trim();
  if (!/^\d{1,10}$/.test(delta)) throw new SipParseError(`Session-Expires "${value.slice(0, 40)}" is not a number of seconds`);
  const out: SessionExpires = { interval: Number(delta) };
  for (const p of parts.slice(1)) {
    const [k, v] = p.split('=').map((s) => s.trim().toLowerCase());
    if (k === 'refresher') {
      if (v !== 'uac' && v !== 'uas') throw new SipParseError(`Session-Expires refresher "${v ?? ''}" is neither uac nor uas`);
      out.refresher = v;
    }
  }
  return out;
}

export function formatSessionExpires(se: SessionExpires): string {
  return se.refresher ? `${se.interval};refresher=${se.refresher}` : String(se.interval);
}

/** Whether a message lists the option tag `timer` in Supported or Require (compact "k" included). */
export function supportsTimer(msg: SipRequest | SipResponse): boolean {
  for (const name of ['supported', 'require']) {
    for (const tag of msg.getAll(name)) if (tag.trim().toLowerCase() === 'timer') return true;
  }
  return false;
}

/** What a UAS answers to an INVITE or UPDATE about session timers. */
export type UasNegotiation =
  /** No Session-Expires in the request: no session timer (Relais does not impose one). */
  | { kind: 'none' }
  /** §8.1: the interval is below our Min-SE: 422 with `Min-SE: 90`. */
  | { kind: 'too-small'; minSe: number }
  | {
      kind: 'timer';
      interval: number;
      /** Refresher as seen from this transaction (uac = the peer that sent the request). */
      refresher: Refresher;
      /** Headers for the 2xx: Session-Expires, and Require: timer when the UAC supports it (§9). */
      headers: Array<[string, string]>;
    };

/**
 * RFC 4028 §9 for a UAS: the response carries the request's interval (never below Min-SE) and a refresher: the
 * one the request asked for, else the UAC when it supports timers (phones keep their own session alive), else us.
 * Throws SipParseError for a malformed Session-Expires (the caller answers 400).
 */
export function negotiateAsUas(req: SipRequest, minSe = MIN_SE): UasNegotiation {
  const raw = req.get('session-expires');
  if (raw === undefined) return { kind: 'none' };
  const se = parseSessionExpires(raw);
  if (se.interval < minSe) return { kind: 'too-small', minSe };
  const interval = Math.min(se.interval, MAX_SE);
  const uacSupports = supportsTimer(req);
  // "If the UAC did not support the session timer ... the UAS MUST set the refresher to uas" (§9).
  const refresher: Refresher = !uacSupports ? 'uas' : (se.refresher ?? 'uac');
  const headers: Array<[string, string]> = [['Session-Expires', formatSessionExpires({ interval, refresher })]];
  if (uacSupports) headers.push(['Require', 'timer']);
  return { kind: 'timer', interval, refresher, headers };
}

/** The part of a server response the negotiation answers with. */
export interface SessionTimerAnswer {
  send(status: number, reason?: string, opts?: { headers?: Record<string, string> }): unknown;
  /** Headers added to whichever 2xx answers the request. */
  readonly on2xx: Array<[string, string]>;
}

export type AcceptedSessionTimer = Exclude<UasNegotiation, { kind: 'too-small' }>;

/**
 * negotiateAsUas() for an INVITE or UPDATE that a UAS is about to handle, answered where it must be: a malformed
 * Session-Expires gets 400, an interval below Min-SE gets 422 with Min-SE (§8.1), and both return undefined (the
 * request is answered). An accepted timer has its headers queued on the 2xx.
 */
export function acceptSessionTimer(req: SipRequest, res: SessionTimerAnswer): AcceptedSessionTimer | undefined {
  let st: UasNegotiation;
  try {
    st = negotiateAsUas(req);
  } catch (err) {
    res.send(400, err instanceof Error ? err.message.slice(0, 120) : 'Bad Session-Expires');
    return undefined;
  }
  if (st.kind === 'too-small') {
    res.send(422, 'Session Interval Too Small', { headers: { 'Min-SE': String(st.minSe) } });
    return undefined;
  }
  if (st.kind === 'timer') res.on2xx.push(...st.headers);
  return st;
}

export interface SessionTimerHooks {
  /** We are the refresher and half the interval has passed: send a refresh (UPDATE or re-INVITE). */
  refresh(): void;
  /** The peer is the refresher and no refresh came in time: end the session (BYE). */
  expire(): void;
}

/**
 * One dialog's session timer (§10). When we refresh, the refresh goes out at half the interval; when the peer
 * does, the session ends at the interval minus min(32 s, interval / 3) without one.
 */
export class SessionTimer {
  private handle: TimerHandle | undefined;
  interval = 0;
  weRefresh = false;

  constructor(
    private readonly clock: Clock,
    private readonly hooks: SessionTimerHooks,
  ) {}

  /** (Re)starts the timer after a successful INVITE/UPDATE transaction. */
  arm(requested: number, weRefresh: boolean): void {
    this.stop();
    const interval = Math.min(Math.max(requested, 1), MAX_SE);
    this.interval = interval;
    this.weRefresh = weRefresh;
    const ms = weRefresh ? (interval * 1000) / 2 : (interval - Math.min(32, interval / 3)) * 1000;
    this.handle = this.clock.setTimeout(() => {
      this.handle = undefined;
      if (this.weRefresh) this.hooks.refresh();
      else this.hooks.expire();
    }, ms);
  }

  /** Tries our refresh again in `seconds` (after glare), keeping the interval and the roles. */
  retry(seconds: number): void {
    this.stop();
    this.handle = this.clock.setTimeout(() => {
      this.handle = undefined;
      this.hooks.refresh();
    }, seconds * 1000);
  }

  get running(): boolean {
    return this.handle !== undefined;
  }

  stop(): void {
    this.clock.clearTimeout(this.handle);
    this.handle = undefined;
  }
}
