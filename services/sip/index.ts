// SIP stack public face: message layer, transports, transactions, dialogs and the user-agent core (SipStack).
export * from './message/index.js';
export * from './transport/index.js';
export * from './transaction/index.js';
export * from './dialog/index.js';
export * from './user-agent/index.js';
