// SIP dialogs (RFC 3261 §12) and the errors of the intent-level API.
export { Dialog, dialogKey, ALLOW, type DialogRole, type DialogState, type DialogEndReason, type DialogEvents, type DialogRequestOptions, type DialogHost, type DialogInit } from './dialog.js';
export { SipError } from './sip-error.js';
export { targetOf } from './target.js';
export { MIN_SE, SessionTimer, acceptSessionTimer, negotiateAsUas, parseSessionExpires, formatSessionExpires, supportsTimer, type SessionExpires, type Refresher, type UasNegotiation, type AcceptedSessionTimer, type SessionTimerAnswer } from './session-timer.js';
export { DialogJournal, JOURNAL_FLUSH_MS, type JournalledDialog, type JournalledInvite, type RingingInvite } from './dialog-journal.js';
