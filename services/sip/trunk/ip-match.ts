// Source-address rules of IP-authenticated trunks: "203.0.113.5", "203.0.113.0/24", "203.0.113.5:5060", IPv6 exact.
import net from 'node:net';

export interface AddressRule {
  /** IPv4 network as a 32-bit number (or undefined for an IPv6 exact match). */
  network?: number;
  maskBits?: number;
  address?: string;
  port?: number | undefined;
}

function ipv4ToInt(a: string): number {
  const p = a.split('.').map(Number);
  return (((p[0]! << 24) >>> 0) + (p[1]! << 16) + (p[2]! << 8) + p[3]!) >>> 0;
}

/** Parses one allowed_ips entry; throws an Error naming the entry when it is not an address, CIDR or address:port. */
export function parseAddressRule(entry: string): AddressRule {
  const s = entry.trim();
  const cidr = /^(\d+\.\d+\.\d+\.\d+)\/(\d{1,2})$/.exec(s);
  if (cidr && net.isIPv4(cidr[1]!) && Number(cidr[2]) <= 32) {
    const bits = Number(cidr[2]);
    const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
    return { network: (ipv4ToInt(cidr[1]!) & mask) >>> 0, maskBits: bits };
  }
  const withPort = /^(\d+\.\d+\.\d+\.\d+):(\d{1,5})$/.exec(s);
  if (withPort && net.isIPv4(withPort[1]!) && Number(withPort[2]) <= 65535) {
    return { network: ipv4ToInt(withPort[1]!), maskBits: 32, port: Number(withPort[2]) };
  }
  if (net.isIPv4(s)) return { network: ipv4ToInt(s), maskBits: 32 };
  const v6 = s.replace(/^\[|\]$/g, '');
  if (net.isIPv6(v6)) return { address: v6.toLowerCase() };
  throw new Error(`allowed IP "${entry}" is not an address, a CIDR network or address:port`);
}

export function ruleMatches(rule: AddressRule, address: string, port: number): boolean {
  if (rule.port !== undefined && rule.port !== port) return false;
  if (rule.address !== undefined) return address.toLowerCase() === rule.address;
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  if (!net.isIPv4(v4)) return false;
  const bits = rule.maskBits ?? 32;
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  return ((ipv4ToInt(v4) & mask) >>> 0) === rule.network;
}
