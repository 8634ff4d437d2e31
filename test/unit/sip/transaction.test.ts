import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock, silentLogger } from '../../../services/shared/index.js';
import {
  OutgoingRequestProbe,
  fakeNetwork,
} from './transaction-helpers.js';
import {
  InviteServerTransaction,
  NonInviteServerTransaction,
  SipRequest,
  SipResponse,
  TransactionLayer,
  parseMessage,
  type ServerTransaction,
  type Source,
} from '../../../services/sip/index.js';

const PEER: Source = { transport: 'udp', address: '192.0.2.10', port: 5062 };

function request(method: string, branch = 'z9hG4bKpeer1', cseq = 1, toTag?: string): SipRequest {
  return SipRequest.create({
    method,
    uri: 'sip:200@192.0.2.1',
    headers: [
      ['Via', `SIP/2.0/UDP 192.0.2.10:5062;branch=${branch}`],
      ['From', '<sip:100@example.com>;tag=ft1'],
      ['To', `<sip:200@example.com>${toTag ? ';tag=' + toTag : ''}`],
      ['Call-ID', 'call-1'],
      ['CSeq', `${cseq} ${method}`],
      ['Max-Forwards', 70],
    ],
  });
}

function setup(): { clock: ManualClock; layer: TransactionLayer; net: ReturnType<typeof fakeNetwork>; incoming: Array<{ req: SipRequest; tx: ServerTransaction | undefined }> } {
  const clock = new ManualClock();
  const net = fakeNetwork();
  const layer = new TransactionLayer(net.layer, clock, silentLogger);
  const incoming: Array<{ req: SipRequest; tx: ServerTransaction | undefined }> = [];
  layer.onRequest((req, _s, tx) => incoming.push({ req, tx }));
  return { clock, layer, net, incoming };
}

test('non-INVITE client: Timer E doubles to T2, Timer F times out as 408 after 64*T1', async () => {
  const { clock, layer, net } = setup();
  const probe = new OutgoingRequestProbe(request('OPTIONS'));
  const tx = layer.sendRequest(probe.request, { transport: 'udp', address: '192.0.2.10', port: 5062 }, probe.out);
  await net.flush();
  assert.equal(net.sent.length, 1);
  const times: number[] = [];
  for (let t = 0; t < 32_000; t += 100) {
    const before = net.sent.length;
    clock.advance(100);
    await net.flush();
    if (net.sent.length > before) times.push(clock.monotonic());
  }
  // E fires at 500, 1500, 3500, 7500, then every 4000 ms (T2) until F at 32000.
  assert.deepEqual(times.slice(0, 6), [500, 1500, 3500, 7500, 11500, 15500]);
  assert.equal(tx.state, 'Terminated');
  const res = await probe.out.final;
  assert.equal(res.status, 408);
});

test('non-INVITE client: a provisional moves to Proceeding, the final to Completed, Timer K ends it', async () => {
  const { clock, layer, net } = setup();
  const probe = new OutgoingRequestProbe(request('REGISTER'));
  const tx = layer.sendRequest(probe.request, { transport: 'udp', address: '192.0.2.10', port: 5062 }, probe.out);
  await net.flush();
  const sent = parseMessage(net.sent[0]!.buf) as SipRequest;
  net.deliver(SipResponse.to(sent, 100).serialize(), PEER);
  assert.equal(tx.state, 'Proceeding');
  net.deliver(SipResponse.to(sent, 200, undefined, 'tt').serialize(), PEER);
  assert.equal(tx.state, 'Completed');
  assert.equal((await probe.out.final).status, 200);
  assert.deepEqual(tx.runningTimers(), ['timerK']);
  assert.throws(() => tx.request, /request already released/, 'Timer K waits without the request');
  clock.advance(5000);
  assert.equal(tx.state, 'Terminated');
});

test('INVITE client: Timer A doubles, 180 stops it, 486 gets an ACK (also for retransmissions), Timer D ends it', async () => {
  const { clock, layer, net } = setup();
  const probe = new OutgoingRequestProbe(request('INVITE'));
  const tx = layer.sendRequest(probe.request, { transport: 'udp', address: '192.0.2.10', port: 5062 }, probe.out);
  await net.flush();
  clock.advance(500);
  clock.advance(1000);
  await net.flush();
  assert.equal(net.sent.length, 3, 'INVITE at 0, 500, 1500');
  const inv = parseMessage(net.sent[0]!.buf) as SipRequest;
  net.deliver(SipResponse.to(inv, 180, undefined, 'callee').serialize(), PEER);
  assert.equal(tx.state, 'Proceeding');
  clock.advance(10_000);
  await net.flush();
  assert.equal(net.sent.length, 3, 'no retransmission in Proceeding');
  const busy = SipResponse.to(inv, 486, undefined, 'callee').serialize();
  net.deliver(busy, PEER);
  await net.flush();
  assert.equal(tx.state, 'Completed');
  const ack = parseMessage(net.sent[3]!.buf) as SipRequest;
  assert.equal(ack.method, 'ACK');
  assert.equal(ack.via().branch, inv.via().branch);
  assert.equal(ack.to().tag, 'callee');
  assert.deepEqual(ack.cseq, { seq: inv.cseq.seq, method: 'ACK' });
  assert.equal((await probe.out.final).status, 486);
  net.deliver(busy, PEER);
  await net.flush();
  assert.equal(net.sent.length, 5, 'ACK resent for the retransmitted 486');
  assert.equal(probe.finals, 1, 'retransmission not passed to the TU');
  clock.advance(32_000);
  assert.equal(tx.state, 'Terminated');
});

test('INVITE client: 2xx goes to Accepted (RFC 6026) and retransmitted 2xx reach the TU', async () => {
  const { clock, layer, net } = setup();
  const probe = new OutgoingRequestProbe(request('INVITE'));
  const tx = layer.sendRequest(probe.request, { transport: 'udp', address: '192.0.2.10', port: 5062 }, probe.out);
  await net.flush();
  const inv = parseMessage(net.sent[0]!.buf) as SipRequest;
  const ok = SipResponse.to(inv, 200, undefined, 'callee').serialize();
  net.deliver(ok, PEER);
  assert.equal(tx.state, 'Accepted');
  // Timer M keeps the transaction 32 s: without the INVITE's bytes (a pooled Buffer slice would pin its 8 KiB slab).
  assert.equal((tx as unknown as { bytes?: Buffer }).bytes, undefined, 'the INVITE is not kept once accepted');
  assert.notEqual((tx as unknown as { user: unknown }).user, probe.out, 'nor the TU with its request and response');
  net.deliver(ok, PEER);
  assert.equal(probe.late2xx, 1);
  clock.advance(32_000);
  assert.equal(tx.state, 'Terminated');
});

test('INVITE server: a 2xx is sent once and not kept; Accepted absorbs a retransmitted INVITE without answering it', async () => {
  const { clock, net, incoming } = setup();
  const inv = request('INVITE').serialize();
  net.deliver(inv, PEER);
  await net.flush();
  const tx = incoming[0]!.tx as InviteServerTransaction;
  tx.respond(SipResponse.to(incoming[0]!.req, 200, undefined, 'me'));
  await net.flush();
  assert.match(net.sent.at(-1)!.buf.toString(), /^SIP\/2\.0 200/);
  assert.equal(tx.state, 'Accepted');
  assert.equal((tx as unknown as { lastResponse?: string }).lastResponse, undefined, 'the UAS core resends its 2xx, not the transaction');
  const before = net.sent.length;
  net.deliver(inv, PEER);
  await net.flush();
  assert.equal(net.sent.length, before, 'retransmitted INVITE absorbed silently (RFC 6026 §7.1)');
  assert.equal(incoming.length, 1);
  clock.advance(32_000);
  assert.equal(tx.state, 'Terminated');
});

test('INVITE server: 100 Trying at once, retransmitted INVITE gets the last provisional, 486 retransmitted by Timer G until ACK', async () => {
  const { clock, net, incoming } = setup();
  const inv = request('INVITE').serialize();
  net.deliver(inv, PEER);
  await net.flush();
  assert.equal(incoming.length, 1);
  const tx = incoming[0]!.tx as InviteServerTransaction;
  assert.match(net.sent[0]!.buf.toString(), /^SIP\/2\.0 100 Trying/);
  tx.respond(SipResponse.to(incoming[0]!.req, 180, undefined, 'me'));
  net.deliver(inv, PEER);
  await net.flush();
  assert.equal(incoming.length, 1, 'retransmission absorbed');
  assert.match(net.sent[2]!.buf.toString(), /^SIP\/2\.0 180/);
  tx.respond(SipResponse.to(incoming[0]!.req, 486, undefined, 'me'));
  await net.flush();
  const before = net.sent.length;
  clock.advance(500);
  clock.advance(1000);
  clock.advance(2000);
  await net.flush();
  assert.equal(net.sent.length - before, 3, 'Timer G at T1, 2T1, 4T1');
  assert.equal(tx.state, 'Completed');
  net.deliver(request('ACK', 'z9hG4bKpeer1', 1, 'me').serialize(), PEER);
  assert.equal(tx.state, 'Confirmed');
  assert.equal(incoming.length, 1, 'ACK for a non-2xx is absorbed');
  clock.advance(5000);
  assert.equal(tx.state, 'Terminated');
});

test('INVITE server: Timer H reports a failure when the ACK never comes', async () => {
  const { clock, net, incoming } = setup();
  net.deliver(request('INVITE').serialize(), PEER);
  const tx = incoming[0]!.tx as InviteServerTransaction;
  let failure = '';
  tx.onFailure = (why) => (failure = why);
  tx.respond(SipResponse.to(incoming[0]!.req, 404, undefined, 'me'));
  clock.advance(32_000);
  assert.equal(tx.state, 'Terminated');
  assert.equal(failure, 'timeout');
});

test('non-INVITE server: retransmissions get the final response again, Timer J ends it', async () => {
  const { clock, net, incoming, layer } = setup();
  const reg = request('REGISTER').serialize();
  net.deliver(reg, PEER);
  const tx = incoming[0]!.tx as NonInviteServerTransaction;
  net.deliver(reg, PEER);
  await net.flush();
  assert.equal(net.sent.length, 0, 'Trying: retransmission discarded');
  tx.respond(SipResponse.to(incoming[0]!.req, 200, undefined, 'me'));
  // Over UDP the Completed state is carried by the layer's response cache: the object is done with at once.
  assert.equal(tx.state, 'Terminated');
  assert.equal(layer.stats()['completedKept'], 1);
  net.deliver(reg, PEER);
  await net.flush();
  assert.equal(net.sent.length, 2);
  assert.equal(net.sent[1]!.buf.toString(), net.sent[0]!.buf.toString(), 'the same response, byte for byte');
  assert.deepEqual(net.sent[1]!.target, net.sent[0]!.target);
  assert.equal(incoming.length, 1);
  assert.equal(layer.stats()['retransmissionsAbsorbed'], 2);
  clock.advance(31_999);
  net.deliver(reg, PEER);
  assert.equal(incoming.length, 1, 'still absorbed just before 64*T1');
  clock.advance(1);
  assert.equal(layer.stats()['completedKept'], 0, 'Timer J: gone after exactly 64*T1');
  net.deliver(reg, PEER);
  assert.equal(incoming.length, 2, 'after Timer J a retransmission is a new request');
});

test('non-INVITE server: a stateless challenge (RFC 3261 §8.2.7) is not kept, its retransmission is a new request', async () => {
  const { net, incoming, layer } = setup();
  const reg = request('REGISTER').serialize();
  net.deliver(reg, PEER);
  const tx = incoming[0]!.tx as NonInviteServerTransaction;
  const challenge = SipResponse.to(incoming[0]!.req, 401, undefined, 'me');
  challenge.stateless = true;
  tx.respond(challenge);
  await net.flush();
  assert.equal(tx.state, 'Terminated');
  assert.equal(net.sent.length, 1, 'the 401 went out');
  assert.equal(layer.stats()['completedKept'], 0, 'nothing kept for Timer J');
  net.deliver(reg, PEER);
  assert.equal(incoming.length, 2, 'the retransmission reaches the TU, which challenges it again');
  assert.equal(layer.stats()['retransmissionsAbsorbed'], 0);
  // A final response that is not marked stateless is kept as before.
  (incoming[1]!.tx as NonInviteServerTransaction).respond(SipResponse.to(incoming[1]!.req, 401, undefined, 'me'));
  assert.equal(layer.stats()['completedKept'], 1);
});

test('non-INVITE server over a reliable transport: no Timer J wait, nothing kept', async () => {
  const clock = new ManualClock();
  const net = fakeNetwork(true);
  const layer = new TransactionLayer(net.layer, clock, silentLogger);
  const incoming: ServerTransaction[] = [];
  layer.onRequest((_req, _s, tx) => incoming.push(tx!));
  const opts = request('OPTIONS', 'z9hG4bKtcp1');
  net.deliver(opts.serialize(), { ...PEER, transport: 'tcp' });
  const tx = incoming[0] as NonInviteServerTransaction;
  tx.respond(SipResponse.to(opts, 200, undefined, 'me'));
  assert.equal(tx.state, 'Completed');
  assert.equal(layer.stats()['completedKept'], 0);
  clock.advance(0);
  assert.equal(tx.state, 'Terminated', 'Timer J is zero on reliable transports');
});

test('merged request (§8.2.2.2): same From tag, Call-ID and CSeq on another branch gets 482', async () => {
  const { net, incoming } = setup();
  net.deliver(request('INVITE', 'z9hG4bKpathA').serialize(), PEER);
  net.deliver(request('INVITE', 'z9hG4bKpathB').serialize(), { ...PEER, port: 5070 });
  await net.flush();
  assert.equal(incoming.length, 1);
  assert.ok(net.sent.some((s) => s.buf.toString().startsWith('SIP/2.0 482')));
});

test('transactions refuse moves their state diagram does not have', () => {
  const { net, incoming } = setup();
  net.deliver(request('INVITE').serialize(), PEER);
  const tx = incoming[0]!.tx as InviteServerTransaction;
  tx.respond(SipResponse.to(incoming[0]!.req, 486, undefined, 'me'));
  assert.equal(tx.state, 'Completed');
  assert.throws(() => (tx as unknown as { transition(s: string): void }).transition('Proceeding'), /invalid transition Completed → Proceeding/);
});

test('non-INVITE answered by the TU at once: no transaction kept, its retransmission answered from the response cache; one answered later is kept and merged with', async () => {
  const clock = new ManualClock();
  const net = fakeNetwork();
  const layer = new TransactionLayer(net.layer, clock, silentLogger);
  const later: ServerTransaction[] = [];
  let handled = 0;
  layer.onRequest((req, _s, tx) => {
    handled++;
    if (req.method === 'OPTIONS') tx!.respond(SipResponse.to(req, 200, undefined, 'me'));
    else later.push(tx!);
  });
  const opts = request('OPTIONS', 'z9hG4bKsync1');
  net.deliver(opts.serialize(), PEER);
  assert.equal(layer.stats()['server'], 0, 'answered within the handler: no map entry');
  net.deliver(opts.serialize(), PEER);
  await net.flush();
  assert.equal(handled, 1, 'the retransmission did not reach the TU');
  assert.equal(net.sent.filter((s) => s.buf.toString().startsWith('SIP/2.0 200')).length, 2);
  // A request the TU answers later: kept, its retransmission absorbed, and a merged copy (§8.2.2.2) gets 482.
  const msg = request('MESSAGE', 'z9hG4bKlate1');
  net.deliver(msg.serialize(), PEER);
  assert.equal(layer.stats()['server'], 1);
  net.deliver(msg.serialize(), PEER);
  assert.equal(handled, 2);
  net.deliver(request('MESSAGE', 'z9hG4bKlate2').serialize(), { ...PEER, port: 5070 });
  await net.flush();
  assert.equal(handled, 2, 'the merged request did not reach the TU');
  assert.ok(net.sent.some((s) => s.buf.toString().startsWith('SIP/2.0 482')));
  later[0]!.respond(SipResponse.to(msg, 200, undefined, 'me'));
  assert.equal(layer.stats()['server'], 0);
  // Once answered it is no longer ongoing: the same identifiers on a new branch are a new request.
  net.deliver(request('MESSAGE', 'z9hG4bKlate3').serialize(), { ...PEER, port: 5071 });
  assert.equal(handled, 3);
});
