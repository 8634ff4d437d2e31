// Call control: B2BUA calls between extensions and trunks (legs, bridge, hold, transfer, recording), history, voicemail.
export { CallService, parseReplaces, pickFailureStatus, type CallEvents, type CallServiceOptions, type UnansweredCall, type FeatureCall, type VoicemailHandler } from './call-service.js';
export { Call, Leg, type CallInfo, type CallState, type Party, type LegRole } from './call.js';
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
