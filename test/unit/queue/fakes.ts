// Fakes for queue engine unit tests: live agent state set by the test, a ringer whose rings the test settles.
import { ManualClock } from '../../../services/shared/index.js';
import { QueueEngine, DEFAULT_LOST_CALL_RULES, type AgentLiveState, type AgentRinger, type QueueConfig, type RingHandle, type RingRequest, type RingResult, type QueueEvent } from '../../../services/queue/index.js';

export class FakeLive implements AgentLiveState {
  readonly registered = new Set<number>();
  readonly inCall = new Set<number>();
  isRegistered(userId: number): boolean {
    return this.registered.has(userId);
  }
  isInCall(userId: number): boolean {
    return this.inCall.has(userId);
  }
}

export interface PendingRing {
  req: RingRequest;
  cancelled: boolean;
  settle(r: RingResult): void;
}

export class FakeRinger implements AgentRinger {
  readonly rings: PendingRing[] = [];
  ring(req: RingRequest): RingHandle {
    let settle!: (r: RingResult) => void;
    const result = new Promise<RingResult>((r) => (settle = r));
    const p: PendingRing = { req, cancelled: false, settle };
    this.rings.push(p);
    return { result, cancel: () => { p.cancelled = true; settle({ unanswered: [] }); } };
  }
  /** The ring still open for this entry. */
  current(entryId: string): PendingRing | undefined {
    return [...this.rings].reverse().find((r) => r.req.entry.id === entryId && !r.cancelled);
  }
  /** Users rung, in order, one list per ring. */
  rung(): number[][] {
    return this.rings.map((r) => r.req.userIds);
  }
}

let nextQueueId = 1;

export function queueConfig(over: Partial<QueueConfig> & { members: number[] }): QueueConfig {
  const id = over.id ?? nextQueueId++;
  const { members, ...rest } = over;
  return {
    id,
    name: `q${id}`,
    shortNumber: `9${id}`,
    strategy: 'as_listed',
    ringTime: 20,
    maxWait: 300,
    wrapUp: 10,
    timeoutAction: { type: 'hangup' },
    timeoutSoundId: null,
    mohSoundId: null,
    mohDefault: false,
    announcePosition: false,
    openingHours: null,
    closed: false,
    exceptionalClosure: false,
    closureAction: null,
    autoPauseAfter: 0,
    callbackOrder: 'agent_first',
    lostCallRules: DEFAULT_LOST_CALL_RULES,
    serviceLevelSeconds: 20,
    participants: members.map((userId, position) => ({ userId, position, loggedIn: true, paused: false, pauseReason: null, lastReceivedAt: null, callsTaken: 0 })),
    ...rest,
  };
}

export function setup(queues: QueueConfig[], opts: { registered?: number[]; random?: () => number } = {}) {
  const clock = new ManualClock();
  const live = new FakeLive();
  const ringer = new FakeRinger();
  const engine = new QueueEngine({ clock, live, ringer, random: opts.random });
  const events: QueueEvent[] = [];
  engine.observer.on('event', (e) => events.push(e));
  const all = new Set(queues.flatMap((q) => q.participants.map((p) => p.userId)));
  for (const u of opts.registered ?? all) live.registered.add(u);
  engine.configure(queues);
  return { clock, live, ringer, engine, events };
}

/** Lets promise callbacks (ring results) run. */
export async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}

/** Deterministic [0, 1) generator (mulberry32). */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
