// The blocklist of callers (docs/product.md §7: blocking is an explicit choice, separate from marking spam) and the screen an
// inbound call passes before anything else: a blocked caller is declined (603) or sent to a chosen scenario.
import type { Database } from 'better-sqlite3';
import { prepared } from '../../directory/prepared.js';
import { NotFoundError, RelaisError } from '../../shared/index.js';

export const BLOCK_ACTIONS = ['decline', 'scenario'] as const;
export type BlockAction = (typeof BLOCK_ACTIONS)[number];

export interface BlockedCaller {
  id: number;
  /** As entered (or as the call presented it). */
  number: string;
  /** decline: refused with 603 Decline without being answered; scenario: the call runs `scenario` instead. */
  action: BlockAction;
  scenario: string | null;
  note: string;
  createdBy: number | null;
  createdAt: number;
}

export type BlockInput = Pick<BlockedCaller, 'number'> & Partial<Pick<BlockedCaller, 'action' | 'scenario' | 'note' | 'createdBy'>>;

/** What happens to a screened call. */
export type ScreenVerdict = { action: 'decline'; entry: BlockedCaller } | { action: 'scenario'; scenario: string; entry: BlockedCaller };

/** The seam the inbound call path calls first (injected: tests give their own). */
export interface CallerScreen {
  screen(caller: string): ScreenVerdict | undefined;
}

export const BLOCK_NUMBER_RE = /^\+?[0-9][0-9 .()-]{0,40}$/;

/**
 * The comparison key of a number: digits only, without the international prefix (+ or 00), so +33 6…, 0033 6… and
 * 33 6… are one caller. National forms (06…) are other keys: block the form the provider presents (the call's caller).
 */
export function matchKey(number: string): string {
  const digits = number.replace(/[^0-9+]/g, '');
  return digits.replace(/^\+/, '').replace(/^00/, '');
}

interface Row {
  id: number;
  number: string;
  action: BlockAction;
  scenario: string | null;
  note: string;
  created_by: number | null;
  created_at: number;
}

const toEntry = (r: Row): BlockedCaller => ({ id: r.id, number: r.number, action: r.action, scenario: r.scenario, note: r.note, createdBy: r.created_by, createdAt: r.created_at });

export class BlocklistRepository implements CallerScreen {
  constructor(
    private readonly db: Database,
    private readonly now: () => number = Date.now,
  ) {}

  list(): BlockedCaller[] {
    return (prepared(this.db, 'SELECT * FROM blocklist ORDER BY created_at, id').all() as Row[]).map(toEntry);
  }

  get(id: number): BlockedCaller | undefined {
    const r = prepared(this.db, 'SELECT * FROM blocklist WHERE id = ?').get(id) as Row | undefined;
    return r ? toEntry(r) : undefined;
  }

  require(id: number): BlockedCaller {
    const b = this.get(id);
    if (!b) throw new NotFoundError('blocked caller', id);
    return b;
  }

  find(number: string): BlockedCaller | undefined {
    const key = matchKey(number);
    if (key === '') return undefined;
    const r = prepared(this.db, 'SELECT * FROM blocklist WHERE match_key = ? ORDER BY id LIMIT 1').get(key) as Row | undefined;
    return r ? toEntry(r) : undefined;
  }

  private check(b: { number: string; action: BlockAction; scenario: string | null }): void {
    if (!BLOCK_NUMBER_RE.test(b.number) || matchKey(b.number).length < 2) {
      throw new RelaisError('blocklist.number_invalid', `"${b.number}" is not a phone number (digits, optional leading +)`, { field: 'number' });
    }
    if (!(BLOCK_ACTIONS as readonly string[]).includes(b.action)) {
      throw new RelaisError('blocklist.action_invalid', `action "${String(b.action)}" is not one of ${BLOCK_ACTIONS.join(', ')}`, { field: 'action' });
    }
    if (b.action === 'scenario' && !b.scenario) throw new RelaisError('blocklist.scenario_missing', 'action "scenario" needs the name of the scenario to run', { field: 'scenario' });
    if (b.action === 'decline' && b.scenario) throw new RelaisError('blocklist.scenario_unused', 'a scenario applies only to action "scenario"', { field: 'scenario' });
    if (b.scenario && !prepared(this.db, 'SELECT 1 FROM scenarios WHERE name = ?').get(b.scenario)) {
      throw new RelaisError('blocklist.scenario_unknown', `scenario "${b.scenario}" does not exist`, { field: 'scenario' });
    }
  }

  /** Blocks a number (an existing entry for the same caller is returned unchanged). */
  add(input: BlockInput): BlockedCaller {
    const b = { number: input.number.trim(), action: input.action ?? 'decline', scenario: input.scenario ?? null };
    this.check(b);
    const existing = this.find(b.number);
    if (existing) return existing;
    const info = prepared(this.db, 'INSERT INTO blocklist (number, match_key, action, scenario, note, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)').run(
      b.number,
      matchKey(b.number),
      b.action,
      b.scenario,
      input.note ?? '',
      input.createdBy ?? null,
      this.now(),
    );
    return this.require(Number(info.lastInsertRowid));
  }

  update(id: number, patch: Partial<Pick<BlockedCaller, 'number' | 'action' | 'scenario' | 'note'>>): BlockedCaller {
    const cur = this.require(id);
    const b = { ...cur, ...patch };
    if (patch.action === 'decline' && patch.scenario === undefined) b.scenario = null;
    this.check(b);
    const other = this.find(b.number);
    if (other && other.id !== id) throw new RelaisError('blocklist.exists', `${b.number} is already blocked (entry ${other.id})`, { field: 'number', status: 409 });
    prepared(this.db, 'UPDATE blocklist SET number = ?, match_key = ?, action = ?, scenario = ?, note = ? WHERE id = ?').run(b.number, matchKey(b.number), b.action, b.scenario, b.note, id);
    return this.require(id);
  }

  delete(id: number): boolean {
    return prepared(this.db, 'DELETE FROM blocklist WHERE id = ?').run(id).changes > 0;
  }

  screen(caller: string): ScreenVerdict | undefined {
    const entry = this.find(caller);
    if (!entry) return undefined;
    // A scenario removed since (by an import) leaves the entry declining: blocked callers stay blocked.
    if (entry.action === 'scenario' && entry.scenario && prepared(this.db, 'SELECT 1 FROM scenarios WHERE name = ?').get(entry.scenario)) {
      return { action: 'scenario', scenario: entry.scenario, entry };
    }
    return { action: 'decline', entry };
  }
}
