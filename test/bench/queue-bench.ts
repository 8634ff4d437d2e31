// Queue engine benchmark (scripts/bench queue): agent selection with 200 agents and 1,000 waiting callers across
// 20 queues (each agent serves 3 queues): time of one decision (an agent frees up → the fairest caller is chosen and
// rung), p50/p99, and heap per waiting caller. Writes test/bench/results/queue-<date>.json.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ManualClock } from '../../services/shared/index.js';
import { QueueEngine, DEFAULT_LOST_CALL_RULES, type QueueConfig, type RingHandle, type RingResult, type Strategy } from '../../services/queue/index.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const QUEUES = 20;
const AGENTS = 200;
const WAITING = 1_000;
const DECISIONS = Number(process.env.QUEUE_BENCH_DECISIONS ?? 5_000);
const STRATEGIES: Strategy[] = ['as_listed', 'longest_idle', 'random', 'round_robin', 'fewest_calls'];

function commit(): string {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT }).toString().trim();
  } catch {
    return 'unknown';
  }
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function heap(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed;
}

function run(strategy: Strategy): Record<string, unknown> {
  const clock = new ManualClock();
  const inCall = new Set<number>();
  const pending = new Map<string, { settle: (r: RingResult) => void; userIds: number[] }>();
  const engine = new QueueEngine({
    clock,
    live: { isRegistered: () => true, isInCall: (u) => inCall.has(u) },
    ringer: {
      ring: (req): RingHandle => {
        let settle!: (r: RingResult) => void;
        const result = new Promise<RingResult>((r) => (settle = r));
        pending.set(req.entry.id, { settle, userIds: req.userIds });
        return { result, cancel: () => undefined };
      },
    },
  });
  const queues: QueueConfig[] = [];
  for (let q = 0; q < QUEUES; q++) {
    // Agent a serves queue a % 20 and the two after it.
    const members: number[] = [];
    for (let a = 1; a <= AGENTS; a++) if ([0, 1, 2].some((k) => (a + k) % QUEUES === q)) members.push(a);
    queues.push({
      id: q + 1, name: `q${q}`, shortNumber: `${900 + q}`, strategy, ringTime: 20, maxWait: 86_400, wrapUp: 0, timeoutAction: { type: 'hangup' },
      timeoutSoundId: null, mohSoundId: null, mohDefault: false, announcePosition: false, openingHours: null, closed: false, exceptionalClosure: false, closureAction: null,
      autoPauseAfter: 0, callbackOrder: 'agent_first', lostCallRules: DEFAULT_LOST_CALL_RULES, serviceLevelSeconds: 20,
      participants: members.map((userId, position) => ({ userId, position, loggedIn: true, paused: false, pauseReason: null, lastReceivedAt: null, callsTaken: 0 })),
    });
  }
  for (let a = 1; a <= AGENTS; a++) inCall.add(a); // everyone busy: callers pile up
  engine.configure(queues);
  const before = heap();
  let n = 0;
  const enqueue = (): void => {
    clock.advance(10);
    engine.enqueue({ queueId: (n % QUEUES) + 1, caller: `06${String(n).padStart(8, '0')}`, callId: `c${n}` });
    n++;
  };
  for (let i = 0; i < WAITING; i++) enqueue();
  const perCaller = (heap() - before) / WAITING;

  const times: number[] = [];
  const cpuTimes: number[] = [];
  for (let i = 0; i < DECISIONS; i++) {
    const agent = (i % AGENTS) + 1;
    inCall.delete(agent);
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    engine.agentChanged(); // the decision: the fairest waiting caller of the agent's queues is chosen and rung
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    const c = process.cpuUsage(c0);
    cpuTimes.push((c.user + c.system) / 1000);
    // The agent takes it (synchronously here: the ring result's promise is not awaited), stays busy; a new caller comes.
    for (const [entryId, p] of pending) {
      if (p.userIds.includes(agent)) {
        pending.delete(entryId);
        inCall.add(agent);
        engine.leave(entryId); // take the entry out so 1,000 stay waiting
      }
    }
    inCall.add(agent);
    enqueue();
  }
  engine.close();
  times.sort((a, b) => a - b);
  cpuTimes.sort((a, b) => a - b);
  return {
    strategy,
    decisions: DECISIONS,
    waiting: WAITING,
    decision_ms: { p50: percentile(times, 50), p99: percentile(times, 99), max: times[times.length - 1] },
    // CPU time of the process during the decision (getrusage): what the decision costs, without the time the process
    // waited for a core on a loaded machine (the wall-clock tail above).
    decision_cpu_ms: { p50: percentile(cpuTimes, 50), p99: percentile(cpuTimes, 99), max: cpuTimes[cpuTimes.length - 1] },
    heap_bytes_per_waiting_caller: Math.round(perCaller),
  };
}

const result = {
  bench: 'queue',
  date: new Date().toISOString(),
  commit: commit(),
  machine: { cores: os.cpus().length, cpu: os.cpus()[0]?.model ?? 'unknown', node: process.version, loadavg: os.loadavg() },
  setup: { queues: QUEUES, agents: AGENTS, queues_per_agent: 3, waiting_callers: WAITING },
  note: 'decision = QueueEngine.agentChanged() with one agent just freed and 1,000 callers waiting: fair order across its queues, strategy pick, ring started; decision_ms is wall clock, decision_cpu_ms the process CPU time spent in it',
  results: STRATEGIES.map(run),
};
const out = path.join(ROOT, 'test/bench/results', `queue-${result.date.slice(0, 10)}.json`);
fs.mkdirSync(path.dirname(out), { recursive: true });
fs.writeFileSync(out, JSON.stringify(result, null, 2) + '\n');
process.stdout.write(JSON.stringify(result.results, null, 2) + `\nwritten to ${out}\n`);
