// Next-hop resolution (RFC 3263 reduced to what a LAN PBX needs): host, port and transport of a URI.
import { type SipUri } from '../message/index.js';
import { type Target, type TransportKind } from '../transport/index.js';

export function targetOf(uri: SipUri, fallback: TransportKind = 'udp'): Target {
  const t = uri.transport;
  const transport: TransportKind = t === 'tcp' || t === 'tls' ? 'tcp' : t === 'udp' ? 'udp' : fallback;
  const address = uri.params['maddr'] ?? uri.host.replace(/^\[|\]$/g, '');
  return { transport, address, port: uri.port ?? (uri.scheme === 'sips' ? 5061 : 5060) };
}
