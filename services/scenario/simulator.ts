// The simulator: the same interpreter run against a simulated call (keys given in advance, who answers decided by --online).
import { RelaisError } from '../shared/index.js';
import type { Directory, InboundNumber } from '../directory/index.js';
import type { RingMode, RingTarget } from '../call/index.js';
import { instantOf } from './calendar/index.js';
import type { CallPort, PlayOutcome, RingOutcome, Utterance } from './call-port.js';
import type { ScenarioInterpreter } from './interpreter.js';
import type { PathStep } from './path.js';

export interface SimulateInput {
  /** The dialled number (DID), as in the site file. */
  number: string;
  /** The caller's number (default `anonymous`). */
  from?: string | undefined;
  /** `YYYY-MM-DDTHH:MM` in the site's time zone, or an ISO time with `Z` or an offset (default now). */
  at?: string | undefined;
  /** Keys the caller presses, one entry per question (a menu key, or the digits of collect_digits). */
  digits?: string[] | undefined;
  /** Usernames taken as online (default: those online now). */
  online?: string[] | undefined;
  /** Nobody answers when rung (default: a rung party that is online answers). */
  noAnswer?: boolean | undefined;
}

export interface SimulateResult {
  number: string;
  from: string;
  at: string;
  online: string[];
  path: PathStep[];
  variables: Record<string, string>;
  /** How the simulated call ended: answered by …, voicemail, rejected 486, hung up… */
  outcome: string;
}

const LOCAL_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/;

/** Reads --at: local wall-clock time in the site's zone, or an absolute ISO time. */
export function parseAt(value: string | undefined, timeZone: string | undefined, now: number): Date {
  if (value === undefined || value === '') return new Date(now);
  if (LOCAL_RE.test(value)) return instantOf(value, timeZone);
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/.test(value)) {
    const d = new Date(value);
    if (!Number.isNaN(d.getTime())) return d;
  }
  throw new RelaisError('simulate.at_invalid', `at "${value}" is not YYYY-MM-DDTHH:MM (site time) or an ISO time with Z or an offset`, { field: 'at' });
}

class SimulatedCallPort implements CallPort {
  private ended = false;
  private isAnswered = false;
  private readonly keys: string[];
  outcome = 'in progress';

  constructor(
    readonly caller: string,
    keys: string[],
    private readonly answers: (t: RingTarget) => string | undefined,
    private readonly noAnswer: boolean,
  ) {
    this.keys = [...keys];
  }

  gone(): boolean {
    return this.ended;
  }
  answered(): boolean {
    return this.isAnswered;
  }
  async answer(): Promise<boolean> {
    if (this.ended) return false;
    this.isAnswered = true;
    return true;
  }
  async earlyMedia(): Promise<boolean> {
    return !this.ended;
  }
  async play(_items: Utterance[]): Promise<PlayOutcome> {
    return this.ended ? 'gone' : 'done';
  }
  clearDigits(): void {
    /* keys are given in advance, one per question */
  }
  async readDigits(opts: { max: number; endKey?: string }): Promise<string> {
    let k = this.keys.shift() ?? '';
    if (opts.endKey !== undefined && k.includes(opts.endKey)) k = k.slice(0, k.indexOf(opts.endKey));
    return k.slice(0, opts.max);
  }
  private ringTo(targets: RingTarget[]): RingOutcome {
    if (this.ended) return 'gone';
    const who = this.noAnswer ? undefined : targets.map((t) => this.answers(t)).find((w) => w !== undefined);
    if (who === undefined) return this.noAnswer && targets.some((t) => this.answers(t) !== undefined) ? 'no-answer' : 'unavailable';
    this.isAnswered = true;
    this.ended = true;
    this.outcome = `answered by ${who}`;
    return 'answered';
  }
  async ring(targets: RingTarget[], _mode: RingMode): Promise<RingOutcome> {
    return this.ringTo(targets);
  }
  async transfer(to: string): Promise<RingOutcome> {
    return this.ringTo([{ kind: 'external', number: to }]);
  }
  async voicemail(mailbox: string | undefined): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    this.outcome = `voicemail${mailbox ? ` ${mailbox}` : ''}`;
  }
  async ringingFor(ms: number): Promise<void> {
    if (!this.ended) this.outcome = `rang ${ms / 1000} s`;
  }
  async reject(status: number): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    this.outcome = `rejected ${status}`;
  }
  async hangup(cause: string): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    this.outcome = `hung up (${cause})`;
  }
}

export interface SimulatorDeps {
  dir: Directory;
  interpreter: ScenarioInterpreter;
  /** Whether a user is online now (registered phone, not in DND) — the default of `online`. */
  onlineNow(userId: number): boolean;
  /** The site's IANA zone (for --at in wall-clock time). */
  timeZone(): string | undefined;
  now(): number;
}

/**
 * Runs the number's handling for a pretend call. The interpreter is the one live calls use; only the call port
 * differs (a rung user answers when online, unless noAnswer; the keys come from `digits`).
 */
export async function simulate(deps: SimulatorDeps, input: SimulateInput): Promise<SimulateResult> {
  const { dir } = deps;
  const number: InboundNumber | undefined = dir.numbers.findByDid(input.number);
  if (!number) throw new RelaisError('simulate.number_unknown', `number "${input.number}" is not one of the site's numbers`, { field: 'number', status: 404 });
  const at = parseAt(input.at, deps.timeZone(), deps.now());
  let online: Set<number>;
  if (input.online) {
    online = new Set();
    for (const name of input.online) {
      const u = dir.users.findByUsername(name);
      if (!u) throw new RelaisError('simulate.user_unknown', `user "${name}" (in online) does not exist`, { field: 'online' });
      online.add(u.id);
    }
  } else online = new Set(dir.users.list().filter((u) => deps.onlineNow(u.id)).map((u) => u.id));
  const userName = (id: number | null | undefined): string | undefined => (id === null || id === undefined ? undefined : dir.users.get(id)?.username);
  const answers = (t: RingTarget): string | undefined => {
    if (t.kind === 'user') return online.has(t.userId) ? userName(t.userId) : undefined;
    const ext = dir.extensions.findByNumber(t.number);
    if (ext) return ext.userId !== null && online.has(ext.userId) ? (userName(ext.userId) ?? ext.number) : undefined;
    return t.number; // an outside number answers
  };
  const from = input.from ?? 'anonymous';
  const port = new SimulatedCallPort(from, input.digits ?? [], answers, input.noAnswer === true);
  const result = await deps.interpreter.run(port, number, { at: () => at, isOnline: (id) => online.has(id) });
  if (port.outcome === 'in progress') port.outcome = 'ended';
  return {
    number: number.did,
    from,
    at: at.toISOString(),
    online: [...online].map((id) => userName(id) ?? String(id)),
    path: result.path,
    variables: result.variables,
    outcome: port.outcome,
  };
}
