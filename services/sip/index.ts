// SIP stack public face: message layer, transports, transactions, dialogs and the user-agent core (SipStack).
export * from './message/index.js';
