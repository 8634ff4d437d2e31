// IP address text: normalizing what sockets report and parsing address/CIDR entries of settings.
import net from 'node:net';

/** "::ffff:192.0.2.1" (an IPv4 peer on a dual-stack socket) → "192.0.2.1"; "[2001:db8::1]" → "2001:db8::1". */
export function normalizeAddress(address: string): string {
  const a = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  return a.length > 7 && a.slice(0, 7).toLowerCase() === '::ffff:' && net.isIPv4(a.slice(7)) ? a.slice(7) : a.toLowerCase();
}

/** Parses "192.0.2.1", "192.0.2.0/24", "2001:db8::1", "[2001:db8::1]", "2001:db8::/32"; undefined when it is none. */
export function parseNetwork(entry: string): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } | undefined {
  const s = entry.trim();
  const slash = s.indexOf('/');
  const host = normalizeAddress(slash < 0 ? s : s.slice(0, slash));
  const family = net.isIPv4(host) ? 'ipv4' : net.isIPv6(host) ? 'ipv6' : undefined;
  if (!family) return undefined;
  const max = family === 'ipv4' ? 32 : 128;
  if (slash < 0) return { address: host, prefix: max, family };
  const bits = s.slice(slash + 1);
  if (!/^\d{1,3}$/.test(bits) || Number(bits) > max) return undefined;
  return { address: host, prefix: Number(bits), family };
}


/**
 * RFC 1918, loopback, link-local, carrier-grade NAT (RFC 6598), and for IPv6 loopback, unique-local (fc00::/7) and
 * link-local (fe80::/10): the addresses a peer behind NAT shows in its Contact.
 */
const PRIVATE_NETWORKS = (() => {
  const list = new net.BlockList();
  for (const [a, p] of [['10.0.0.0', 8], ['127.0.0.0', 8], ['172.16.0.0', 12], ['192.168.0.0', 16], ['169.254.0.0', 16], ['100.64.0.0', 10]] as const) list.addSubnet(a, p, 'ipv4');
  list.addAddress('::1', 'ipv6');
  list.addSubnet('fc00::', 7, 'ipv6');
  list.addSubnet('fe80::', 10, 'ipv6');
  return list;
})();

/** Answers of isPrivateAddress by address text: BlockList.check builds a SocketAddress each time (every in-dialog request asks). */
const privateAnswers = new Map<string, boolean>();
const MAX_PRIVATE_ANSWERS = 4096;

/** True for a private, loopback or link-local address (IPv4, IPv6, IPv4-mapped IPv6); false for anything else. */
export function isPrivateAddress(address: string): boolean {
  let answer = privateAnswers.get(address);
  if (answer === undefined) {
    answer = checkPrivate(address);
    if (privateAnswers.size >= MAX_PRIVATE_ANSWERS) privateAnswers.clear();
    privateAnswers.set(address, answer);
  }
  return answer;
}

function checkPrivate(address: string): boolean {
  const a = normalizeAddress(address);
  if (net.isIPv4(a)) return PRIVATE_NETWORKS.check(a, 'ipv4');
  if (net.isIPv6(a)) return PRIVATE_NETWORKS.check(a, 'ipv6');
  return false;
}
