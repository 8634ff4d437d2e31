// A set of IP addresses and CIDR networks (IPv4 and IPv6) on node:net BlockList: allow-lists, trunk source rules.
import net from 'node:net';
import os from 'node:os';
import { normalizeAddress, parseNetwork } from '../../shared/network.js';

export { normalizeAddress, parseNetwork };

/** Addresses and networks; `has` answers for IPv4, IPv6 and IPv4-mapped IPv6 alike. */
export class AddressList {
  private readonly list = new net.BlockList();
  private readonly texts: string[] = [];

  /** Adds an address or network; throws an Error naming the entry when it is neither. */
  add(entry: string): this {
    const n = parseNetwork(entry);
    if (!n) throw new Error(`"${entry}" is not an IP address or a CIDR network`);
    const max = n.family === 'ipv4' ? 32 : 128;
    if (n.prefix === max) this.list.addAddress(n.address, n.family);
    else this.list.addSubnet(n.address, n.prefix, n.family);
    this.texts.push(n.prefix === max ? n.address : `${n.address}/${n.prefix}`);
    return this;
  }

  has(address: string): boolean {
    if (this.texts.length === 0) return false;
    const a = normalizeAddress(address);
    if (net.isIPv4(a)) return this.list.check(a, 'ipv4');
    if (net.isIPv6(a)) return this.list.check(a, 'ipv6');
    return false;
  }

  get size(): number {
    return this.texts.length;
  }

  /** The entries as added (normalized), for listings. */
  entries(): string[] {
    return [...this.texts];
  }
}

/**
 * The box's own addresses: every interface address plus 127.0.0.1 and ::1. Other loopback addresses (127.0.0.2 and
 * up) are deliberately not in it: they count as outside hosts (tests play the attacker there).
 */
export function ownAddresses(interfaces = os.networkInterfaces()): string[] {
  const out = new Set(['127.0.0.1', '::1']);
  for (const list of Object.values(interfaces)) for (const a of list ?? []) out.add(normalizeAddress(a.address));
  return [...out];
}

/** The LAN subnets the box is on (non-internal interfaces), e.g. ["192.168.1.0/24", "fd00::/64"]. */
export function lanSubnets(interfaces = os.networkInterfaces()): string[] {
  const out = new Set<string>();
  for (const list of Object.values(interfaces)) {
    for (const a of list ?? []) {
      if (a.internal || !a.cidr) continue;
      // Link-local IPv6 (fe80::/10) is on every interface and says nothing about the office.
      if (a.family === 'IPv6' && a.address.toLowerCase().startsWith('fe80')) continue;
      out.add(a.cidr);
    }
  }
  return [...out];
}
