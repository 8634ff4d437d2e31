// SIP stack public face: message layer, transports, transactions, dialogs and the user-agent core (SipStack).
export * from './message/index.js';
export * from './transport/index.js';
export * from './transaction/index.js';
export * from './dialog/index.js';
export * from './user-agent/index.js';
export * from './auth/index.js';
export * from './registrar/index.js';
export * from './presence/index.js';
export * from './trunk/index.js';
