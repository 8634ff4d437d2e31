import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../../services/shared/index.js';
import {
  computeHa1,
  computeResponse,
  DigestClient,
  DigestServer,
  NonceService,
  parseAuthHeader,
  parseChallenge,
  type DigestAccount,
} from '../../../services/sip/auth/index.js';

test('RFC 2617 §3.5 example: MD5 with qop=auth', () => {
  const ha1 = computeHa1('MD5', 'Mufasa', 'testrealm@host.com', 'Circle Of Life');
  const r = computeResponse({
    algorithm: 'MD5', ha1, method: 'GET', uri: '/dir/index.html',
    nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093', qop: 'auth', nc: '00000001', cnonce: '0a4f113b',
  });
  assert.equal(r, '6629fae49393a05397450978507c4ef1');
});

test('RFC 7616 §3.9.1 example (used by RFC 8760): MD5 and SHA-256', () => {
  const common = {
    method: 'GET', uri: '/dir/index.html', nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v',
    qop: 'auth', nc: '00000001', cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
  };
  const md5 = computeHa1('MD5', 'Mufasa', 'http-auth@example.org', 'Circle of Life');
  const sha = computeHa1('SHA-256', 'Mufasa', 'http-auth@example.org', 'Circle of Life');
  assert.equal(computeResponse({ ...common, algorithm: 'MD5', ha1: md5 }), '8ca523f5e9506fed4657c9700eebdbec');
  assert.equal(
    computeResponse({ ...common, algorithm: 'SHA-256', ha1: sha }),
    '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1',
  );
});

test('client reproduces the RFC 2617 Authorization header', () => {
  const client = new DigestClient({ username: 'Mufasa', password: 'Circle Of Life' });
  const c = parseChallenge('Digest realm="testrealm@host.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"')!;
  const value = client.answer(c, 'GET', '/dir/index.html', '0a4f113b');
  const p = parseAuthHeader(value).params;
  assert.equal(p.get('response'), '6629fae49393a05397450978507c4ef1');
  assert.equal(p.get('nc'), '00000001');
  assert.equal(p.get('opaque'), '5ccc069c403ebaf9f0171e9517f40e41');
  assert.match(value, /qop=auth,/);
  // Same nonce again: the count goes up.
  assert.equal(parseAuthHeader(client.answer(c, 'GET', '/dir/index.html')).params.get('nc'), '00000002');
});

test('auth header parser: escapes, tokens, errors name the problem', () => {
  const p = parseAuthHeader('Digest  username="a\\"b", realm=r, uri="sip:x@y;transport=udp",nc=00000001');
  assert.equal(p.scheme, 'Digest');
  assert.equal(p.params.get('username'), 'a"b');
  assert.equal(p.params.get('realm'), 'r');
  assert.equal(p.params.get('uri'), 'sip:x@y;transport=udp');
  assert.throws(() => parseAuthHeader('Digest realm="x'), /unterminated/);
  assert.throws(() => parseAuthHeader('Digest realm'), /no value/);
  assert.throws(() => parseAuthHeader('Digest realm=a, realm=b'), /twice/);
});

const REALM = 'relais.test';
function account(user: string, password: string, algorithms: DigestAccount['algorithms'] = 'MD5'): DigestAccount {
  return { ha1Md5: computeHa1('MD5', user, REALM, password), ha1Sha256: computeHa1('SHA-256', user, REALM, password), algorithms };
}

function setup(opts: { lifetime?: number; maxTracked?: number; algorithms?: DigestAccount['algorithms'] } = {}) {
  const clock = new ManualClock();
  const server = new DigestServer({ realm: REALM, clock, nonceLifetimeMs: opts.lifetime ?? 300_000, maxTrackedNonces: opts.maxTracked ?? 100, strictUri: true });
  const accounts = new Map([['1000', account('1000', 'pw1000', opts.algorithms)]]);
  const lookup = (u: string) => accounts.get(u);
  return { clock, server, lookup };
}

test('server: challenge → client answers → verified; wrong password refused without stale', () => {
  const { server, lookup } = setup();
  const challenges = server.challenge('MD5');
  assert.equal(challenges.length, 1);
  assert.match(challenges[0]!, /^Digest realm="relais.test", nonce="[^"]+", algorithm=MD5, qop="auth"$/);
  const uri = 'sip:relais.test';
  const good = new DigestClient({ username: '1000', password: 'pw1000' }).authorize({ challenges, method: 'REGISTER', uri })!;
  const v = server.verify({ authorization: [good], method: 'REGISTER', requestUri: uri, account: lookup });
  assert.deepEqual(v, { ok: true, username: '1000', algorithm: 'MD5' });
  const bad = new DigestClient({ username: '1000', password: 'nope' }).authorize({ challenges, method: 'REGISTER', uri })!;
  const w = server.verify({ authorization: [bad], method: 'REGISTER', requestUri: uri, account: lookup });
  assert.equal(w.ok, false);
  assert.equal(!w.ok && w.reason, 'wrong-password');
  assert.equal(!w.ok && w.stale, false);
  const u = server.verify({ authorization: [good.replace('username="1000"', 'username="9999"')], method: 'REGISTER', requestUri: uri, account: lookup });
  assert.equal(!u.ok && u.reason, 'unknown-user');
  const m = server.verify({ authorization: [], method: 'REGISTER', account: lookup });
  assert.equal(!m.ok && m.reason, 'missing');
  const mm = server.verify({ authorization: ['Digest realm="relais.test", nonce="x'], method: 'REGISTER', account: lookup });
  assert.equal(!mm.ok && mm.reason, 'malformed');
  const um = server.verify({ authorization: [good], method: 'REGISTER', requestUri: 'sip:other', account: lookup });
  assert.equal(!um.ok && um.reason, 'uri-mismatch');
  const lenient = new DigestServer({ realm: REALM, clock: new ManualClock() });
  const lc = lenient.challenge();
  const la = new DigestClient({ username: '1000', password: 'pw1000' }).authorize({ challenges: lc, method: 'REGISTER', uri: 'sip:127.0.0.1:5060' })!;
  assert.equal(lenient.verify({ authorization: [la], method: 'REGISTER', requestUri: uri, account: lookup }).ok, true, 'SIPp-style digest uri accepted by default');
  const method = server.verify({ authorization: [good], method: 'INVITE', requestUri: uri, account: lookup });
  assert.equal(!method.ok && method.reason, 'wrong-password');
});

test('server: expired nonce with the right password → stale=true; fresh challenge works', () => {
  const { clock, server, lookup } = setup({ lifetime: 30_000 });
  const uri = 'sip:relais.test';
  const client = new DigestClient({ username: '1000', password: 'pw1000' });
  const auth = client.authorize({ challenges: server.challenge(), method: 'REGISTER', uri })!;
  clock.advance(31_000);
  const v = server.verify({ authorization: [auth], method: 'REGISTER', requestUri: uri, account: lookup });
  assert.equal(!v.ok && v.reason, 'stale');
  assert.equal(!v.ok && v.stale, true);
  const again = server.challenge('MD5', true);
  assert.match(again[0]!, /stale=true/);
  const c = parseChallenge(again[0]!)!;
  assert.equal(c.stale, true);
  const ok = server.verify({ authorization: [client.authorize({ challenges: again, method: 'REGISTER', uri })!], method: 'REGISTER', requestUri: uri, account: lookup });
  assert.equal(ok.ok, true);
});

test('server: a nonce from another server (restart, forged) with the right password reads as stale', () => {
  const { server, lookup } = setup();
  const other = new DigestServer({ realm: REALM, clock: new ManualClock() });
  const uri = 'sip:relais.test';
  const auth = new DigestClient({ username: '1000', password: 'pw1000' }).authorize({ challenges: other.challenge(), method: 'REGISTER', uri })!;
  const v = server.verify({ authorization: [auth], method: 'REGISTER', requestUri: uri, account: lookup });
  assert.equal(!v.ok && v.stale, true);
});

test('server: nonce-count replay refused, counting up on the same nonce accepted, reordering within the window ok', () => {
  const { server, lookup } = setup();
  const uri = 'sip:relais.test';
  const challenges = server.challenge();
  const client = new DigestClient({ username: '1000', password: 'pw1000' });
  const first = client.authorize({ challenges, method: 'REGISTER', uri })!;
  const second = client.authorize({ challenges, method: 'REGISTER', uri })!;
  const third = client.authorize({ challenges, method: 'REGISTER', uri })!;
  const verify = (a: string) => server.verify({ authorization: [a], method: 'REGISTER', requestUri: uri, account: lookup });
  assert.equal(verify(first).ok, true);
  assert.equal(verify(third).ok, true);
  assert.equal(verify(second).ok, true, 'nc 2 after nc 3 is within the window');
  const replay = verify(second);
  assert.equal(!replay.ok && replay.reason, 'replay');
  assert.equal(verify(first).ok, false);
});

test('nonce service: memory stays bounded; evicted nonces read as stale, never as fresh', () => {
  const clock = new ManualClock();
  const nonces = new NonceService({ clock, maxTracked: 10 });
  const issued = Array.from({ length: 50 }, () => {
    clock.advance(1);
    return nonces.issue();
  });
  for (const n of issued) assert.equal(nonces.check(n, '00000001').status, 'ok');
  assert.ok(nonces.trackedCount() <= 10);
  assert.equal(nonces.check(issued[0]!, '00000001').status, 'stale', 'forgotten nonce cannot be replayed');
  assert.equal(nonces.check(issued[49]!, '00000001').status, 'replay');
  assert.equal(nonces.check('garbage', '00000001').status, 'foreign');
  assert.equal(nonces.check(issued[49]!, 'zz').status, 'replay');
});

test('per-extension algorithm: both → SHA-256 challenge first, then MD5; MD5-only account refuses SHA-256', () => {
  const { server, lookup } = setup({ algorithms: 'both' });
  const challenges = server.challenge('both');
  assert.equal(challenges.length, 2);
  assert.match(challenges[0]!, /algorithm=SHA-256/);
  assert.match(challenges[1]!, /algorithm=MD5/);
  const uri = 'sip:relais.test';
  const auth = new DigestClient({ username: '1000', password: 'pw1000' }).authorize({ challenges, method: 'REGISTER', uri })!;
  assert.match(auth, /algorithm=SHA-256/);
  assert.deepEqual(server.verify({ authorization: [auth], method: 'REGISTER', requestUri: uri, account: lookup }), { ok: true, username: '1000', algorithm: 'SHA-256' });

  const md5only = setup({ algorithms: 'MD5' });
  const sha = new DigestClient({ username: '1000', password: 'pw1000' }).authorize({ challenges: md5only.server.challenge('SHA-256'), method: 'REGISTER', uri })!;
  const v = md5only.server.verify({ authorization: [sha], method: 'REGISTER', requestUri: uri, account: md5only.lookup });
  assert.equal(!v.ok && v.reason, 'algorithm');
});

test('client: ignores other realms and unknown algorithms; undefined when nothing fits', () => {
  const client = new DigestClient({ username: 'u', password: 'p', realm: 'mine' });
  assert.equal(client.authorize({ challenges: ['Digest realm="other", nonce="n"'], method: 'REGISTER', uri: 'sip:x' }), undefined);
  assert.equal(client.authorize({ challenges: ['Digest realm="mine", nonce="n", algorithm=SHA-512-256'], method: 'REGISTER', uri: 'sip:x' }), undefined);
  assert.equal(client.authorize({ challenges: ['Basic realm="mine"'], method: 'REGISTER', uri: 'sip:x' }), undefined);
  const noQop = client.authorize({ challenges: ['Digest realm="mine", nonce="n"'], method: 'REGISTER', uri: 'sip:x' })!;
  assert.doesNotMatch(noQop, /qop|nc=/);
  assert.equal(parseAuthHeader(noQop).params.get('response'), computeResponse({ algorithm: 'MD5', ha1: computeHa1('MD5', 'u', 'mine', 'p'), method: 'REGISTER', uri: 'sip:x', nonce: 'n' }));
});

test('nonces are bound to the source they were issued to: from another address they read as stale, never ok', () => {
  const { server, lookup } = setup();
  const uri = 'sip:relais.test';
  const challenges = server.challenge('MD5', false, '192.0.2.10');
  const client = new DigestClient({ username: '1000', password: 'pw1000' });
  const a1 = client.authorize({ challenges, method: 'REGISTER', uri })!;
  const elsewhere = server.verify({ authorization: [a1], method: 'REGISTER', requestUri: uri, account: lookup, source: '198.51.100.9' });
  assert.equal(!elsewhere.ok && elsewhere.reason, 'stale');
  const unbound = server.verify({ authorization: [a1], method: 'REGISTER', requestUri: uri, account: lookup });
  assert.equal(!unbound.ok && unbound.reason, 'stale', 'a bound nonce is not good without its source either');
  const a2 = client.authorize({ challenges, method: 'REGISTER', uri })!;
  assert.equal(server.verify({ authorization: [a2], method: 'REGISTER', requestUri: uri, account: lookup, source: '192.0.2.10' }).ok, true);
});

test('nonces: 32 base64url characters carrying their issue time; a changed character, another source or another key reads as foreign', () => {
  const clock = new ManualClock();
  const secret = Buffer.alloc(32, 7);
  const nonces = new NonceService({ clock, secret });
  const n = nonces.issue('192.0.2.1');
  assert.match(n, /^[A-Za-z0-9_-]{32}$/);
  assert.equal(nonces.issuedAt(n, '192.0.2.1'), Math.floor(clock.now()));
  assert.equal(nonces.issuedAt(n, '192.0.2.2'), undefined);
  assert.equal(nonces.issuedAt(n), undefined);
  for (const at of [0, 15, 16, 31]) {
    const c = n[at] === 'A' ? 'B' : 'A';
    assert.equal(nonces.issuedAt(n.slice(0, at) + c + n.slice(at + 1), '192.0.2.1'), undefined, `character ${at} changed`);
  }
  assert.equal(nonces.issuedAt(n.slice(0, 31), '192.0.2.1'), undefined);
  assert.equal(nonces.issuedAt('!' + n.slice(1), '192.0.2.1'), undefined);
  assert.equal(new NonceService({ clock, secret: Buffer.alloc(32, 8) }).issuedAt(n, '192.0.2.1'), undefined);
  // Same key, same time, same randomness: the same MAC (a second instance recognises the nonce).
  assert.equal(new NonceService({ clock, secret }).issuedAt(n, '192.0.2.1'), Math.floor(clock.now()));
  const unbound = nonces.issue();
  assert.equal(nonces.issuedAt(unbound), Math.floor(clock.now()));
  assert.equal(nonces.issuedAt(unbound, '192.0.2.1'), undefined);
  const long = 'x'.repeat(300);
  assert.equal(nonces.issuedAt(nonces.issue(long), long), Math.floor(clock.now()));
});

test('nonce counts are single-use; credentials without qop use their nonce once', () => {
  const clock = new ManualClock();
  const nonces = new NonceService({ clock });
  const n = nonces.issue('192.0.2.1');
  assert.equal(nonces.check(n, '00000001', '192.0.2.1').status, 'ok');
  assert.equal(nonces.check(n, '00000001', '192.0.2.1').status, 'replay');
  assert.equal(nonces.check(n, '00000002', '192.0.2.1').status, 'ok');
  const old = nonces.issue();
  assert.equal(nonces.check(old, undefined).status, 'ok');
  assert.equal(nonces.check(old, undefined).status, 'replay', 'RFC 2069-style: the second use is refused (stale challenge)');
});

test('unknown user and wrong password: the same verdict class and the same work (a stand-in hash for unknown users)', () => {
  const { server, lookup } = setup();
  const uri = 'sip:relais.test';
  const challenges = server.challenge('MD5');
  const wrong = server.verify({ authorization: [new DigestClient({ username: '1000', password: 'x' }).authorize({ challenges, method: 'REGISTER', uri })!], method: 'REGISTER', requestUri: uri, account: lookup });
  const unknown = server.verify({ authorization: [new DigestClient({ username: '7777', password: 'x' }).authorize({ challenges, method: 'REGISTER', uri })!], method: 'REGISTER', requestUri: uri, account: lookup });
  assert.deepEqual([!wrong.ok && wrong.stale, !unknown.ok && unknown.stale], [false, false]);
  assert.deepEqual([!wrong.ok && wrong.reason, !unknown.ok && unknown.reason], ['wrong-password', 'unknown-user']);
  // A response of the wrong length is refused without an early exit in the comparison.
  const short = new DigestClient({ username: '1000', password: 'pw1000' }).authorize({ challenges, method: 'REGISTER', uri })!.replace(/response="[0-9a-f]+"/, 'response="abc"');
  const s = server.verify({ authorization: [short], method: 'REGISTER', requestUri: uri, account: lookup });
  assert.equal(!s.ok && s.reason, 'wrong-password');
  // The response in upper-case hex is the same response; one hex digit off is not.
  const good = new DigestClient({ username: '1000', password: 'pw1000' }).authorize({ challenges, method: 'REGISTER', uri })!;
  const upper = good.replace(/response="([0-9a-f]+)"/, (_m, h: string) => `response="${h.toUpperCase()}"`);
  assert.equal(server.verify({ authorization: [upper], method: 'REGISTER', requestUri: uri, account: lookup }).ok, true);
  const again = new DigestClient({ username: '1000', password: 'pw1000' }).authorize({ challenges, method: 'REGISTER', uri })!;
  const off = again.replace(/response="([0-9a-f])/, (_m, c: string) => `response="${c === '0' ? '1' : '0'}`);
  const o = server.verify({ authorization: [off], method: 'REGISTER', requestUri: uri, account: lookup });
  assert.equal(!o.ok && o.reason, 'wrong-password');
});

test('nonce service under churn: a nonce-count accepted once is never accepted again, fresh ones are, memory stays bounded', () => {
  const clock = new ManualClock();
  const nonces = new NonceService({ clock, maxTracked: 64, lifetimeMs: 5_000 });
  const issued: string[] = [];
  const accepted = new Set<string>();
  let seed = 11;
  const rand = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed % n;
  };
  const hex = (n: number): string => n.toString(16).padStart(8, '0');
  for (let i = 0; i < 50_000; i++) {
    const op = rand(10);
    if (op < 3 || issued.length === 0) {
      // One nonce per ms: an eviction makes every nonce issued at or before the evicted one's time stale (by design).
      clock.advance(1);
      const n = nonces.issue();
      issued.push(n);
      assert.equal(nonces.check(n, hex(1)).status, 'ok', 'a fresh nonce with nc 1');
      accepted.add(`${n}/1`);
    } else {
      const n = issued[issued.length - 1 - rand(Math.min(issued.length, 200))]!;
      const nc = 1 + rand(40);
      const r = nonces.check(n, hex(nc)).status;
      if (accepted.has(`${n}/${nc}`)) assert.notEqual(r, 'ok', `nc ${nc} of ${n} accepted twice`);
      if (r === 'ok') accepted.add(`${n}/${nc}`);
    }
    if (rand(50) === 0) clock.advance(rand(300));
    assert.ok(nonces.trackedCount() <= 64);
  }
});
