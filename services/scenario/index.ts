// Scenarios: the interpreter that runs every inbound call to a number, its call port (live and simulated), the
// queue seam, the simulator, and the site calendar its conditions are judged with.
export * from './calendar/index.js';
export type { CallPort, Utterance, PlayOutcome, RingOutcome } from './call-port.js';
export { actionFields, type PathStep } from './path.js';
export { NoQueues, type QueueGateway, type DistributeRequest, type CallbackOffer } from './queue-gateway.js';
export {
  ScenarioInterpreter,
  announcement,
  nameIn,
  OFFLINE_RINGING_MS,
  CALL_USER_RING_MS,
  NUMBER_RING_MS,
  type InterpreterDeps,
  type ScenarioSource,
  type RunOptions,
  type RunResult,
} from './interpreter.js';
export { LiveCallPort, speechFrom, type SpeechSources, type LivePortDeps } from './live-port.js';
export { ScenarioCalls, type ScenarioCallsDeps } from './scenario-calls.js';
export { directorySource, onlineCheck } from './source.js';
export { simulate, parseAt, type SimulateInput, type SimulateResult, type SimulatorDeps } from './simulator.js';
export { ScenarioModule, type ScenarioModuleParts } from './wiring.js';
