// CallService with a fake SIP host and media engine: auth, forking, cause mapping, cancel, hangup, hold, transfer, history.
import { test, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { Store } from '../../../services/storage/index.js';
import { ExtensionRepository, UserRepository } from '../../../services/directory/index.js';
import { ManualClock, silentLogger } from '../../../services/shared/index.js';
import { CallService, parseReplaces, pickFailureStatus } from '../../../services/call/index.js';
import { SipRequest } from '../../../services/sip/index.js';
import { FakeMedia, FakePresence, FakeRegistrar, FakeReq, FakeRes, FakeSip, makeInvite, type FakeEndpoint, type FakeDialog } from './fakes.js';

const REALM = 'relais.test';

interface Ctx {
  store: Store;
  clock: ManualClock;
  sip: FakeSip;
  media: FakeMedia;
  presence: FakePresence;
  registrar: FakeRegistrar;
  calls: CallService;
  record: boolean;
  moh: string | undefined;
  dnd: Set<string>;
  trunks: FakeTrunks;
}

/** A trunk layer with one provider: calls from 127.0.0.9 come from it; numbers starting with 0 go out through it. */
class FakeTrunks {
  callerId = '+33100000000';
  matchInbound(req: { source: { address: string }; msg: SipRequest }) {
    if (req.source.address !== '127.0.0.9') return undefined;
    return { trunkName: 'provider', dialled: req.msg.ruri.user, number: { id: 1, did: '+33100000000', record: true, userIds: [ctxUserId] } };
  }
  routeOutbound(dialled: string) {
    if (!dialled.startsWith('0')) return undefined;
    return { uri: `sip:${dialled}@provider.example`, target: { address: '127.0.0.9', port: 5060, transport: 'udp' as const }, auth: { username: 'acct', password: 'pw' }, callerId: this.callerId, fromDomain: 'provider.example', trunkName: 'provider' };
  }
}
let ctxUserId = 0;
let ctx: Ctx;

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (cond()) return;
    await new Promise((r) => setImmediate(r));
  }
  assert.fail(`condition never met: ${what}`);
}

beforeEach(async () => {
  const store = Store.open(':memory:');
  const clock = new ManualClock();
  const ext = new ExtensionRepository(store.db, REALM);
  ext.create({ number: '101', displayName: 'Alice', secret: 'secret-101', digestAlgorithm: 'MD5' });
  const users = new UserRepository(store.db);
  const bobUser = users.create({ username: 'bob', name: 'Bob' });
  ctxUserId = bobUser.id;
  store.db.prepare("INSERT INTO numbers (id, did) VALUES (1, '+33100000000')").run();
  ext.create({ number: '102', displayName: 'Bob', secret: 'secret-102', voicemailEnabled: false, userId: bobUser.id });
  ext.create({ number: '103', displayName: 'Carol', secret: 'secret-103', voicemailEnabled: false, digestAlgorithm: 'MD5' });
  const sip = new FakeSip();
  const media = new FakeMedia();
  const presence = new FakePresence();
  const registrar = new FakeRegistrar(REALM, clock);
  const c: Partial<Ctx> = { store, clock, sip, media, presence, registrar, record: false, dnd: new Set(), trunks: new FakeTrunks() };
  const calls = new CallService({
    sip,
    registrar,
    extensions: ext,
    db: store.db,
    clock,
    logger: silentLogger,
    dataDir: '/tmp/relais-call-unit',
    domain: REALM,
    media,
    presence,
    ringTimeoutMs: 20_000,
    shouldRecord: () => ctx.record,
    mohFile: () => ctx.moh,
    isDnd: (e) => ctx.dnd.has(e.number),
    trunks: c.trunks,
  });
  await calls.start();
  ctx = { ...(c as Ctx), calls };
});

afterEach(async () => {
  await ctx.calls.stop();
  ctx.store.close();
});

/** Sends the INVITE twice: the first draws the 407, the second answers it. Returns the authenticated request. */
async function authedInvite(from: string, to: string, password: string): Promise<{ req: FakeReq; res: FakeRes; done: Promise<void> }> {
  const first = new FakeRes();
  await ctx.sip.invite(new FakeReq(makeInvite(from, to)), first);
  assert.equal(first.final, 407);
  const challenge = first.sent_[0]!.opts!.headers!['Proxy-Authenticate'] as string[];
  const req = new FakeReq(makeInvite(from, to, { password, challenge: challenge[0]! }));
  const res = new FakeRes();
  const done = ctx.sip.invite(req, res);
  return { req, res, done };
}

test('an INVITE without credentials gets 407 with an MD5 challenge; a wrong password gets 407 again', async () => {
  const res = new FakeRes();
  await ctx.sip.invite(new FakeReq(makeInvite('101', '102')), res);
  assert.equal(res.final, 407);
  const ch = res.sent_[0]!.opts!.headers!['Proxy-Authenticate'] as string[];
  assert.match(ch[0]!, /^Digest realm="relais.test".*algorithm=MD5/);
  const bad = new FakeRes();
  await ctx.sip.invite(new FakeReq(makeInvite('101', '102', { password: 'nope', challenge: ch[0]! })), bad);
  assert.equal(bad.final, 407);
  assert.equal(ctx.sip.uacs.length, 0);
});

test('unknown number → 404; unregistered extension without voicemail → 480', async () => {
  const a = await authedInvite('101', '999', 'secret-101');
  await a.done;
  assert.equal(a.res.final, 404);
  const b = await authedInvite('101', '102', 'secret-101');
  await b.done;
  assert.equal(b.res.final, 480);
  const rows = ctx.calls.history.list();
  assert.equal(rows[0]!.cause, 'unavailable');
  assert.equal(ctx.media.endpointCount(), 0, 'endpoints closed');
});

test('forks to every contact, first 200 wins, the other is CANCELled, media bridged, caller ID and BLF set', async () => {
  ctx.registrar.add('102', 6001);
  ctx.registrar.add('102', 6002);
  const { res, done } = await authedInvite('101', '102', 'secret-101');
  await until(() => ctx.sip.uacs.length === 2, 'two forks');
  const [u1, u2] = ctx.sip.uacs;
  assert.match(u1!.opts.headers!.From!, /^"Alice" <sip:101@relais.test>/);
  assert.deepEqual(u1!.opts.target, { address: '127.0.0.1', port: 6001, transport: 'udp' });
  u1!.ring();
  assert.deepEqual(res.statuses(), [180]);
  assert.equal(ctx.presence.last('102'), 'early');
  u2!.answer();
  await done;
  assert.ok(u1!.aborted, 'losing fork CANCELled');
  assert.equal(res.final, 200);
  const [callerEp, calleeEp] = ctx.media.endpoints as FakeEndpoint[];
  assert.equal(callerEp!.bridgedTo, calleeEp);
  assert.equal(res.sent_.find((s) => s.status === 200)!.opts!.body, callerEp!.localSdp, 'caller answered with our SDP');
  assert.equal(ctx.presence.last('102'), 'confirmed');
  assert.equal(ctx.presence.last('101'), 'confirmed');
  const [row] = ctx.calls.history.list();
  assert.equal(row!.status, 'answered');
  assert.equal(row!.direction, 'internal');
  assert.equal(ctx.calls.active().length, 1);
});

test('callee BYE ends the call: BYE to the caller, endpoints closed, history ended, BLF idle', async () => {
  ctx.registrar.add('102', 6001);
  const ended = ctx.calls.observer.waitFor('call.ended', 1000);
  const { done } = await authedInvite('101', '102', 'secret-101');
  await until(() => ctx.sip.uacs.length === 1, 'fork');
  const calleeDialog = ctx.sip.uacs[0]!.answer();
  await done;
  calleeDialog.remoteBye();
  const [info] = await ended;
  assert.equal(info.cause, 'callee-hangup');
  const callerDialog = ctx.sip.uasDialogs[0]!;
  assert.equal(callerDialog.byeSent, 1);
  assert.equal(calleeDialog.byeSent, 0, 'no BYE back to the leg that hung up');
  assert.equal(ctx.media.endpointCount(), 0);
  assert.equal(ctx.presence.last('102'), 'idle');
  const row = ctx.calls.history.get(info.id)!;
  assert.equal(row.status, 'ended');
  const types = ctx.calls.history.events(info.id).map((e) => e.type);
  assert.deepEqual(types.filter((t) => t.startsWith('call.')), ['call.started', 'call.answered', 'call.ended']);
});

test("a caller whose BYE came with the ACK of the callee's answer: BYE to the callee at once, not silence until the RTP timeout", async () => {
  ctx.registrar.add('102', 6001);
  const ended = ctx.calls.observer.waitFor('call.ended', 1000);
  ctx.sip.byeWithAck = true;
  const { done } = await authedInvite('101', '102', 'secret-101');
  await until(() => ctx.sip.uacs.length === 1, 'fork');
  const calleeDialog = ctx.sip.uacs[0]!.answer();
  await done;
  const [info] = await ended;
  assert.equal(info.cause, 'caller-hangup');
  assert.equal(calleeDialog.byeSent, 1, 'the callee is hung up');
  assert.equal(ctx.sip.uasDialogs[0]!.byeSent, 0, 'no BYE back to the caller who sent one');
  assert.equal(ctx.calls.active().length, 0);
  assert.equal(ctx.media.endpointCount(), 0);
});

test('486 from the only contact is mapped back as 486; ring timeout gives 480', async () => {
  ctx.registrar.add('102', 6001);
  const a = await authedInvite('101', '102', 'secret-101');
  await until(() => ctx.sip.uacs.length === 1, 'fork');
  ctx.sip.uacs[0]!.fail(486);
  await a.done;
  assert.equal(a.res.final, 486);

  const b = await authedInvite('101', '102', 'secret-101');
  await until(() => ctx.sip.uacs.length === 2, 'fork 2');
  ctx.sip.uacs[1]!.ring();
  ctx.clock.advance(20_000);
  await b.done;
  assert.ok(ctx.sip.uacs[1]!.aborted);
  assert.equal(b.res.final, 480);
  assert.equal(ctx.calls.history.list()[0]!.cause, 'no-answer');
});

test('caller CANCEL while ringing cancels the forks and answers 487', async () => {
  ctx.registrar.add('102', 6001);
  const { req, res, done } = await authedInvite('101', '102', 'secret-101');
  await until(() => ctx.sip.uacs.length === 1, 'fork');
  ctx.sip.uacs[0]!.ring();
  req.emit('cancel');
  await done;
  assert.ok(ctx.sip.uacs[0]!.aborted);
  assert.equal(res.final, 487);
  assert.equal(ctx.calls.history.list()[0]!.cause, 'cancelled');
  assert.equal(ctx.media.endpointCount(), 0);
});

async function establish(): Promise<{ callerDialog: FakeDialog; calleeDialog: FakeDialog }> {
  ctx.registrar.add('102', 6001);
  const { done } = await authedInvite('101', '102', 'secret-101');
  await until(() => ctx.sip.uacs.length === 1, 'fork');
  const calleeDialog = ctx.sip.uacs[0]!.answer();
  await done;
  return { callerDialog: ctx.sip.uasDialogs[0]!, calleeDialog };
}

test('re-INVITE a=sendonly is answered recvonly and reported as hold; sendrecv resumes', async () => {
  const { callerDialog } = await establish();
  const holds: boolean[] = [];
  ctx.calls.observer.on('call.hold', (_c, h) => holds.push(h.on));
  const reinvite = (dir: string): FakeRes => {
    const res = new FakeRes();
    const msg = SipRequest.create({ method: 'INVITE', uri: 'sip:102@relais.test', headers: { 'Call-ID': 'x', CSeq: '2 INVITE', From: '<sip:101@relais.test>;tag=a', To: '<sip:102@relais.test>;tag=b' }, body: `v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\na=${dir}\r\n` });
    callerDialog.emit('modify', new FakeReq(msg), res);
    return res;
  };
  const r1 = reinvite('sendonly');
  await until(() => r1.final === 200, '200 to hold');
  assert.match(String(r1.sent_[0]!.opts!.body), /a=recvonly/);
  const r2 = reinvite('sendrecv');
  await until(() => r2.final === 200, '200 to resume');
  assert.deepEqual(holds, [true, false]);
  // With music on hold configured, the party left alone hears it while the other holds.
  ctx.moh = '/sounds/moh.wav';
  const r3 = reinvite('inactive');
  await until(() => r3.final === 200, '200 to hold (inactive)');
  const bobEp = (ctx.media.endpoints as FakeEndpoint[])[1]!;
  assert.deepEqual(bobEp.played.at(-1), [{ file: '/sounds/moh.wav' }]);
});

test('blind transfer: REFER → 202, NOTIFY 100 then 200, transferee bridged to the new party, transferor released', async () => {
  const { callerDialog, calleeDialog } = await establish();
  ctx.registrar.add('103', 6003);
  const transferred = ctx.calls.observer.waitFor('call.transferred', 1000);
  // Bob (callee) transfers Alice to Carol.
  const res = new FakeRes();
  const msg = SipRequest.create({ method: 'REFER', uri: 'sip:101@relais.test', headers: { 'Call-ID': 'x', CSeq: '3 REFER', From: '<sip:102@relais.test>;tag=b', To: '<sip:101@relais.test>;tag=a', 'Refer-To': '<sip:103@relais.test>' } });
  calleeDialog.emit('refer', new FakeReq(msg), res);
  await until(() => ctx.sip.uacs.length === 2, 'call to 103');
  assert.equal(res.final, 202);
  assert.match(String(ctx.sip.uacs[1]!.opts.headers!.From), /"Alice" <sip:101@/, 'Carol sees Alice calling');
  const carolDialog = ctx.sip.uacs[1]!.answer();
  const [info, t] = await transferred;
  assert.deepEqual(t, { from: '102', to: '103', kind: 'blind' });
  assert.equal(info.callee.number, '103');
  const frags = calleeDialog.requests.filter((r) => r.method === 'NOTIFY').map((r) => r.opts!.body);
  assert.deepEqual(frags, ['SIP/2.0 100 Trying\r\n', 'SIP/2.0 200 OK\r\n']);
  const eps = ctx.media.endpoints as FakeEndpoint[];
  const callerEp = eps[0]!;
  const carolEp = eps[2]!;
  assert.equal(callerEp.bridgedTo, carolEp);
  assert.ok(eps[1]!.closed, 'Bob endpoint closed');
  assert.equal(callerDialog.byeSent, 0, 'Alice stays');
  ctx.clock.advance(2000);
  assert.equal(calleeDialog.byeSent, 1, 'transferor released after the final NOTIFY');
  // Carol hangs up: Alice gets BYE.
  const ended = ctx.calls.observer.waitFor('call.ended', 1000);
  carolDialog.remoteBye();
  const [end] = await ended;
  assert.equal(end.cause, 'callee-hangup');
  assert.equal(callerDialog.byeSent, 1);
});

test('recording on: the caller endpoint records both directions to recordings/, the calls row names the file', async () => {
  ctx.record = true;
  await establish();
  const ep = (ctx.media.endpoints as FakeEndpoint[])[0]!;
  assert.ok(ep.recording, 'recording started');
  assert.deepEqual(ep.recording!.opts, { direction: 'both', stereo: true });
  const row = ctx.calls.history.list()[0]!;
  assert.match(row.recording!, /^recordings\/\d{4}\/\d{2}\/.+\.wav$/);
});

test('rtpTimeout on an endpoint tears the call down with cause rtp-timeout', async () => {
  const { callerDialog, calleeDialog } = await establish();
  const ended = ctx.calls.observer.waitFor('call.ended', 1000);
  (ctx.media.endpoints[1] as FakeEndpoint).emit('rtpTimeout');
  const [info] = await ended;
  assert.equal(info.cause, 'rtp-timeout');
  assert.equal(callerDialog.byeSent, 1);
  assert.equal(calleeDialog.byeSent, 1);
});

test('helpers: Replaces parsing and failure status choice', () => {
  assert.deepEqual(parseReplaces('abc@h;to-tag=1;from-tag=2'), { callId: 'abc@h', toTag: '1', fromTag: '2' });
  assert.equal(parseReplaces(''), undefined);
  assert.equal(pickFailureStatus([487, 486], false), 486);
  assert.equal(pickFailureStatus([487], true), 480);
  assert.equal(pickFailureStatus([603], false), 603);
});

test('attended transfer by REFER with Replaces: the two far parties are joined, the transferor released', async () => {
  // Alice → Bob (call 1), then Alice → Carol (call 2); Alice REFERs Bob to Carol replacing call 2.
  ctx.registrar.add('102', 6001);
  ctx.registrar.add('103', 6003);
  const c1 = await authedInvite('101', '102', 'secret-101');
  await until(() => ctx.sip.uacs.length === 1, 'fork to Bob');
  const bobDialog = ctx.sip.uacs[0]!.answer();
  await c1.done;
  const c2 = await authedInvite('101', '103', 'secret-101');
  await until(() => ctx.sip.uacs.length === 2, 'fork to Carol');
  const carolDialog = ctx.sip.uacs[1]!.answer();
  await c2.done;
  const [alice1, alice2] = ctx.sip.uasDialogs;
  const eps = ctx.media.endpoints as FakeEndpoint[];
  const [, bobEp, , carolEp] = eps;
  const transferred = ctx.calls.observer.waitFor('call.transferred', 1000);
  const res = new FakeRes();
  const replaces = encodeURIComponent(`${alice2!.callId};to-tag=x;from-tag=y`);
  const msg = SipRequest.create({ method: 'REFER', uri: 'sip:102@relais.test', headers: { 'Call-ID': alice1!.callId, CSeq: '3 REFER', From: '<sip:101@relais.test>;tag=a', To: '<sip:102@relais.test>;tag=b', 'Refer-To': `<sip:103@relais.test?Replaces=${replaces}>` } });
  alice1!.emit('refer', new FakeReq(msg), res);
  const [, t] = await transferred;
  assert.equal(res.final, 202);
  assert.deepEqual(t, { from: '101', to: '103', kind: 'attended' });
  assert.equal(bobEp!.bridgedTo, carolEp, 'Bob and Carol bridged');
  assert.equal(alice2!.byeSent, 1, 'Alice released from call 2');
  assert.equal(carolDialog.byeSent, 0, 'Carol stays');
  assert.equal(bobDialog.byeSent, 0, 'Bob stays');
  assert.deepEqual(alice1!.requests.filter((r) => r.method === 'NOTIFY').map((r) => r.opts!.body), ['SIP/2.0 100 Trying\r\n', 'SIP/2.0 200 OK\r\n']);
  // RFC 5589: Relais releases the transferor itself 2 s after the final NOTIFY if it has not hung up.
  await until(() => {
    ctx.clock.advance(2000);
    return alice1!.byeSent === 1;
  }, 'Alice released from call 1');
  assert.equal(ctx.calls.active().length, 1);
  const ended = ctx.calls.observer.waitFor('call.ended', 1000);
  carolDialog.remoteBye();
  await ended;
  assert.equal(bobDialog.byeSent, 1, 'Carol hanging up releases Bob');
});

/** Extension 103 sends an INVITE with `Replaces: replaces` (answering the digest challenge first); its response. */
async function replacesInvite(replaces: string, beforeSecond?: () => void): Promise<FakeRes> {
  const first = new FakeRes();
  await ctx.sip.invite(new FakeReq(makeInvite('103', '102')), first);
  const challenge = (first.sent_[0]!.opts!.headers!['Proxy-Authenticate'] as string[])[0]!;
  beforeSecond?.();
  const res = new FakeRes();
  await ctx.sip.invite(new FakeReq(makeInvite('103', '102', { password: 'secret-103', challenge, headers: { Replaces: replaces } })), res);
  return res;
}

test('INVITE with Replaces (RFC 3891) takes over a leg of an answered call; unknown dialog gets 481', async () => {
  const { callerDialog, calleeDialog } = await establish();
  const transferred = ctx.calls.observer.waitFor('call.transferred', 1000);
  const res = await replacesInvite(`${calleeDialog.callId};to-tag=t;from-tag=f`);
  await transferred;
  assert.equal(res.final, 200);
  assert.equal(calleeDialog.byeSent, 1, 'replaced leg gets BYE');
  assert.equal(callerDialog.byeSent, 0);
  const eps = ctx.media.endpoints as FakeEndpoint[];
  assert.equal(eps[0]!.bridgedTo, eps[2], 'caller bridged to the new leg');
  assert.ok(eps[1]!.closed);

  const res2 = await replacesInvite('nope;to-tag=1;from-tag=2');
  assert.equal(res2.final, 481);
});

test('INVITE with Replaces whose BYE came with its ACK: the kept party is hung up at once', async () => {
  const { callerDialog, calleeDialog } = await establish();
  const ended = ctx.calls.observer.waitFor('call.ended', 1000);
  await replacesInvite(`${calleeDialog.callId};to-tag=t;from-tag=f`, () => (ctx.sip.byeWithAck = true));
  const [info] = await ended;
  assert.equal(info.cause, 'callee-hangup');
  assert.equal(callerDialog.byeSent, 1, 'the kept caller is hung up');
  assert.equal(ctx.sip.uasDialogs.at(-1)!.byeSent, 0, 'no BYE back to the leg that sent one');
  assert.equal(ctx.calls.active().length, 0);
});

test('late offer: an INVITE without SDP is answered with our offer and the ACK answer is applied', async () => {
  ctx.registrar.add('102', 6001);
  const first = new FakeRes();
  await ctx.sip.invite(new FakeReq(makeInvite('101', '102', { body: '' })), first);
  const challenge = (first.sent_[0]!.opts!.headers!['Proxy-Authenticate'] as string[])[0]!;
  const res = new FakeRes();
  const done = ctx.sip.invite(new FakeReq(makeInvite('101', '102', { body: '', password: 'secret-101', challenge })), res);
  await until(() => ctx.sip.uacs.length === 1, 'fork');
  ctx.sip.uacs[0]!.answer();
  await done;
  assert.equal(res.final, 200);
  const callerEp = (ctx.media.endpoints as FakeEndpoint[])[0]!;
  assert.equal(res.sent_.find((r) => r.status === 200)!.opts!.body, callerEp.localSdp, 'our offer in the 200');
  assert.equal(callerEp.remoteSdp, ctx.sip.lateAnswer, 'the ACK answer applied');
});

test('SIP INFO DTMF (application/dtmf-relay) is reported like RFC 4733 digits', async () => {
  const { callerDialog } = await establish();
  const dtmf = ctx.calls.observer.waitFor('call.dtmf', 1000);
  const res = new FakeRes();
  const msg = SipRequest.create({ method: 'INFO', uri: 'sip:102@relais.test', headers: { 'Call-ID': 'x', CSeq: '4 INFO', From: '<sip:101@relais.test>;tag=a', To: '<sip:102@relais.test>;tag=b' }, body: 'Signal=5\r\nDuration=160\r\n', contentType: 'application/dtmf-relay' });
  callerDialog.emit('info', new FakeReq(msg), res);
  const [info, d] = await dtmf;
  assert.deepEqual(d, { party: '101', digit: '5', method: 'info' });
  assert.equal(res.final, 200);
  ctx.calls.history.flush();
  assert.deepEqual(ctx.calls.history.events(info.id).filter((e) => e.type === 'call.dtmf'), [], 'digits of a bridged call are not stored');
});

test('early media: a 183 with SDP is applied and bridged at once, the caller gets our 183 before the 200', async () => {
  ctx.registrar.add('102', 6001);
  const { res, done } = await authedInvite('101', '102', 'secret-101');
  await until(() => ctx.sip.uacs.length === 1, 'fork');
  const early = 'v=0\r\no=- 5 5 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 42000 RTP/AVP 0\r\n';
  ctx.sip.uacs[0]!.progress(early);
  await until(() => res.statuses().includes(183), '183 to the caller');
  const [callerEp, calleeEp] = ctx.media.endpoints as FakeEndpoint[];
  assert.equal(calleeEp!.remoteSdp, early);
  assert.equal(callerEp!.bridgedTo, calleeEp, 'bridged during early media');
  assert.equal(res.sent_.find((r) => r.status === 183)!.opts!.body, callerEp!.localSdp);
  ctx.sip.uacs[0]!.answer('v=0\r\nfinal\r\n');
  await done;
  assert.deepEqual(res.statuses(), [183, 200]);
  assert.equal(calleeEp!.remoteSdp, 'v=0\r\nfinal\r\n', 'the final answer wins');
});

test('do not disturb: the phones do not ring, the caller gets 486 (voicemail takes it when enabled)', async () => {
  ctx.registrar.add('102', 6001);
  ctx.dnd.add('102');
  const { res, done } = await authedInvite('101', '102', 'secret-101');
  await done;
  assert.equal(res.final, 486);
  assert.equal(ctx.sip.uacs.length, 0, 'no phone rang');
  const [row] = ctx.calls.history.list();
  assert.equal(row!.cause, 'dnd');
});

test('a caller SDP that does not parse gets 488; a media engine out of ports gets 503', async () => {
  const first = new FakeRes();
  await ctx.sip.invite(new FakeReq(makeInvite('101', '102', { body: 'garbage' })), first);
  const challenge = (first.sent_[0]!.opts!.headers!['Proxy-Authenticate'] as string[])[0]!;
  const bad = new FakeRes();
  await ctx.sip.invite(new FakeReq(makeInvite('101', '102', { body: 'garbage', password: 'secret-101', challenge })), bad);
  assert.equal(bad.final, 488);
  ctx.media.exhausted = true;
  const again = new FakeRes();
  await ctx.sip.invite(new FakeReq(makeInvite('101', '102')), again);
  const ch2 = (again.sent_[0]!.opts!.headers!['Proxy-Authenticate'] as string[])[0]!;
  const busy = new FakeRes();
  await ctx.sip.invite(new FakeReq(makeInvite('101', '102', { password: 'secret-101', challenge: ch2 })), busy);
  assert.equal(busy.final, 503);
});

test('outbound through a trunk: provider URI, target and credentials, the presentable caller ID, history outbound', async () => {
  const { res, done } = await authedInvite('101', '0612345678', 'secret-101');
  await until(() => ctx.sip.uacs.length === 1, 'INVITE to the provider');
  const u = ctx.sip.uacs[0]!;
  assert.equal(u.uri, 'sip:0612345678@provider.example');
  assert.deepEqual(u.opts.target, { address: '127.0.0.9', port: 5060, transport: 'udp' });
  assert.deepEqual(u.opts.auth, { username: 'acct', password: 'pw' });
  assert.equal(u.opts.headers!.From, '"Alice" <sip:+33100000000@provider.example>');
  u.answer();
  await done;
  assert.equal(res.final, 200);
  assert.equal(ctx.calls.history.list()[0]!.direction, 'outbound');
  // A caller who may present no number goes out anonymous, without its name.
  ctx.trunks.callerId = 'anonymous';
  const second = await authedInvite('101', '0698765432', 'secret-101');
  await until(() => ctx.sip.uacs.length === 2, 'second INVITE');
  assert.equal(ctx.sip.uacs[1]!.opts.headers!.From, '"Anonymous" <sip:anonymous@provider.example>');
  ctx.sip.uacs[1]!.fail(404);
  await second.done;
  assert.equal(second.res.final, 480);
});

test('inbound from a trunk: no challenge, the DID rings its user\'s extension, caller from From, recorded by the number', async () => {
  ctx.registrar.add('102', 6001);
  const req = new FakeReq(makeInvite('0611223344', '+33100000000'));
  (req as unknown as { source: { address: string } }).source = { ...req.source, address: '127.0.0.9' };
  const res = new FakeRes();
  const done = ctx.sip.invite(req, res);
  await until(() => ctx.sip.uacs.length === 1 || res.final !== undefined, 'ring 102');
  assert.equal(res.final, undefined, `no final response yet: ${JSON.stringify(res.sent_)}`);
  assert.match(ctx.sip.uacs[0]!.uri, /^sip:102@/);
  ctx.sip.uacs[0]!.answer();
  await done;
  assert.equal(res.final, 200);
  const [row] = ctx.calls.history.list();
  assert.equal(row!.direction, 'inbound');
  assert.equal(row!.caller, '0611223344');
  assert.equal(row!.callee, '102');
  assert.equal(row!.numberId, 1);
  assert.equal(row!.answeredBy, ctxUserId);
  assert.equal(ctx.calls.active()[0]!.recordNumber, true, "the number's record switch reaches shouldRecord");
});

test('a caller whose BYE came with its ACK: answering it says so and the call ends at once, not at the RTP timeout', async () => {
  let answered: boolean | undefined;
  ctx.calls.useInboundHandler({
    handle: async (setup) => {
      answered = await ctx.calls.answerCaller(setup);
    },
  });
  ctx.sip.byeWithAck = true;
  const req = new FakeReq(makeInvite('0611223344', '+33100000000'));
  (req as unknown as { source: { address: string } }).source = { ...req.source, address: '127.0.0.9' };
  const res = new FakeRes();
  await ctx.sip.invite(req, res);
  assert.equal(res.final, 200);
  assert.equal(answered, false, 'the scenario learns that the caller has gone');
  assert.equal(ctx.calls.active().length, 0, 'no call left open');
  const [row] = ctx.calls.history.list();
  assert.equal(row!.status, 'ended');
  assert.equal(row!.cause, 'caller-hangup');
  assert.equal(ctx.sip.uasDialogs[0]!.byeSent, 0, 'no BYE to a caller who sent one');
});

test('blind transfer whose new party hangs up as it answers: the transferee is hung up at once', async () => {
  const { callerDialog, calleeDialog } = await establish();
  ctx.registrar.add('103', 6003);
  const ended = ctx.calls.observer.waitFor('call.ended', 1000);
  const msg = SipRequest.create({ method: 'REFER', uri: 'sip:101@relais.test', headers: { 'Call-ID': 'x', CSeq: '3 REFER', From: '<sip:102@relais.test>;tag=b', To: '<sip:101@relais.test>;tag=a', 'Refer-To': '<sip:103@relais.test>' } });
  calleeDialog.emit('refer', new FakeReq(msg), new FakeRes());
  await until(() => ctx.sip.uacs.length === 2, 'call to 103');
  // Carol's BYE arrives before the transfer has bridged and wired her leg (it awaits the media first).
  const carolDialog = ctx.sip.uacs[1]!.answer();
  carolDialog.remoteBye();
  const [info] = await ended;
  assert.equal(info.cause, 'callee-hangup');
  assert.equal(callerDialog.byeSent, 1, 'Alice, the transferee, is hung up instead of left in silence');
  assert.equal(carolDialog.byeSent, 0, 'no BYE back to the leg that sent one');
  assert.equal(ctx.calls.active().length, 0);
});

test('blind transfer that fails: NOTIFY carries the failure, the original call goes on', async () => {
  const { callerDialog, calleeDialog } = await establish();
  const refer = (to: string): FakeRes => {
    const res = new FakeRes();
    const msg = SipRequest.create({ method: 'REFER', uri: 'sip:101@relais.test', headers: { 'Call-ID': 'x', CSeq: '3 REFER', From: '<sip:102@relais.test>;tag=b', To: '<sip:101@relais.test>;tag=a', 'Refer-To': `<sip:${to}@relais.test>` } });
    calleeDialog.emit('refer', new FakeReq(msg), res);
    return res;
  };
  const r1 = refer('999');
  await until(() => calleeDialog.requests.length === 2, 'NOTIFYs for the unknown number');
  assert.equal(r1.final, 202);
  assert.equal(calleeDialog.requests[1]!.opts!.body, 'SIP/2.0 404 Not Found\r\n');
  ctx.registrar.add('103', 6003);
  refer('103');
  await until(() => ctx.sip.uacs.length === 2, 'call to 103');
  ctx.sip.uacs[1]!.fail(486);
  await until(() => calleeDialog.requests.length === 4, 'final NOTIFY');
  assert.equal(calleeDialog.requests[3]!.opts!.body, 'SIP/2.0 486 Busy Here\r\n');
  assert.equal(ctx.calls.active().length, 1, 'the call goes on');
  assert.equal(callerDialog.byeSent + calleeDialog.byeSent, 0);
  const eps = ctx.media.endpoints as FakeEndpoint[];
  assert.equal(eps[0]!.bridgedTo, eps[1], 'Alice still bridged to Bob');
});

test('overload: INVITEs beyond maxPendingSetups get 503 Retry-After at once', async () => {
  const sip = new FakeSip(); // a host of its own: only this service's INVITE handler
  const svc = new CallService({
    sip,
    registrar: ctx.registrar,
    extensions: new ExtensionRepository(ctx.store.db, REALM),
    db: ctx.store.db,
    clock: ctx.clock,
    logger: silentLogger,
    dataDir: '/tmp/relais-call-unit',
    domain: REALM,
    media: ctx.media,
    maxPendingSetups: 1,
  });
  await svc.start();
  ctx.registrar.add('102', 6001);
  const first = new FakeRes();
  await sip.invite(new FakeReq(makeInvite('101', '102')), first);
  const challenge = (first.sent_[0]!.opts!.headers!['Proxy-Authenticate'] as string[])[0]!;
  const ringing = new FakeRes();
  const pending = sip.invite(new FakeReq(makeInvite('101', '102', { password: 'secret-101', challenge })), ringing);
  await until(() => sip.uacs.length === 1, 'first call ringing');
  const second = new FakeRes();
  await sip.invite(new FakeReq(makeInvite('101', '102')), second);
  assert.equal(second.final, 503);
  assert.equal(second.sent_[0]!.opts!.headers!['Retry-After'], '1');
  sip.uacs[0]!.fail(486);
  await pending;
  assert.equal(svc.health().detail!.overload, 1);
  await svc.stop();
});

test('voicedrop: the far party hears the message alone, the agent is released at once, the call ends after it', async () => {
  const { res, done } = await authedInvite('101', '0612345678', 'secret-101');
  await until(() => ctx.sip.uacs.length === 1, 'INVITE to the provider');
  const farDialog = ctx.sip.uacs[0]!.answer();
  await done;
  assert.equal(res.final, 200);
  const call = ctx.calls.active()[0]!;
  assert.equal(ctx.calls.get(call.id)!.presentedAs, '+33100000000', 'the DID presented: its voicedrop message applies');
  const eps = ctx.media.endpoints as FakeEndpoint[];
  const agentDialog = ctx.sip.uasDialogs.at(-1)!;
  const ended = ctx.calls.observer.waitFor('call.ended', 1000);
  assert.equal(await ctx.calls.voicedrop(call.id, '999', '/tmp/x.wav'), false, 'not a party of the call');
  assert.equal(await ctx.calls.voicedrop(call.id, '101', '/sounds/drop.wav'), true);
  assert.equal(agentDialog.byeSent, 1, 'the agent leaves at once');
  assert.ok(eps[0]!.closed, "the agent's media is closed");
  assert.deepEqual(eps[1]!.played.at(-1), [{ file: '/sounds/drop.wav' }], 'the far party hears the message');
  const [end] = await ended;
  assert.equal(end.cause, 'voicedrop');
  assert.equal(farDialog.byeSent, 1, 'then the far party gets BYE');
  assert.ok(ctx.calls.history.events(call.id).some((e) => e.type === 'call.voicedrop'));
});
