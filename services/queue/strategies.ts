// Allocation strategies: which free participants ring next for one caller (docs/queues.md "Strategies").
import type { Strategy } from './model.js';

export { QUEUE_STRATEGIES as STRATEGIES } from '../directory/queues.js';

export interface Candidate {
  userId: number;
  /** Place in the participant list. */
  position: number;
  lastReceivedAt: number | null;
  callsTaken: number;
}

export interface PickInput {
  /** Free participants only, in list order. */
  free: readonly Candidate[];
  /** Participants already rung for this caller in this round without an answer (skipped). */
  tried: ReadonlySet<number>;
  /** round_robin memory: the list position of the participant rung last in this queue (-1: none yet). */
  lastPosition: number;
  /** [0, 1) */
  random: () => number;
}

/**
 * The participants to ring now, or [] when every free one was already tried in this round (the engine then starts a
 * new round after a pause). Every strategy but `simultaneous` rings one participant for the ring time, then the
 * engine asks again with that one in `tried`.
 */
export function pickAgents(strategy: Strategy, input: PickInput): number[] {
  const pool = input.tried.size === 0 ? input.free : input.free.filter((c) => !input.tried.has(c.userId));
  if (pool.length === 0) return [];
  if (strategy === 'simultaneous') return pool.map((c) => c.userId);
  const one = pickOne(strategy, pool, input);
  return [one.userId];
}

function pickOne(strategy: Exclude<Strategy, 'simultaneous'>, pool: readonly Candidate[], input: PickInput): Candidate {
  switch (strategy) {
    case 'as_listed':
      // From the top of the list each time (pool is in list order).
      return pool[0]!;
    case 'random':
      return pool[Math.min(pool.length - 1, Math.floor(input.random() * pool.length))]!;
    case 'longest_idle':
      // Longest since the participant last received a queue call; never = longest; ties in list order.
      return minBy(pool, (c) => c.lastReceivedAt ?? -Infinity);
    case 'fewest_calls':
      return minBy(pool, (c) => c.callsTaken);
    case 'round_robin': {
      // The next in the list after the one rung last, wrapping round.
      const after = pool.find((c) => c.position > input.lastPosition);
      return after ?? pool[0]!;
    }
  }
}

/** The first candidate with the smallest key (so ties go in list order). */
function minBy(pool: readonly Candidate[], key: (c: Candidate) => number): Candidate {
  let best = pool[0]!;
  let bestKey = key(best);
  for (let i = 1; i < pool.length; i++) {
    const k = key(pool[i]!);
    if (k < bestKey) {
      best = pool[i]!;
      bestKey = k;
    }
  }
  return best;
}
