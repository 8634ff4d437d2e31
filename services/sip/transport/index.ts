// SIP transports (RFC 3261 §18, RFC 3581): UDP and TCP on bind:port behind one seam, and the transport layer.
export { type Source, type Target, type TransportKind } from './source.js';
export { type SipTransport, type TransportSink } from './sip-transport.js';
export { UdpTransport } from './udp-transport.js';
export { TcpTransport, type TcpTransportOptions } from './tcp-transport.js';
export { AddressList, normalizeAddress, parseNetwork, ownAddresses, lanSubnets } from './address-list.js';
export { FloodControl, type FloodControlOptions, type FloodTier } from './flood-control.js';
export { TransportLayer, type MessageHandler, type TransportCounters, type SourceGuard } from './transport-layer.js';
export { TlsTransport, type TlsTransportOptions, type TlsCertificateSource } from './tls-transport.js';
