// Live events: the typed bus modules publish on, and the publishers of calls, registrations and trunks.
export {
  EventBus,
  EVENT_AUDIENCE,
  type EventBusOptions,
  type EventListener,
  type RelaisEvent,
  type RelaisEventMap,
  type RelaisEventType,
  type SnapshotSource,
  type CallView,
  type CallPartyView,
  type RegistrationView,
  type TrunkStatusView,
} from './event-bus.js';
export { publishBoard, publishHealth, publishUpdates } from './appliance-sources.js';
export { publishCalls, publishRegistrations, publishTrunks, publishVoicemail, type VoicemailSource, callView, registrationView, trunkStatusViews, type RegistrationSource, type TrunkStatusSource } from './sources.js';
