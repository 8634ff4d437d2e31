// Next-hop resolution (RFC 3263 reduced to what a LAN PBX needs): host, port and transport of a URI.
import { type SipUri } from '../message/index.js';
import { type Target, type TransportKind } from '../transport/index.js';

export function targetOf(uri: SipUri, fallback: TransportKind = 'udp'): Target {
  const t = uri.transport;
  // A sips: URI is reached over TLS whatever its transport parameter says (RFC 3261 §19.1.2, §26.2.2).
  const transport: TransportKind = uri.scheme === 'sips' || t === 'tls' ? 'tls' : t === 'tcp' ? 'tcp' : t === 'udp' ? 'udp' : fallback;
  const address = uri.params['maddr'] ?? uri.host.replace(/^\[|\]$/g, '');
  return { transport, address, port: uri.port ?? (uri.scheme === 'sips' ? 5061 : 5060) };
}
