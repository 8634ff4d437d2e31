// The queue engine's vocabulary: a queue as the engine runs it, its participants, waiting entries, outcomes and events.
import type { Condition } from '../directory/scenario-model.js';
import type { QueueTimeoutAction, ClosureAction } from '../directory/queues.js';

import type { QueueStrategy, CallbackOrder, LostCallRules, Queue } from '../directory/queues.js';

export { DEFAULT_LOST_CALL_RULES } from '../directory/queues.js';
export type { CallbackOrder, LostCallRules };

/** docs/queues.md "Strategies". */
export type Strategy = QueueStrategy;

export interface Participant {
  userId: number;
  /** Place in the participant list (as_listed order). */
  position: number;
  loggedIn: boolean;
  paused: boolean;
  pauseReason: string | null;
  /** Wall-clock ms when the participant last received (was put through to) a call of this queue. */
  lastReceivedAt: number | null;
  /** Queue calls taken from this queue (fewest_calls). */
  callsTaken: number;
}

/** A queue as the engine runs it: the directory's settings (docs/site-file.md) and its participants in list order. */
export type QueueConfig = Omit<Queue, 'serviceLevel'> & {
  /** Seconds within which an answer counts for the service level. */
  serviceLevelSeconds: number;
  participants: Participant[];
};

export type EntryKind = 'call' | 'callback';

/** A caller waiting in a queue: a live call, or a callback keeping its place (virtual queueing). */
export interface QueueEntry {
  readonly id: string;
  readonly kind: EntryKind;
  readonly queueId: number;
  /** The call's id (kind `call`) or the origin call of a callback. */
  readonly callId: string | null;
  readonly callbackId: number | null;
  readonly caller: string;
  readonly language: string | null;
  /** Wall-clock ms of arrival: the fair order across queues. */
  readonly arrivedAt: number;
  readonly priority: number;
  /** Not offered to agents before this wall-clock ms (a callback's delay). */
  readonly notBefore: number;
  readonly seq: number;
}

export type QueueAvailability = 'open' | 'closed' | 'exceptional_closure';

/** How a caller's stay in a queue ended (the `distribute` action's result). */
export type QueueOutcome =
  | { type: 'closed' }
  | { type: 'exceptional_closure'; action: ClosureAction | null }
  | { type: 'answered'; userId: number; waitMs: number }
  | { type: 'timeout'; reason: 'max_wait' | 'no_agent'; action: QueueTimeoutAction; soundId: number | null; waitMs: number }
  | { type: 'abandoned'; waitMs: number }
  /** Relais stopped while the caller waited. */
  | { type: 'shutdown'; waitMs: number };

/** A participant's state in one queue, as the API shows it. */
export type AgentState = 'logged_out' | 'unregistered' | 'paused' | 'in_call' | 'ringing' | 'wrap_up' | 'free';

export type QueueEvent =
  | { type: 'queue.joined'; at: number; queueId: number; entryId: string; kind: EntryKind; caller: string; callId: string | null; position: number }
  | { type: 'queue.ringing'; at: number; queueId: number; entryId: string; userIds: number[] }
  | { type: 'queue.answered'; at: number; queueId: number; entryId: string; kind: EntryKind; caller: string; callId: string | null; callbackId: number | null; userId: number; waitMs: number }
  | { type: 'queue.left'; at: number; queueId: number; entryId: string; kind: EntryKind; caller: string; callId: string | null; callbackId: number | null; outcome: QueueOutcome['type']; reason: string | null; waitMs: number }
  | { type: 'queue.call_ended'; at: number; queueId: number; entryId: string; userId: number; talkMs: number }
  | { type: 'queue.config'; at: number; queueId: number; availability: QueueAvailability }
  | { type: 'agent.login'; at: number; queueId: number; userId: number; loggedIn: boolean }
  | { type: 'agent.pause'; at: number; queueId: number; userId: number; paused: boolean; reason: string | null }
  | { type: 'agent.state'; at: number; queueId: number; userId: number; state: AgentState }
  | { type: 'agent.no_answer'; at: number; queueId: number; userId: number; unanswered: number };

export type QueueEventType = QueueEvent['type'];

/** Judges opening hours' conditions (the site calendar: its time zone, holidays and day/night override). */
export interface ConditionJudge {
  matches(cond: Condition, at: Date): boolean;
}
