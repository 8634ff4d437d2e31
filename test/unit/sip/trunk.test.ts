import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock, silentLogger } from '../../../services/shared/index.js';
import { Store } from '../../../services/storage/index.js';
import { Directory } from '../../../services/directory/index.js';
import { DigestServer, computeHa1 } from '../../../services/sip/auth/index.js';
import { parseMessage, SipRequest, SipResponse } from '../../../services/sip/message/index.js';
import { TrunkService, parseAddressRule, ruleMatches, type TrunkSipHost } from '../../../services/sip/trunk/index.js';
import type { TrunkRequestOptions } from '../../../services/sip/trunk/index.js';

const flush = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
};

/** A fake provider registrar: challenges, checks the digest, grants `grant` seconds (or answers `fail`). */
function provider(clock: ManualClock, opts: { grant?: number; fail?: number; minExpires?: number } = {}) {
  const digest = new DigestServer({ realm: 'provider.test', clock });
  const ha1 = computeHa1('MD5', 'acme', 'provider.test', 'trunkpw1');
  const seen: TrunkRequestOptions[] = [];
  const state = { fail: opts.fail, grant: opts.grant ?? 300, minExpires: opts.minExpires };
  const host: TrunkSipHost = {
    contactFor: (transport, user) => `<sip:${user}@127.0.0.1:5070${transport === 'tcp' ? ';transport=tcp' : ''}>`,
    request: async (o) => {
      seen.push(o);
      const req = SipRequest.create({ method: o.method, uri: o.uri, headers: o.headers });
      if (state.fail) return new SipResponse(state.fail);
      const v = digest.verify({ authorization: req.getAll('authorization'), method: 'REGISTER', requestUri: o.uri, account: (u) => (u === 'acme' ? { ha1Md5: ha1, algorithms: 'MD5' } : undefined) });
      if (!v.ok) {
        const r = new SipResponse(401);
        for (const c of digest.challenge('MD5', v.stale)) r.append('www-authenticate', c);
        return r;
      }
      const expires = Number(req.get('expires'));
      if (state.minExpires && expires > 0 && expires < state.minExpires) return new SipResponse(423).set('min-expires', state.minExpires);
      const r = new SipResponse(200);
      r.append('contact', `${req.get('contact')};expires=${Math.min(expires, state.grant)}`);
      return r;
    },
  };
  return { host, seen, state };
}

function dir() {
  const store = Store.open(':memory:');
  const d = new Directory(store.db, 'relais.test');
  return { store, d };
}

test('address rules: exact, CIDR, address:port, IPv6; bad entries named', () => {
  assert.ok(ruleMatches(parseAddressRule('203.0.113.5'), '203.0.113.5', 1234));
  assert.ok(ruleMatches(parseAddressRule('203.0.113.0/24'), '203.0.113.77', 5060));
  assert.ok(!ruleMatches(parseAddressRule('203.0.113.0/24'), '203.0.114.1', 5060));
  assert.ok(ruleMatches(parseAddressRule('127.0.0.1:5080'), '127.0.0.1', 5080));
  assert.ok(!ruleMatches(parseAddressRule('127.0.0.1:5080'), '127.0.0.1', 5081));
  assert.ok(ruleMatches(parseAddressRule('[2001:db8::1]'), '2001:db8::1', 5060));
  assert.ok(ruleMatches(parseAddressRule('0.0.0.0/0'), '8.8.8.8', 5060));
  assert.throws(() => parseAddressRule('example.com'), /allowed IP "example.com"/);
});

test('trunk registration: digest challenge answered, granted expiry honoured, refreshed before it ends', async () => {
  const clock = new ManualClock();
  const { d, store } = dir();
  d.trunks.create({ name: 'acme', host: '127.0.0.1', port: 5080, username: 'acme', secret: 'trunkpw1', realm: 'provider.test', expires: 600 });
  const p = provider(clock, { grant: 300 });
  const svc = new TrunkService({ trunks: d.trunks, numbers: d.numbers, extensions: d.extensions, clock, logger: silentLogger });
  svc.attach(p.host);
  await svc.start();
  await flush();
  const st = svc.status()[0]!;
  assert.ok(st.registration !== 'ip');
  assert.equal(st.registration.state, 'registered');
  assert.equal(st.registration.expires, 300);
  assert.equal(p.seen.length, 2, 'REGISTER, 401, REGISTER with credentials');
  assert.equal(p.seen[0]!.uri, 'sip:provider.test');
  assert.deepEqual(p.seen[0]!.target, { address: '127.0.0.1', port: 5080, transport: 'udp' });
  assert.equal(p.seen[0]!.headers['Expires'], '600');
  assert.equal(p.seen[0]!.headers['Call-ID'], p.seen[1]!.headers['Call-ID']);
  assert.equal(p.seen[1]!.headers['CSeq'], '2 REGISTER');
  assert.match(String(p.seen[1]!.headers['Authorization']), /username="acme"/);
  // Refresh at 270 s (300 − 30), not at 300.
  clock.advance(269_000);
  await flush();
  assert.equal(p.seen.length, 2);
  clock.advance(1_000);
  await flush();
  assert.equal(p.seen.length, 4);
  assert.equal(p.seen[2]!.headers['Call-ID'], p.seen[0]!.headers['Call-ID'], 'same Call-ID for refreshes (§10.2.4)');
  assert.equal(svc.health().status, 'ok');
  await svc.stop();
  store.close();
});

test('trunk registration: failures back off 10 s, 20 s, 40 s…; recovery resets; 423 retried with Min-Expires', async () => {
  const clock = new ManualClock();
  const { d, store } = dir();
  d.trunks.create({ name: 'acme', host: '127.0.0.1', port: 5080, username: 'acme', secret: 'trunkpw1', expires: 120 });
  const p = provider(clock, { fail: 503, minExpires: 180 });
  const svc = new TrunkService({ trunks: d.trunks, numbers: d.numbers, extensions: d.extensions, clock, logger: silentLogger });
  svc.attach(p.host);
  await svc.start();
  await flush();
  const reg = () => {
    const r = svc.status()[0]!.registration;
    assert.ok(r !== 'ip');
    return r;
  };
  assert.equal(reg().state, 'failed');
  assert.equal(reg().lastStatus, 503);
  assert.equal(svc.health().status, 'degraded');
  const times: number[] = [];
  for (let i = 0; i < 3; i++) {
    const before = p.seen.length;
    const start = clock.monotonic();
    while (p.seen.length === before) {
      clock.advance(1000);
      await flush();
    }
    times.push((clock.monotonic() - start) / 1000);
  }
  assert.deepEqual(times, [10, 20, 40]);
  p.state.fail = undefined;
  clock.advance(80_000);
  await flush();
  assert.equal(reg().state, 'registered');
  assert.equal(reg().consecutiveFailures, 0);
  assert.equal(reg().expires, 180, 'asked 120, got 423 Min-Expires: 180, retried with 180');
  await svc.stop();
  store.close();
});

test('wrong trunk password: a second non-stale challenge is a failure, not a loop', async () => {
  const clock = new ManualClock();
  const { d, store } = dir();
  d.trunks.create({ name: 'acme', host: '127.0.0.1', port: 5080, username: 'acme', secret: 'wrongpw1', expires: 600 });
  const p = provider(clock);
  const svc = new TrunkService({ trunks: d.trunks, numbers: d.numbers, extensions: d.extensions, clock, logger: silentLogger });
  svc.attach(p.host);
  await svc.start();
  await flush();
  const r = svc.status()[0]!.registration;
  assert.ok(r !== 'ip');
  assert.equal(r.state, 'failed');
  assert.equal(r.lastStatus, 401);
  assert.equal(p.seen.length, 2);
  await svc.stop();
  store.close();
});

function invite(ruri: string, to: string): SipRequest {
  return parseMessage(Buffer.from([
    `INVITE ${ruri} SIP/2.0`, 'Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKi1', 'Max-Forwards: 70',
    'From: <sip:+33123456789@provider.test>;tag=a', `To: <${to}>`, 'Call-ID: inb-1', 'CSeq: 1 INVITE',
    'Contact: <sip:10.0.0.1:5060>', 'Content-Length: 0', '', '',
  ].join('\r\n'))) as SipRequest;
}

test('inbound: matched by allowed IP, by provider host:port, by our registration contact; DID found in numbers', async () => {
  const clock = new ManualClock();
  const { d, store } = dir();
  const ipPeer = d.trunks.create({ name: 'ippeer', host: '198.51.100.7', register: false, allowedIps: ['198.51.100.0/28'] });
  d.trunks.create({ name: 'acme', host: '203.0.113.9', port: 5060, username: 'acme', secret: 'trunkpw1' });
  const n1 = d.numbers.create({ did: '+33199000001', trunkId: ipPeer.id });
  const n2 = d.numbers.create({ did: '33199000002' });
  const p = provider(clock, { fail: 503 });
  const svc = new TrunkService({ trunks: d.trunks, numbers: d.numbers, extensions: d.extensions, clock, logger: silentLogger });
  svc.attach(p.host);
  await svc.start();
  const m1 = svc.matchInbound({ msg: invite('sip:+33199000001@relais.test', 'sip:+33199000001@relais.test'), source: { transport: 'udp', address: '198.51.100.3', port: 5099 } });
  assert.equal(m1?.trunkName, 'ippeer');
  assert.equal(m1?.by, 'allowed-ip');
  assert.equal(m1?.number?.id, n1.id);
  const m2 = svc.matchInbound({ msg: invite('sip:acme@192.0.2.10:5060', 'sip:0033199000002@provider.test'), source: { transport: 'udp', address: '203.0.113.9', port: 40000 } });
  assert.equal(m2?.trunkName, 'acme');
  assert.equal(m2?.by, 'registration');
  assert.equal(m2?.dialled, '0033199000002');
  assert.equal(m2?.number?.id, n2.id, '0033… matches 33…');
  const m3 = svc.matchInbound({ msg: invite('sip:+33199000001@relais.test', 'sip:x@y'), source: { transport: 'udp', address: '203.0.113.9', port: 5060 } });
  assert.equal(m3?.by, 'host');
  // A phone on the provider's address but another port, calling an extension: not the trunk.
  assert.equal(svc.matchInbound({ msg: invite('sip:1001@relais.test', 'sip:1001@relais.test'), source: { transport: 'udp', address: '203.0.113.9', port: 40000 } }), undefined);
  assert.equal(svc.matchInbound({ msg: invite('sip:1001@relais.test', 'sip:1001@relais.test'), source: { transport: 'udp', address: '127.0.0.1', port: 5060 } }), undefined);
  await svc.stop();
  store.close();
});

test('outbound: route by prefix (strip, prepend), target and credentials; caller ID only from numbers the user is assigned', async () => {
  const clock = new ManualClock();
  const { d, store } = dir();
  const alice = d.users.create({ username: 'alice', name: 'Alice' });
  const bob = d.users.create({ username: 'bob', name: 'Bob' });
  d.extensions.create({ number: '1000', userId: alice.id, secret: 'pw1000secret' });
  d.extensions.create({ number: '1001', userId: bob.id, secret: 'pw1001secret' });
  d.extensions.create({ number: '1002', secret: 'pw1002secret' });
  const t = d.trunks.create({ name: 'acme', host: '127.0.0.1', port: 5080, register: false, username: 'acme', secret: 'trunkpw1', callerId: '+33100000000' });
  d.trunks.createRoute({ name: 'national', pattern: '0N.', strip: 1, prepend: '+33', trunkId: t.id, priority: 1 });
  d.trunks.createRoute({ name: 'intl', pattern: '00.', strip: 2, prepend: '+', trunkId: t.id, priority: 0 });
  d.numbers.create({ did: '+33199000001', trunkId: t.id, userIds: [alice.id] });
  d.numbers.create({ did: '+33100000000', userIds: [alice.id] });
  const svc = new TrunkService({ trunks: d.trunks, numbers: d.numbers, extensions: d.extensions, clock, logger: silentLogger });
  await svc.start();
  const r = svc.routeOutbound('0612345678', '1000')!;
  assert.equal(r.routeName, 'national');
  assert.equal(r.send, '+33612345678');
  assert.equal(r.uri, 'sip:+33612345678@127.0.0.1:5080');
  assert.deepEqual(r.target, { address: '127.0.0.1', port: 5080, transport: 'udp' });
  assert.deepEqual(r.auth, { username: 'acme', password: 'trunkpw1' });
  assert.equal(r.callerId, '+33199000001', "alice's number on this trunk");
  assert.equal(svc.routeOutbound('0044201234567', '1000')!.routeName, 'intl');
  assert.equal(svc.routeOutbound('0044201234567', '1000')!.send, '+44201234567');
  assert.equal(svc.routeOutbound('0612345678', '1001')!.callerId, 'anonymous', 'bob is assigned to no number; the trunk default is a number he is not assigned to');
  assert.equal(svc.routeOutbound('0612345678', '1002')!.callerId, 'anonymous');
  assert.equal(svc.routeOutbound('1234', '1000'), undefined);
  await svc.stop();
  store.close();
});

test('reload: a removed trunk un-registers (Expires: 0), a new one starts, an unchanged one keeps its registration', async () => {
  const clock = new ManualClock();
  const { d, store } = dir();
  const a = d.trunks.create({ name: 'a', host: '127.0.0.1', port: 5080, username: 'acme', secret: 'trunkpw1', expires: 600 });
  d.trunks.create({ name: 'b', host: '127.0.0.1', port: 5081, username: 'acme', secret: 'trunkpw1', expires: 600 });
  const p = provider(clock);
  const svc = new TrunkService({ trunks: d.trunks, numbers: d.numbers, extensions: d.extensions, clock, logger: silentLogger });
  svc.attach(p.host);
  await svc.start();
  await flush();
  const regB = svc.registration('b');
  assert.equal(regB?.status().state, 'registered');
  d.trunks.delete(a.id);
  d.trunks.create({ name: 'c', host: '127.0.0.1', register: false, allowedIps: ['127.0.0.2'] });
  const before = p.seen.length;
  await svc.reload();
  await flush();
  const unreg = p.seen.slice(before).filter((r) => r.headers['Expires'] === '0');
  assert.equal(unreg.length, 2, 'un-REGISTER of a (challenged, then with credentials)');
  assert.deepEqual(unreg.map((r) => r.target.port), [5080, 5080]);
  assert.equal(svc.registration('b'), regB, 'b untouched');
  assert.deepEqual(svc.status().map((s) => [s.name, s.registration === 'ip' ? 'ip' : s.registration.state]), [['b', 'registered'], ['c', 'ip']]);
  await svc.stop();
  store.close();
});
