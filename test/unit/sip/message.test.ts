import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../../helpers/relais-process.js';
import {
  NameAddr,
  SipParseError,
  SipRequest,
  SipResponse,
  SipUri,
  Via,
  frameStream,
  parseMessage,
} from '../../../services/sip/index.js';

const RFC4475 = path.join(PROJECT_ROOT, 'test/fixtures/sip/rfc4475');
const expected = JSON.parse(fs.readFileSync(path.join(RFC4475, 'expected.json'), 'utf8')) as Record<string, 'valid' | 'invalid'>;

function load(name: string): Buffer {
  return fs.readFileSync(path.join(RFC4475, `${name}.dat`));
}

const REGISTER = Buffer.from(
  [
    'REGISTER sip:pbx.example.com SIP/2.0',
    'Via: SIP/2.0/UDP 192.168.1.20:5062;branch=z9hG4bK1234;rport',
    'From: "Alice" <sip:201@pbx.example.com>;tag=abc',
    't: <sip:201@pbx.example.com>',
    'Call-ID: reg-1@192.168.1.20',
    'CSeq: 3 REGISTER',
    'Contact: <sip:201@192.168.1.20:5062;transport=udp>;expires=600, <sip:201@10.0.0.2>;q=0.5',
    'Max-Forwards: 70',
    'Expires: 3600',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n'),
);

test('RFC 4475 torture messages: valid ones parse, invalid ones throw SipParseError, nothing else throws', () => {
  const names = Object.keys(expected);
  assert.ok(names.length >= 40, `only ${names.length} fixtures`);
  for (const name of names) {
    const buf = load(name);
    let err: unknown;
    try {
      parseMessage(buf);
    } catch (e) {
      err = e;
    }
    if (expected[name] === 'valid') assert.equal(err, undefined, `${name} should parse: ${String(err)}`);
    else assert.ok(err instanceof SipParseError, `${name} should be rejected with SipParseError, got ${String(err)}`);
  }
});

test('wsinv: folding, escaped quotes, LWS and mixed compact forms', () => {
  const m = parseMessage(load('wsinv')) as SipRequest;
  assert.equal(m.method, 'INVITE');
  assert.equal(m.to().tag, '1918181833n');
  assert.equal(m.from().displayName, 'J Rosenberg \\"');
  assert.equal(m.from().tag, '98asjd8');
  assert.equal(m.maxForwards, 68);
  assert.deepEqual(m.cseq, { seq: 9, method: 'INVITE' });
  const vias = m.vias();
  assert.equal(vias.length, 3);
  assert.equal(vias[0]!.transport, 'UDP');
  assert.equal(vias[1]!.host, 'spindle.example.com');
  assert.equal(vias[2]!.branch, 'z9hG4bK30239');
  assert.equal(m.get('subject'), '');
  assert.equal(m.get('NewFangledHeader'), 'newfangled value continued newfangled value');
  assert.equal(m.get('UnknownHeaderWithUnusualValue'), ';;,,;;,;');
  const c = m.contacts()[0]!;
  assert.equal(c.displayName, 'Quoted string ""');
  assert.equal(c.params['q'], '0.33');
  assert.equal(m.body.toString().startsWith('v=0'), true);
});

test('escapes: user parts are decoded, % that is not an escape is kept', () => {
  const esc = parseMessage(load('esc01')) as SipRequest;
  assert.equal(esc.ruri.user, 'sips:user@example.com');
  assert.equal(esc.to().uri.user, 'user');
  assert.equal(esc.from().uri.user, 'I have spaces');
  const esc02 = parseMessage(load('esc02')) as SipRequest;
  assert.equal(esc02.method, 'RE%47IST%45R');
  assert.equal(esc02.contacts().length, 2, 'C%6Fntact is another header, not Contact');
  const semi = parseMessage(load('semiuri')) as SipRequest;
  assert.equal(semi.ruri.user, 'user;par=u@example.net');
  assert.equal(semi.getAll('accept').length, 6);
});

test('dblreq: bytes after Content-Length in a datagram are ignored', () => {
  const m = parseMessage(load('dblreq')) as SipRequest;
  assert.equal(m.method, 'REGISTER');
  assert.equal(m.body.length, 0);
});

test('responses: unusual and empty reason phrases', () => {
  const r = parseMessage(load('unreason')) as SipResponse;
  assert.equal(r.status, 200);
  assert.ok(r.reason.startsWith('= 2**3'));
  const n = parseMessage(load('noreason')) as SipResponse;
  assert.equal(n.status, 100);
  assert.equal(n.reason, '');
});

test('invalid messages carry a reason usable in a 400, unknown version → 505', () => {
  const e = (() => {
    try {
      parseMessage(load('badvers'));
    } catch (err) {
      return err as SipParseError;
    }
    return undefined;
  })();
  assert.ok(e instanceof SipParseError);
  assert.equal(e.sipStatus, 505);
  for (const name of ['clerr', 'ncl', 'mcl01', 'quotbal', 'lwsstart']) {
    try {
      parseMessage(load(name));
      assert.fail(`${name} parsed`);
    } catch (err) {
      assert.ok(err instanceof SipParseError);
      assert.equal(err.sipStatus, 400);
      assert.ok(err.reason.length > 5 && !/[\r\n]/.test(err.reason), err.reason);
    }
  }
});

test('REGISTER: typed accessors, compact To, multi-value Contact, serialize round trip', () => {
  const m = parseMessage(REGISTER) as SipRequest;
  assert.equal(m.callId, 'reg-1@192.168.1.20');
  assert.equal(m.expires, 3600);
  assert.equal(m.via().rport, null);
  assert.equal(m.via().port, 5062);
  const cs = m.contacts();
  assert.equal(cs.length, 2);
  assert.equal(cs[0]!.params['expires'], '600');
  assert.equal(cs[0]!.uri.transport, 'udp');
  assert.equal(cs[1]!.uri.host, '10.0.0.2');
  assert.equal(m.from().displayName, 'Alice');
  const again = parseMessage(m.serialize()) as SipRequest;
  assert.deepEqual(again.contacts().map((c) => c.format()), cs.map((c) => c.format()));
  assert.equal(again.to().uri.user, '201');
  assert.ok(m.serialize().toString().includes('\r\nTo: <sip:201@pbx.example.com>\r\n'));
});

test('header mutation: set/append/prepend/remove keep order and refresh typed views', () => {
  const m = parseMessage(REGISTER) as SipRequest;
  m.prepend('Via', 'SIP/2.0/TCP proxy.example.com;branch=z9hG4bKp');
  assert.equal(m.via().host, 'proxy.example.com');
  assert.equal(m.vias().length, 2);
  m.remove('v');
  assert.throws(() => m.via(), SipParseError);
  m.append('Via', 'SIP/2.0/UDP 10.0.0.9;branch=z9hG4bKnew');
  m.set('Expires', 60);
  assert.equal(m.expires, 60);
  m.append('Route', '<sip:a.example.com;lr>');
  m.append('Route', '<sip:b.example.com;lr>');
  assert.deepEqual(m.routes().map((r) => r.uri.host), ['a.example.com', 'b.example.com']);
  m.setBody('v=0\r\n', 'application/sdp');
  const out = parseMessage(Buffer.concat([m.serialize()])) as SipRequest;
  assert.equal(out.get('content-length'), '5');
  assert.equal(out.bodyText, 'v=0\r\n');
});

test('SipResponse.to copies Via/From/To/Call-ID/CSeq and adds the To tag', () => {
  const req = parseMessage(REGISTER) as SipRequest;
  const res = SipResponse.to(req, 200, undefined, 'srvtag');
  assert.equal(res.reason, 'OK');
  assert.equal(res.to().tag, 'srvtag');
  assert.equal(res.callId, req.callId);
  assert.equal(res.via().branch, 'z9hG4bK1234');
  const parsed = parseMessage(res.serialize()) as SipResponse;
  assert.equal(parsed.status, 200);
  assert.equal(parsed.from().tag, 'abc');
});

test('SipUri, NameAddr and Via parse and format', () => {
  const u = SipUri.parse('sip:alice:pw@[2001:db8::1]:5070;transport=tcp;lr?Replaces=abc%40h%3Bto-tag%3D1');
  assert.equal(u.user, 'alice');
  assert.equal(u.password, 'pw');
  assert.equal(u.host, '[2001:db8::1]');
  assert.equal(u.port, 5070);
  assert.equal(u.params['lr'], null);
  assert.equal(u.headers['Replaces'], 'abc@h;to-tag=1');
  assert.equal(SipUri.parse(u.format()).headers['Replaces'], 'abc@h;to-tag=1');
  assert.equal(SipUri.parse('tel:+331234;phone-context=example.com').user, '+331234');
  assert.throws(() => SipUri.parse('sip:'), SipParseError);
  assert.throws(() => SipUri.parse('sip:a b@host'), SipParseError);
  const na = NameAddr.parse('Bob <sip:bob@example.com>;tag=x');
  assert.equal(na.displayName, 'Bob');
  assert.equal(na.format(), '"Bob" <sip:bob@example.com>;tag=x');
  const v = Via.parse('SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKx;rport=1234;received=1.2.3.4');
  assert.equal(v.rport, 1234);
  assert.equal(v.received, '1.2.3.4');
  assert.equal(Via.parse(v.format()).format(), v.format());
});

test('SipRequest.create builds a message that parses back', () => {
  const r = SipRequest.create({
    method: 'OPTIONS',
    uri: 'sip:bob@example.com',
    headers: {
      Via: 'SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKabc',
      From: '<sip:a@example.com>;tag=1',
      To: '<sip:bob@example.com>',
      'Call-ID': 'x1',
      CSeq: '1 OPTIONS',
      'Max-Forwards': 70,
    },
  });
  const p = parseMessage(r.serialize()) as SipRequest;
  assert.equal(p.method, 'OPTIONS');
  assert.equal(p.cseq.seq, 1);
});

test('stream framing: Content-Length frames messages, CRLF keep-alives consumed, partial input waits', () => {
  const one = (parseMessage(REGISTER) as SipRequest).setBody('hello', 'text/plain').serialize();
  const stream = Buffer.concat([Buffer.from('\r\n\r\n'), one, one.subarray(0, 20)]);
  const k = frameStream(stream, 0);
  assert.deepEqual(k, { kind: 'keepalive', length: 4 });
  const m = frameStream(stream, 4);
  assert.deepEqual(m, { kind: 'message', length: one.length });
  assert.deepEqual(frameStream(stream, 4 + one.length), { kind: 'incomplete' });
  const noCl = Buffer.from('OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h\r\n\r\n');
  assert.throws(() => frameStream(noCl, 0), SipParseError);
});

test('fuzz: truncations and bit flips of every fixture throw nothing but SipParseError', () => {
  let seed = 12345;
  const rnd = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const phones = path.join(PROJECT_ROOT, 'test/fixtures/sip/phones');
  const phoneMessages = fs.readdirSync(phones).filter((f) => f.endsWith('.dat')).map((f) => fs.readFileSync(path.join(phones, f)));
  const inputs = [REGISTER, ...phoneMessages, ...Object.keys(expected).map(load)];
  let parsed = 0;
  let rejected = 0;
  for (const base of inputs) {
    for (let k = 0; k < 60; k++) {
      let buf: Buffer;
      if (k % 3 === 0) buf = base.subarray(0, rnd(base.length + 1));
      else {
        buf = Buffer.from(base);
        const flips = 1 + rnd(4);
        for (let f = 0; f < flips; f++) buf[rnd(buf.length)] ^= 1 << rnd(8);
      }
      try {
        const m = parseMessage(buf);
        // A message that parses must also survive its typed views and a serialize round trip.
        m.vias();
        m.from();
        m.to();
        void m.callId;
        void m.cseq;
        parseMessage(m.serialize());
        parsed++;
      } catch (err) {
        if (!(err instanceof SipParseError)) {
          assert.fail(`non-SipParseError ${String(err)} for input ${JSON.stringify(buf.toString('latin1'))}`);
        }
        rejected++;
      }
    }
  }
  assert.ok(parsed > 0 && rejected > 0);
});

test('phone messages: baresip captures and vendor-shaped REGISTER/INVITE parse with the fields the registrar and calls use', () => {
  const dir = path.join(PROJECT_ROOT, 'test/fixtures/sip/phones');
  const read = (n: string): SipRequest => parseMessage(fs.readFileSync(path.join(dir, n))) as SipRequest;
  const reg = read('baresip-register.dat');
  assert.equal(reg.method, 'REGISTER');
  assert.deepEqual(reg.getAll('supported'), []);
  assert.equal(reg.contacts().length, 1);
  const inv = read('baresip-invite.dat');
  assert.equal(inv.from().displayName, 'Alice Example');
  assert.ok(inv.bodyText.includes('telephone-event/8000'));
  assert.equal(inv.get('supported'), '');
  const y = read('yealink-t46s-register-auth.dat');
  assert.equal(y.contacts()[0]!.params['+sip.instance'], '"<urn:uuid:00000000-0000-1000-8000-805EC0A1B2C3>"');
  assert.match(y.get('authorization')!, /^Digest username="201"/);
  assert.equal(y.getAll('allow').length, 14);
  const s = read('snom-d785-invite-tcp.dat');
  assert.equal(s.via().transport, 'TCP');
  assert.equal(s.contacts()[0]!.uri.transport, 'tcp');
  assert.equal(s.ruri.params['user'], 'phone');
  assert.deepEqual(s.getAll('supported'), ['timer', '100rel', 'replaces', 'from-change']);
});

test('headers set by code cannot inject lines or use non-token names', () => {
  const m = parseMessage(REGISTER) as SipRequest;
  assert.throws(() => m.set('X-Caller', 'Bob\r\nVia: SIP/2.0/UDP evil'), RangeError);
  assert.throws(() => m.append('Bad Name', 'x'), RangeError);
  assert.throws(() => m.prepend('Via', 'SIP/2.0/UDP a\nb'), RangeError);
  m.set('X-Caller', 'Bob');
  assert.equal(m.get('x-caller'), 'Bob');
});
