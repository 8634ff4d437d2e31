// Callback rules as pure functions: which lost calls become callbacks, when they are dialled (business hours,
// retries), which number is "the same caller" (dedupe, Neglected). docs/queues.md "Callbacks".
import { conditionMatches, type Condition } from '../directory/scenario-model.js';
import type { ConditionJudge, LostCallRules } from './model.js';

export type CallbackStatus = 'scheduled' | 'dialling' | 'done' | 'failed' | 'cancelled' | 'neglected';
export const CALLBACK_STATUSES: readonly CallbackStatus[] = ['scheduled', 'dialling', 'done', 'failed', 'cancelled', 'neglected'];
/** Pending = not finished: a second one for the same number and queue is never created. */
export const PENDING_STATUSES: readonly CallbackStatus[] = ['scheduled', 'dialling'];

/** The event linking a callback to its origin call (docs/product.md §5): a lost call, or the caller's own request. */
export type CallbackLink = 'LostCall' | 'CallBack';
export const CALLBACK_LINKS: readonly CallbackLink[] = ['LostCall', 'CallBack'];

/** Why a caller left a queue without being served. `restart`: Relais stopped while they waited. */
export type LostReason = 'abandoned' | 'max_wait' | 'no_agent' | 'restart';

/** Does this lost call become an automatic (LostCall) callback under the queue's rules? */
export function lostCallQualifies(rules: LostCallRules, reason: LostReason, waitMs: number): boolean {
  switch (reason) {
    case 'abandoned':
    case 'restart':
      // A caller who hung up at once did not really wait: not a lost call.
      return rules.afterAbandon && waitMs >= rules.minWaitSeconds * 1000;
    case 'max_wait':
      return rules.afterTimeout;
    case 'no_agent':
      return rules.afterNoAgent;
  }
}

/** How far ahead business hours are searched before giving up (the time itself is then used). */
const SEARCH_DAYS = 14;
const MINUTE = 60_000;

/**
 * The first instant at or after `t` inside the opening hours (any condition matching), searched minute by minute
 * for two weeks; `t` itself when there are no opening hours or none is found.
 */
export function nextBusinessTime(t: number, hours: readonly Condition[] | null, judge: ConditionJudge | string | undefined = undefined): number {
  if (hours === null || hours.length === 0) return t;
  const j: ConditionJudge = typeof judge === 'object' ? judge : { matches: (c, at) => conditionMatches(c, at, judge) };
  const open = (x: number): boolean => hours.some((c) => j.matches(c, new Date(x)));
  if (open(t)) return t;
  let x = Math.ceil(t / MINUTE) * MINUTE;
  const end = t + SEARCH_DAYS * 24 * 60 * MINUTE;
  // Opening hours change on minute boundaries; step by a quarter hour while closed, then refine to the minute.
  const STEP = 15 * MINUTE;
  while (x <= end) {
    if (open(x)) return x;
    const next = x + STEP;
    if (next <= end && open(next)) {
      for (let y = x + MINUTE; y <= next; y += MINUTE) if (open(y)) return y;
    }
    x = next;
  }
  return t;
}

/** When the next attempt is due after a failed one, or null when the attempts are used up. */
export function nextAttemptAt(attemptsMade: number, rules: Pick<LostCallRules, 'maxAttempts' | 'retryDelayMinutes' | 'businessHoursOnly'>, now: number, hours: readonly Condition[] | null, judge?: ConditionJudge | string): number | null {
  if (attemptsMade >= rules.maxAttempts) return null;
  const t = now + rules.retryDelayMinutes * MINUTE;
  return rules.businessHoursOnly ? nextBusinessTime(t, hours, judge) : t;
}

/** Digits of a number (and a leading +), without spaces, dots or a SIP URI around it. */
export function normalizeNumber(n: string): string {
  const m = /^(?:sips?:)?([^@;]*)/i.exec(n.trim());
  const user = m ? m[1]! : n;
  const plus = user.trim().startsWith('+');
  const digits = user.replace(/[^0-9]/g, '');
  return (plus ? '+' : '') + digits;
}

/**
 * The same caller? Equal numbers, or the same last nine digits when both have at least nine
 * (`+33612345678`, `0033612345678` and `0612345678` are one caller).
 */
export function sameNumber(a: string, b: string): boolean {
  const x = normalizeNumber(a).replace('+', '');
  const y = normalizeNumber(b).replace('+', '');
  if (x === '' || y === '') return false;
  if (x === y) return true;
  return x.length >= 9 && y.length >= 9 && x.slice(-9) === y.slice(-9);
}

/** A withheld caller ID (anonymous, unknown, no digits): the caller must key a number in. */
export function isWithheld(n: string | null | undefined): boolean {
  if (!n) return true;
  const s = n.trim().toLowerCase();
  if (s === '' || s.startsWith('anonymous') || s.startsWith('unknown') || s.includes('anonymous.invalid') || s === 'restricted') return true;
  return normalizeNumber(s).replace('+', '').length === 0;
}

/** Neglected applies to callbacks still Scheduled (not dialling) and linked to a LostCall event, however created. */
export function neglectable(cb: { status: CallbackStatus; linkType: CallbackLink | null }): boolean {
  return cb.status === 'scheduled' && cb.linkType === 'LostCall';
}

/** A number keyed in for a callback: 2 to 20 digits, optional leading +. */
export function checkCallbackNumber(n: string): string | null {
  const v = normalizeNumber(n);
  return /^\+?[0-9]{2,20}$/.test(v) ? v : null;
}
