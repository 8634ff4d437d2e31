// Installs the interpreter on call control: every inbound call to a number runs through it, its path kept with the call.
import type { Clock, Logger } from '../shared/index.js';
import { errorMessage } from '../shared/index.js';
import type { CallInboundNumber, CallService, CallSetup, InboundCallHandler } from '../call/index.js';
import type { InboundNumber } from '../directory/index.js';
import type { ScenarioInterpreter } from './interpreter.js';
import { LiveCallPort, type LivePortDeps } from './live-port.js';

export interface ScenarioCallsDeps extends LivePortDeps {
  interpreter: ScenarioInterpreter;
  /** The number as stored now (the trunk layer's copy may be older). */
  number(id: number): InboundNumber | undefined;
  /** The site's numbers, to recognise one dialled by an extension. */
  numbers: { findByDid(did: string): InboundNumber | undefined; list(): InboundNumber[] };
  clock: Clock;
  logger: Logger;
}

export class ScenarioCalls implements InboundCallHandler {
  constructor(private readonly deps: ScenarioCallsDeps) {}

  /** Makes call control hand every inbound call to a number to the interpreter. */
  install(calls: CallService): void {
    calls.useInboundHandler(this);
  }

  /**
   * A number of the box an extension dialled (docs/calls.md "What a dialled number reaches"): as written, or with
   * its international prefix written another way (+33…, 0033…, 33…).
   */
  numberFor(dialled: string): CallInboundNumber | undefined {
    if (!/^\+?[0-9]{3,32}$/.test(dialled)) return undefined;
    const direct = this.deps.numbers.findByDid(dialled);
    if (direct) return direct;
    const key = withoutPrefix(dialled);
    return this.deps.numbers.list().find((n) => withoutPrefix(n.did) === key);
  }

  async handle(setup: CallSetup, inbound: CallInboundNumber): Promise<void> {
    const calls = this.deps.calls;
    const number = this.deps.number(inbound.id);
    if (!number) {
      calls.reject(setup, 404, 'number-gone', 'Not Found');
      return;
    }
    const ended = new Promise<void>((resolve) => {
      const onHangup = (c: { id: string }): void => {
        if (c.id !== setup.call.id) return;
        calls.observer.off('call.hangup', onHangup);
        resolve();
      };
      calls.observer.on('call.hangup', onHangup);
    });
    const port = new LiveCallPort(setup, { number: number.did, numberId: number.id }, this.deps);
    const result = await this.deps.interpreter.run(port, number, { at: () => new Date(this.deps.clock.now()) });
    try {
      calls.history.setPath(setup.call.id, result.path, result.variables);
    } catch (err) {
      this.deps.logger.warn('call path not stored', { call: setup.call.id, error: errorMessage(err) });
    }
    // A bridged call goes on after the scenario: call control hangs up only when one side does.
    if (setup.call.state === 'answered') await ended;
  }
}

function withoutPrefix(n: string): string {
  if (n.startsWith('+')) return n.slice(1);
  if (n.startsWith('00')) return n.slice(2);
  return n;
}
