// Presence (RFC 6665 SUBSCRIBE/NOTIFY): BLF (RFC 4235 dialog package) and MWI (RFC 3842 message-summary).
export { PresenceServer, entityOf, type PresenceLookup, type PresenceOptions, type PresenceEvents, type PresenceSipHost, type DialogStateProvider, type HandleResult, type PresenceSendOptions, type EventPackageHandler } from './presence-server.js';
export { formatDialogInfo, aggregateState, withEndedDialogs, dialogIdOf, DIALOG_INFO_TYPE, type BlfState, type DialogEntry, type DialogInfoDetail, type DialogInfoDocument } from './dialog-info.js';
export { formatMessageSummary, MESSAGE_SUMMARY_TYPE, type MailboxState } from './message-summary.js';
export { type EventPackageName, type TerminationReason, type SubscriptionState } from './subscription.js';
