// Builds the scenario side of the appliance: interpreter on call control (live calls) and the simulator, sharing one interpreter.
import type { Clock, Logger } from '../shared/index.js';
import type { CallService } from '../call/index.js';
import type { Directory } from '../directory/index.js';
import type { ConditionEvaluator } from './calendar/index.js';
import { ScenarioInterpreter } from './interpreter.js';
import { speechFrom } from './live-port.js';
import { NoQueues, type QueueGateway } from './queue-gateway.js';
import { ScenarioCalls } from './scenario-calls.js';
import { simulate, type SimulateInput, type SimulateResult } from './simulator.js';
import { directorySource, onlineCheck } from './source.js';
import type { CallerScreen } from './inbox/index.js';

export interface ScenarioModuleParts {
  calls: CallService;
  dir: Directory;
  /** Whether an extension has a registered phone now (the registrar). */
  registered(extensionNumber: string): boolean;
  conditions: ConditionEvaluator;
  /** The blocklist: blocked callers are declined or run their chosen scenario (live and simulated alike). */
  screen?: CallerScreen | undefined;
  /** The site's IANA zone (the simulator's --at in wall-clock time). */
  timeZone(): string | undefined;
  clock: Clock;
  logger: Logger;
  dataDir: string;
  prompts?: { path(lang: string, key: string): string } | undefined;
  say?: ((lang: string, text: string) => Promise<string>) | undefined;
}

/** The interpreter installed on call control, and the simulator that runs the very same interpreter. */
export class ScenarioModule {
  readonly interpreter: ScenarioInterpreter;
  private readonly gateway: { current: QueueGateway } = { current: new NoQueues() };

  constructor(private readonly parts: ScenarioModuleParts) {
    const gateway = this.gateway;
    // The queue engine plugs in later (useQueues); the interpreter always asks the current gateway.
    const queues: QueueGateway = {
      distribute: (r) => gateway.current.distribute(r),
      callback: (o) => gateway.current.callback(o),
      offerAbandoned: (o) => gateway.current.offerAbandoned?.(o),
    };
    this.interpreter = new ScenarioInterpreter({
      source: directorySource(parts.dir),
      conditions: parts.conditions,
      queues,
      isOnline: onlineCheck(parts.dir, parts.registered),
      screen: parts.screen,
      logger: parts.logger,
    });
    new ScenarioCalls({
      calls: parts.calls,
      interpreter: this.interpreter,
      number: (id) => parts.dir.numbers.get(id),
      numbers: parts.dir.numbers,
      extensions: parts.dir.extensions,
      speech: speechFrom({ dataDir: parts.dataDir, sounds: parts.dir.sounds, prompts: parts.prompts, say: parts.say }),
      clock: parts.clock,
      logger: parts.logger.child({ module: 'scenario' }),
    }).install(parts.calls);
  }

  /** The queue engine's side of `distribute` and `callback` (until then every queue is closed). */
  useQueues(g: QueueGateway): void {
    this.gateway.current = g;
  }

  /** A pretend call to a number through the live interpreter (relais simulate, POST /api/simulate). */
  simulate(input: SimulateInput): Promise<SimulateResult> {
    return simulate(
      {
        dir: this.parts.dir,
        interpreter: this.interpreter,
        onlineNow: onlineCheck(this.parts.dir, this.parts.registered),
        timeZone: () => this.parts.timeZone(),
        now: () => this.parts.clock.now(),
      },
      input,
    );
  }
}
