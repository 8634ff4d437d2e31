// Queues (ACD) and callbacks: the engine, its strategies and callback rules (docs/queues.md).
export * from './model.js';
export { STRATEGIES, pickAgents, type Candidate, type PickInput } from './strategies.js';
export {
  QueueEngine,
  ROUND_PAUSE_MS,
  type AgentLiveState,
  type AgentRinger,
  type RingRequest,
  type RingResult,
  type RingHandle,
  type EnqueueInput,
  type Enqueued,
  type QueueEngineOptions,
  type QueueView,
  type ParticipantView,
  type WaitingView,
} from './queue-engine.js';
export {
  CALLBACK_STATUSES,
  CALLBACK_LINKS,
  PENDING_STATUSES,
  lostCallQualifies,
  nextBusinessTime,
  nextAttemptAt,
  normalizeNumber,
  sameNumber,
  isWithheld,
  neglectable,
  checkCallbackNumber,
  type CallbackStatus,
  type CallbackLink,
  type LostReason,
} from './callback-rules.js';
export {
  CallbackRepository,
  QueueCallRepository,
  QueueEventRepository,
  type Callback,
  type CallbackSource,
  type NewCallback,
  type CallbackFilter,
  type QueueStats,
  type AgentStats,
  type QueueHistoryEvent,
} from './repositories.js';
export {
  QueueService,
  toConfig,
  type QueueServiceOptions,
  type QueueServiceEvent,
  type CallbackEvent,
  type CallbackEventType,
  type CallbackInput,
  type CallbackCreated,
} from './queue-service.js';
export { LiveAgents, type LiveAgentSources } from './live-agents.js';
export { QueueCalls, soundPath, type DistributeResult, type DistributeOptions, type QueueCallsDeps } from './queue-calls.js';
export { publishQueues } from './event-bridge.js';
export { queueGateway } from './queue-gateway.js';
