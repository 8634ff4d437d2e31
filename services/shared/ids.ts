// Identifiers: random tokens for SIP tags/branches/Call-IDs and call ids.
import { randomBytes, randomUUID } from 'node:crypto';

export function randomToken(bytes = 8): string {
  return randomBytes(bytes).toString('hex');
}

export function newId(): string {
  return randomUUID();
}

/**
 * A UUID whose first 48 bits are the time in ms (version 7, RFC 9562 §5.7), the other 74 random: ids made one after
 * the other sort together, so a table keyed by them (calls, and call_events by call) grows at its end instead of
 * dirtying a random index page per row. A call's history rows are written in commits of many calls under load; with random
 * ids each commit wrote a page of the calls index and of call_events' index per call (docs/performance.md).
 */
export function newTimeOrderedId(ms: number): string {
  if (ms !== lastMs) {
    const hex = Math.max(0, Math.min(Math.floor(ms), 0xffffffffffff)).toString(16).padStart(12, '0');
    lastMs = ms;
    lastPrefix = `${hex.slice(0, 8)}-${hex.slice(8)}-7`;
  }
  const r = randomUUID(); // xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx: keep its random bits and its variant
  return lastPrefix + r.slice(15);
}

/** The time part of the last id made (calls of one ms share it). */
let lastMs = Number.NaN;
let lastPrefix = '';
