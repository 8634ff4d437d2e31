// AddressList (node:net BlockList): IPv4/IPv6 addresses and networks, IPv4-mapped forms, bad entries named.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AddressList, lanSubnets, ownAddresses, parseAddressRule, ruleMatches } from '../../../services/sip/index.js';

test('address list: IPv4 and IPv6 addresses and CIDR networks, IPv4-mapped IPv6 matches the IPv4 entry', () => {
  const list = new AddressList().add('192.168.1.0/24').add('10.1.2.3').add('2001:db8:1::/48').add('[fd00::1]');
  assert.ok(list.has('192.168.1.200'));
  assert.ok(list.has('::ffff:192.168.1.200'));
  assert.ok(!list.has('192.168.2.1'));
  assert.ok(list.has('10.1.2.3'));
  assert.ok(!list.has('10.1.2.4'));
  assert.ok(list.has('2001:db8:1:ffff::9'));
  assert.ok(!list.has('2001:db8:2::9'));
  assert.ok(list.has('FD00::1'));
  assert.ok(!list.has('not an address'));
  assert.deepEqual(list.entries(), ['192.168.1.0/24', '10.1.2.3', '2001:db8:1::/48', 'fd00::1']);
  assert.throws(() => new AddressList().add('192.168.1.0/33'), /"192.168.1.0\/33" is not an IP address or a CIDR network/);
  assert.throws(() => new AddressList().add('example.com'), /is not an IP address/);
});

test('trunk allowed_ips: IPv6 CIDR rules match (they used to be accepted and ignored), ports still checked', () => {
  assert.ok(ruleMatches(parseAddressRule('2001:db8::/32'), '2001:db8:aa::1', 5060));
  assert.ok(!ruleMatches(parseAddressRule('2001:db8::/32'), '2001:db9::1', 5060));
  assert.ok(ruleMatches(parseAddressRule('[2001:db8::1]:5080'), '2001:db8::1', 5080));
  assert.ok(!ruleMatches(parseAddressRule('[2001:db8::1]:5080'), '2001:db8::1', 5081));
  assert.ok(ruleMatches(parseAddressRule('203.0.113.0/24'), '::ffff:203.0.113.9', 5060));
  assert.throws(() => parseAddressRule('2001:db8::/129'), /allowed IP "2001:db8::\/129"/);
  assert.throws(() => parseAddressRule('10.0.0.1:0'), /allowed IP "10.0.0.1:0"/);
});

test('own addresses and LAN subnets come from the interfaces; other loopback addresses are not the box', () => {
  const interfaces = {
    lo: [{ address: '127.0.0.1', netmask: '255.0.0.0', family: 'IPv4', mac: '00:00:00:00:00:00', internal: true, cidr: '127.0.0.1/8' }],
    eth0: [
      { address: '192.168.1.10', netmask: '255.255.255.0', family: 'IPv4', mac: 'aa:bb:cc:dd:ee:ff', internal: false, cidr: '192.168.1.10/24' },
      { address: 'fe80::1', netmask: 'ffff:ffff:ffff:ffff::', family: 'IPv6', mac: 'aa:bb:cc:dd:ee:ff', internal: false, cidr: 'fe80::1/64', scopeid: 2 },
    ],
  } as unknown as ReturnType<typeof import('node:os').networkInterfaces>;
  assert.deepEqual(ownAddresses(interfaces).sort(), ['127.0.0.1', '192.168.1.10', '::1', 'fe80::1'].sort());
  assert.deepEqual(lanSubnets(interfaces), ['192.168.1.10/24']);
  assert.ok(new AddressList().add(lanSubnets(interfaces)[0]!).has('192.168.1.99'));
});

test('private addresses (the NAT check of in-dialog requests) on node:net BlockList: IPv4 ranges, IPv6 ULA, link-local, loopback', async () => {
  const { isPrivateAddress } = await import('../../../services/shared/index.js');
  for (const a of ['10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.1.10', '127.0.0.1', '169.254.1.1', '100.64.0.1', '::ffff:192.168.1.10', '::1', 'fd12:3456::1', 'fe80::1', '[fd00::2]']) {
    assert.ok(isPrivateAddress(a), a);
  }
  for (const a of ['172.32.0.1', '8.8.8.8', '100.128.0.1', '2001:db8::1', '2a01:e0a::1', '', 'phone.example.com']) assert.ok(!isPrivateAddress(a), a);
});
