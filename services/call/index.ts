// Call control: B2BUA calls between extensions and trunks (legs, bridge, hold, transfer, recording), history, voicemail.
export {
  CallService,
  applyLateAnswer,
  mediaFailureStatus,
  type CallServiceOptions,
  type CallSetup,
  type ConnectResult,
  type InboundCallHandler,
  type UnansweredCall,
  type VoicemailHandler,
} from './call-service.js';
export { Call, Leg, type CallEvents, type CallInfo, type CallState, type Party, type LegRole } from './call.js';
export { FeatureCodes, type FeatureCall, type FeatureHandler, type FeatureCodeEntry } from './feature-codes.js';
export {
  RingEngine,
  RING_MODES,
  DEFAULT_RING_TIME_MS,
  pickFailureStatus,
  partyOfExtension,
  type RingMode,
  type RingTarget,
  type ResolvedTarget,
  type RingRequest,
  type RingResult,
  type RingFailureReason,
  type RingEngineDeps,
} from './ring-engine.js';
export { parseReplaces, CallTransfer } from './transfer.js';
export { resolveDestination, type Destination } from './target-resolver.js';
export { CallHistory, VoicemailRepository, type CallRecord, type CallEventRecord, type CallDirection, type CallStatus, type VoicemailRecord } from './call-history.js';
export { Voicemail, pcmRms, soundMs, type VoicemailOptions, type VoicemailPrompts, type RecordingEnd } from './voicemail.js';
export type {
  CallSipHost,
  CallMiddleware,
  CallDialog,
  CallIncomingRequest,
  CallServerResponse,
  CallSource,
  CallUacOptions,
  CallRegistrar,
  CallBinding,
  CallPresence,
  CallTrunks,
  CallInboundMatch,
  CallInboundNumber,
  OutboundRoute,
  UacTarget,
  SendOptions,
  BlfState,
} from './sip-host.js';
export { statusOf } from './sip-host.js';
export { CallModule, type CallModuleParts } from './wiring.js';
