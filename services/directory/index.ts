// Directory: the configuration entities of a site (users, extensions, numbers, trunks, queues, scenarios,
// sounds, phones, settings), each with a repository that owns its SQL.
export {
  UserRepository,
  hashPassword,
  verifyPasswordHash,
  verifyPasswordHashAsync,
  checkPassword,
  checkUsername,
  checkRights,
  ROLES,
  RIGHTS,
  type User,
  type UserInput,
  type UserPatch,
  type Role,
  type Right,
} from './users.js';
export {
  ExtensionRepository,
  computeHa1,
  generateSecret,
  DIGEST_ALGORITHMS,
  type Extension,
  type ExtensionInput,
  type ExtensionPatch,
  type DigestAlgorithm,
} from './extensions.js';
export { Directory } from './directory.js';
export { readCache, type ReadCache } from './prepared.js';
export {
  NumberRepository,
  NUMBER_MODES,
  RING_MODES,
  BEHAVIOURS,
  OFFLINE_ACTION_TYPES,
  DID_RE,
  type InboundNumber,
  type InboundNumberInput,
  type NumberMode,
  type RingMode,
  type Behaviour,
  type OfflineAction,
} from './numbers.js';
export {
  TrunkRepository,
  trunkWithDefaults,
  routeMatches,
  applyRoute,
  ROUTE_PATTERN_RE,
  type Trunk,
  type TrunkInput,
  type TrunkTransport,
  type OutboundRoute,
  type OutboundRouteInput,
} from './trunks.js';
export {
  QueueRepository,
  queueWithDefaults,
  queueState,
  QUEUE_STRATEGIES,
  QUEUE_TIMEOUT_TYPES,
  CLOSURE_TYPES,
  CALLBACK_ORDERS,
  DEFAULT_LOST_CALL_RULES,
  type CallbackOrder,
  type LostCallRules,
  type Queue,
  type QueueInput,
  type QueueMember,
  type QueueStrategy,
  type QueueState,
  type QueueTimeoutAction,
  type ClosureAction,
} from './queues.js';
export { ScenarioRepository, requireValidActions, type Scenario, type ScenarioVersion } from './scenarios.js';
export { SoundRepository, SOUND_KINDS, SOUND_FILE_RE, type Sound, type SoundInput, type SoundKind } from './sounds.js';
export { PhoneRepository, PHONE_VENDORS, normaliseMac, type Phone, type PhoneInput, type PhoneVendor } from './phones.js';
export { SettingsRepository } from './settings.js';
export { Checker, formatPath, isObj, type Issue, type Path, type Obj } from './checker.js';
export * from './scenario-model.js';
export { findGotoLoops, type LoopIssue } from './scenario-graph.js';
