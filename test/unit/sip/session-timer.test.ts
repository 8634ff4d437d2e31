// Session timers (RFC 4028): negotiation, 422, refreshes in both directions, BYE when the refreshes stop.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock, silentLogger } from '../../../services/shared/index.js';
import {
  SipRequest,
  SessionTimer,
  SipStack,
  negotiateAsUas,
  parseSessionExpires,
  type Dialog,
  type DialogEndReason,
  type ServerResponse,
} from '../../../services/sip/index.js';

const SDP_A = 'v=0\r\no=a 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\n';
const SDP_B = 'v=0\r\no=b 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40002 RTP/AVP 0\r\n';

function invite(headers: Array<[string, string]>): SipRequest {
  return SipRequest.create({
    method: 'INVITE',
    uri: 'sip:b@127.0.0.1',
    headers: [
      ['Via', 'SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKse1'],
      ['From', '<sip:a@x>;tag=1'],
      ['To', '<sip:b@x>'],
      ['Call-ID', 'se-1'],
      ['CSeq', '1 INVITE'],
      ...headers,
    ],
  });
}

test('Session-Expires: parsed with its refresher, malformed values named', () => {
  assert.deepEqual(parseSessionExpires('1800;refresher=uac'), { interval: 1800, refresher: 'uac' });
  assert.deepEqual(parseSessionExpires(' 90 ; Refresher = UAS ; x=1'), { interval: 90, refresher: 'uas' });
  assert.deepEqual(parseSessionExpires('4000'), { interval: 4000 });
  assert.throws(() => parseSessionExpires('soon'), /Session-Expires "soon" is not a number of seconds/);
  assert.throws(() => parseSessionExpires('90;refresher=me'), /refresher "me" is neither uac nor uas/);
});

test('UAS negotiation (§9): none without Session-Expires, 422 below Min-SE, the UAC refreshes when it supports timers', () => {
  assert.deepEqual(negotiateAsUas(invite([])), { kind: 'none' });
  assert.deepEqual(negotiateAsUas(invite([['Session-Expires', '60']])), { kind: 'too-small', minSe: 90 });
  const both = negotiateAsUas(invite([['Session-Expires', '1800'], ['Supported', 'replaces, timer']]));
  assert.deepEqual(both, {
    kind: 'timer',
    interval: 1800,
    refresher: 'uac',
    headers: [['Session-Expires', '1800;refresher=uac'], ['Require', 'timer']],
  });
  const asked = negotiateAsUas(invite([['Session-Expires', '600;refresher=uas'], ['Supported', 'timer']]));
  assert.equal(asked.kind === 'timer' && asked.refresher, 'uas');
  // A proxy inserted Session-Expires, the UAC does not do timers: we refresh, and no Require: timer.
  const proxy = negotiateAsUas(invite([['Session-Expires', '900;refresher=uac']]));
  assert.deepEqual(proxy.kind === 'timer' && [proxy.refresher, proxy.headers], ['uas', [['Session-Expires', '900;refresher=uas']]]);
});

async function pair(): Promise<{ a: SipStack; b: SipStack; clock: ManualClock; stop: () => Promise<void> }> {
  const a = new SipStack({ bind: '127.0.0.1', port: 0, domain: 'a.test', logger: silentLogger });
  const clock = new ManualClock();
  const b = new SipStack({ bind: '127.0.0.1', port: 0, domain: 'b.test', logger: silentLogger, clock });
  await a.start();
  await b.start();
  return { a, b, clock, stop: async () => (await a.stop(), await b.stop()) };
}

/** B answers every INVITE; resolves B's dialog and the 200 it sent. */
function answer(b: SipStack): Promise<{ dialog: Dialog; res: ServerResponse }> {
  return new Promise((resolve) => {
    b.use('INVITE', (req, res) => {
      void b.createUas(req, res, { localSdp: SDP_B }).then((dialog) => resolve({ dialog, res }));
    });
  });
}

const until = async (what: string, cond: () => boolean): Promise<void> => {
  const deadline = Date.now() + 3000;
  while (!cond()) {
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
};

test('the phone refreshes (refresher=uac): 200 says so with Require: timer, an UPDATE refresh re-arms, silence ends the call with BYE', async () => {
  const { a, b, clock, stop } = await pair();
  try {
    const answered = answer(b);
    const da = await a.createUac(`sip:b@127.0.0.1:${b.port()}`, {
      localSdp: SDP_A,
      headers: { 'Session-Expires': '120;refresher=uac', Supported: 'timer' },
    });
    const { dialog: db, res } = await answered;
    assert.equal(res.last!.get('session-expires'), '120;refresher=uac');
    assert.equal(res.last!.get('require'), 'timer');
    assert.deepEqual(db.sessionExpires, { interval: 120, weRefresh: false });

    clock.advance(60_000);
    const refresh = await da.request('UPDATE', { headers: { 'Session-Expires': '120;refresher=uac', Supported: 'timer' } });
    assert.equal(refresh.status, 200);
    assert.equal(refresh.get('session-expires'), '120;refresher=uac');
    assert.equal(refresh.body.length, 0, 'an UPDATE without offer gets no SDP');

    let reasonB: DialogEndReason | undefined;
    let reasonA: DialogEndReason | undefined;
    db.once('destroy', (r) => (reasonB = r));
    da.once('destroy', (r) => (reasonA = r));
    // §10: the non-refresher ends the session at interval - min(32, interval/3) = 88 s after the last refresh.
    clock.advance(87_999);
    assert.equal(reasonB, undefined, 'still up just before 88 s');
    clock.advance(1);
    assert.equal(reasonB, 'session-expired');
    await until('the BYE at the phone', () => reasonA !== undefined);
    assert.equal(reasonA, 'remote-bye');
  } finally {
    await stop();
  }
});

test('Relais refreshes (refresher=uas): an UPDATE at half the interval, the peer answers with Session-Expires', async () => {
  const { a, b, clock, stop } = await pair();
  try {
    const answered = answer(b);
    const da = await a.createUac(`sip:b@127.0.0.1:${b.port()}`, {
      localSdp: SDP_A,
      headers: { 'Session-Expires': '100;refresher=uas', Supported: 'timer' },
    });
    const { dialog: db } = await answered;
    assert.deepEqual(db.sessionExpires, { interval: 100, weRefresh: true });
    const seen: string[] = [];
    da.on('modify', (req, res) => {
      seen.push(`${req.method} ${req.msg.get('session-expires')} ${req.msg.body.length}`);
      res.send(200);
    });
    clock.advance(49_999);
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(seen, []);
    clock.advance(1);
    await until('the refresh', () => seen.length === 1);
    assert.deepEqual(seen, ['UPDATE 100;refresher=uac 0'], 'Allow of our INVITE listed UPDATE: a bodiless UPDATE');
    await until('the re-armed timer', () => db.sessionExpires !== undefined);
    assert.deepEqual(db.sessionExpires, { interval: 100, weRefresh: true });
    assert.equal(db.destroyed, false);
  } finally {
    await stop();
  }
});

test('422 below Min-SE, 400 for an unreadable Session-Expires, Require: timer accepted', async () => {
  const { a, b, stop } = await pair();
  try {
    b.use('INVITE', (req, res) => void b.createUas(req, res, { localSdp: SDP_B }).catch(() => undefined));
    const uri = `sip:b@127.0.0.1:${b.port()}`;
    const small = await a.request({ method: 'INVITE', uri, headers: { 'Session-Expires': '30' }, body: SDP_A, contentType: 'application/sdp' });
    assert.equal(small.status, 422);
    assert.equal(small.get('min-se'), '90');
    const bad = await a.request({ method: 'INVITE', uri, headers: { 'Session-Expires': 'later' }, body: SDP_A, contentType: 'application/sdp' });
    assert.equal(bad.status, 400);
    assert.match(bad.reason, /Session-Expires "later"/);
    const required = await a.request({ method: 'INVITE', uri, headers: { 'Session-Expires': '1800', Require: 'timer' }, body: SDP_A, contentType: 'application/sdp' });
    assert.equal(required.status, 200);
    assert.equal(required.get('session-expires'), '1800;refresher=uac');
  } finally {
    await stop();
  }
});

test('an interval above one day is lowered to 86 400 s (§9 lets the UAS lower it; a longer Node timer would fire at once)', () => {
  const st = negotiateAsUas(invite([['Session-Expires', '9999999999'], ['Supported', 'timer']]));
  assert.deepEqual(st.kind === 'timer' && [st.interval, st.headers[0]], [86_400, ['Session-Expires', '86400;refresher=uac']]);
});

test('session timer retry after glare keeps the negotiated interval (a shorter one would be refused with 422)', () => {
  const clock = new ManualClock();
  let refreshes = 0;
  const t = new SessionTimer(clock, { refresh: () => refreshes++, expire: () => assert.fail('no expiry when we refresh') });
  t.arm(120, true);
  clock.advance(60_000);
  assert.equal(refreshes, 1);
  t.retry(12);
  assert.deepEqual([t.interval, t.weRefresh, t.running], [120, true, true]);
  clock.advance(12_000);
  assert.equal(refreshes, 2);
});
