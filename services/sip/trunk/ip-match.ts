// Source-address rules of IP-authenticated trunks: "203.0.113.5", "203.0.113.0/24", "203.0.113.5:5060",
// "2001:db8::1", "2001:db8::/48", "[2001:db8::1]:5060" (matching on node:net BlockList through AddressList).
import { AddressList } from '../transport/address-list.js';

export interface AddressRule {
  /** The address or network of the rule (one entry). */
  list: AddressList;
  port?: number | undefined;
}

/** Parses one allowed_ips entry; throws an Error naming the entry when it is not an address, CIDR or address:port. */
export function parseAddressRule(entry: string): AddressRule {
  const s = entry.trim();
  const v4Port = /^(\d+\.\d+\.\d+\.\d+):(\d{1,5})$/.exec(s);
  const v6Port = /^\[([0-9A-Fa-f:.]+)\]:(\d{1,5})$/.exec(s);
  const withPort = v4Port ?? v6Port;
  try {
    if (withPort) {
      const port = Number(withPort[2]);
      if (port < 1 || port > 65535) throw new Error('port');
      return { list: new AddressList().add(withPort[1]!), port };
    }
    return { list: new AddressList().add(s) };
  } catch {
    throw new Error(`allowed IP "${entry}" is not an address, a CIDR network or address:port`);
  }
}

export function ruleMatches(rule: AddressRule, address: string, port: number): boolean {
  if (rule.port !== undefined && rule.port !== port) return false;
  return rule.list.has(address);
}
