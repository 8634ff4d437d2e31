import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { ManualClock, silentLogger } from '../../../services/shared/index.js';
import { Dialog, NameAddr, SipResponse, SipStack, SipUri, parseMessage, type SipRequest, type Target } from '../../../services/sip/index.js';

/** A scripted phone on a raw UDP socket: sends text, waits for the next message. */
async function phone(): Promise<{ port: number; send(text: string, to: number): void; next(): Promise<SipRequest | SipResponse>; close(): void }> {
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  const queue: Buffer[] = [];
  const waiters: Array<(b: Buffer) => void> = [];
  sock.on('message', (m) => {
    const w = waiters.shift();
    if (w) w(m);
    else queue.push(m);
  });
  return {
    port: sock.address().port,
    send: (text, to) => sock.send(text.replace(/\n/g, '\r\n'), to, '127.0.0.1'),
    next: () =>
      new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error('no message within 5 s')), 5000);
        const take = (b: Buffer): void => {
          clearTimeout(t);
          resolve(parseMessage(b) as SipRequest | SipResponse);
        };
        const q = queue.shift();
        if (q) take(q);
        else waiters.push(take);
      }),
    close: () => sock.close(),
  };
}

function invite(port: number, pbx: number, branch: string, extra = ''): string {
  const sdp = 'v=0\no=p 1 1 IN IP4 127.0.0.1\ns=-\nc=IN IP4 127.0.0.1\nt=0 0\nm=audio 40000 RTP/AVP 0\n';
  return `INVITE sip:300@127.0.0.1:${pbx} SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:${port};branch=${branch};rport
From: <sip:100@test.local>;tag=ph1
To: <sip:300@test.local>
Call-ID: dlg-1
CSeq: 10 INVITE
Contact: <sip:100@127.0.0.1:${port}>
Record-Route: <sip:127.0.0.1:${port};lr>
Max-Forwards: 70
${extra}Content-Type: application/sdp
Content-Length: ${Buffer.byteLength(sdp.replace(/\n/g, '\r\n'))}

${sdp}`;
}

test('UAS core retransmits its 2xx (T1, 2T1, ... capped at T2) until the ACK, with Record-Route copied and rport honoured', async () => {
  const clock = new ManualClock();
  const pbx = new SipStack({ bind: '127.0.0.1', port: 0, domain: 'test.local', logger: silentLogger, clock });
  await pbx.start();
  const p = await phone();
  try {
    let uas: Promise<Dialog> | undefined;
    pbx.use('INVITE', (req, res) => {
      uas = pbx.createUas(req, res, { localSdp: 'v=0\r\n' });
    });
    p.send(invite(p.port, pbx.port(), 'z9hG4bKi1'), pbx.port());
    const trying = (await p.next()) as SipResponse;
    assert.equal(trying.status, 100);
    const ok = (await p.next()) as SipResponse;
    assert.equal(ok.status, 200);
    assert.equal(ok.get('record-route'), `<sip:127.0.0.1:${p.port};lr>`);
    assert.equal(ok.via().rport, p.port);
    assert.equal(ok.via().received, '127.0.0.1');
    assert.ok(ok.contacts()[0]!.uri.port === pbx.port());
    clock.advance(500);
    assert.equal(((await p.next()) as SipResponse).status, 200);
    clock.advance(1000);
    assert.equal(((await p.next()) as SipResponse).status, 200);
    const toTag = ok.to().tag!;
    p.send(`ACK sip:300@127.0.0.1:${pbx.port()} SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:${p.port};branch=z9hG4bKack1
From: <sip:100@test.local>;tag=ph1
To: <sip:300@test.local>;tag=${toTag}
Call-ID: dlg-1
CSeq: 10 ACK
Max-Forwards: 70
Content-Length: 0

`, pbx.port());
    const d = await uas!;
    assert.equal(d.routeSet[0], `<sip:127.0.0.1:${p.port};lr>`);
    assert.equal(d.remoteTarget.port, p.port);
    clock.advance(20_000);
    // The next thing the phone receives must be the BYE below, not another 200.
    const bye = d.destroy();
    const m = (await p.next()) as SipRequest;
    assert.equal(m.method, 'BYE');
    // §12.2.1.1 loose routing: Request-URI = remote target, Route = route set.
    assert.equal(m.uri, `sip:100@127.0.0.1:${p.port}`);
    assert.equal(m.get('route'), `<sip:127.0.0.1:${p.port};lr>`);
    assert.equal(m.to().tag, 'ph1');
    assert.equal(m.from().tag, toTag);
    void bye;
  } finally {
    p.close();
    await pbx.stop();
  }
});

test('in-dialog: an out-of-order CSeq gets 500, an unknown dialog 481, and no ACK ends the call with BYE after 64*T1', async () => {
  const clock = new ManualClock();
  const pbx = new SipStack({ bind: '127.0.0.1', port: 0, domain: 'test.local', logger: silentLogger, clock });
  await pbx.start();
  const p = await phone();
  try {
    const ended: string[] = [];
    pbx.use('INVITE', (req, res) => {
      pbx.createUas(req, res, { localSdp: 'v=0\r\n' }).catch((e: Error) => ended.push(e.message));
    });
    p.send(invite(p.port, pbx.port(), 'z9hG4bKi2'), pbx.port());
    await p.next();
    const ok = (await p.next()) as SipResponse;
    const toTag = ok.to().tag!;
    const inDialog = (method: string, seq: number, tag = toTag): string => `${method} sip:300@127.0.0.1:${pbx.port()} SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:${p.port};branch=z9hG4bK${method}${seq}${tag}
From: <sip:100@test.local>;tag=ph1
To: <sip:300@test.local>;tag=${tag}
Call-ID: dlg-1
CSeq: ${seq} ${method}
Max-Forwards: 70
Content-Length: 0

`;
    p.send(inDialog('INFO', 5), pbx.port());
    let m = (await p.next()) as SipResponse;
    while (m.status === 200 && m.cseq.method === 'INVITE') m = (await p.next()) as SipResponse;
    assert.equal(m.status, 500);
    p.send(inDialog('INFO', 11, 'nosuchtag'), pbx.port());
    m = (await p.next()) as SipResponse;
    while (m.status === 200 && m.cseq.method === 'INVITE') m = (await p.next()) as SipResponse;
    assert.equal(m.status, 481);
    for (let i = 0; i < 70; i++) clock.advance(500);
    let bye: SipRequest | SipResponse;
    do bye = await p.next();
    while (!('method' in bye));
    assert.equal((bye as SipRequest).method, 'BYE');
    assert.deepEqual(ended, ['SIP 408 ACK not received']);
  } finally {
    p.close();
    await pbx.stop();
  }
});

test('next hop (§12.2.1.1): first Route, else remote target; the flow for a live TCP connection or a NATed peer', async () => {
  const clock = new ManualClock();
  const pbx = new SipStack({ bind: '127.0.0.1', port: 0, domain: 'test.local', logger: silentLogger, clock });
  const mk = (remoteTarget: string, flow: Target, routeSet: string[] = []): Dialog =>
    new Dialog(pbx, {
      role: 'uac',
      callId: 'c',
      localTag: 'l',
      remoteTag: 'r',
      local: NameAddr.parse('<sip:a@test.local>;tag=l'),
      remote: NameAddr.parse('<sip:b@test.local>;tag=r'),
      localSeq: 1,
      remoteSeq: undefined,
      remoteTarget: SipUri.parse(remoteTarget),
      routeSet,
      flow,
      localSdp: undefined,
      remoteSdp: undefined,
    });
  const lanFlow: Target = { transport: 'udp', address: '192.168.1.20', port: 5062 };
  assert.deepEqual(mk('sip:201@192.168.1.20:5062', lanFlow).nextHop(), lanFlow);
  // A trunk whose 200 names a media gateway: in-dialog requests go to the Contact, not back to the proxy.
  assert.deepEqual(mk('sip:gw@198.51.100.7:5080', { transport: 'udp', address: '203.0.113.5', port: 5060 }).nextHop(), {
    transport: 'udp',
    address: '198.51.100.7',
    port: 5080,
  });
  // A remote phone behind NAT shows a private Contact: reach it through the public flow it used.
  const natFlow: Target = { transport: 'udp', address: '203.0.113.9', port: 40123 };
  assert.deepEqual(mk('sip:201@192.168.0.5:5060', natFlow).nextHop(), natFlow);
  assert.deepEqual(mk('sip:201@192.168.1.20:5062', lanFlow, ['<sip:127.0.0.1:5099;lr>']).nextHop(), {
    transport: 'udp',
    address: '127.0.0.1',
    port: 5099,
  });
});

test('a handler that never answers a non-INVITE request: the stack answers 500 after 64*T1', async () => {
  const clock = new ManualClock();
  const pbx = new SipStack({ bind: '127.0.0.1', port: 0, domain: 'test.local', logger: silentLogger, clock });
  pbx.use('MESSAGE', () => {
    /* forgets to answer */
  });
  await pbx.start();
  const p = await phone();
  try {
    p.send(`MESSAGE sip:300@127.0.0.1:${pbx.port()} SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:${p.port};branch=z9hG4bKmsg1;rport
From: <sip:100@test.local>;tag=ph1
To: <sip:300@test.local>
Call-ID: msg-1
CSeq: 1 MESSAGE
Max-Forwards: 70
Content-Length: 0

`, pbx.port());
    // Bounded poll: the request has reached the handler once the server transaction exists.
    for (let i = 0; i < 400 && (pbx.health().detail!["transactions"] as { server: number }).server === 0; i++) await new Promise((r) => setTimeout(r, 5));
    clock.advance(32_000);
    const r = (await p.next()) as SipResponse;
    assert.equal(r.status, 500);
    assert.equal(r.reason, 'No Response From Handler');
  } finally {
    p.close();
    await pbx.stop();
  }
});

test('UAC: a retransmitted 2xx gets the same ACK again, from the dialog, after the INVITE transaction has let its request go', async () => {
  const pbx = new SipStack({ bind: '127.0.0.1', port: 0, domain: 'test.local', logger: silentLogger });
  await pbx.start();
  const p = await phone();
  try {
    const uac = pbx.createUac(`sip:100@127.0.0.1:${p.port}`, { localSdp: 'v=0\r\n' });
    const inv = (await p.next()) as SipRequest;
    assert.equal(inv.method, 'INVITE');
    const ok = SipResponse.to(inv, 200, undefined, 'ph9');
    ok.append('contact', `<sip:100@127.0.0.1:${p.port}>`);
    ok.setBody('v=0\r\n', 'application/sdp');
    const okText = ok.serialize().toString('latin1').replace(/\r\n/g, '\n'); // phone.send turns \n back into CRLF
    p.send(okText, pbx.port());
    const d = await uac;
    const ack = (await p.next()) as SipRequest;
    assert.equal(ack.method, 'ACK');
    assert.equal(ack.cseq.seq, inv.cseq.seq);
    // The 200 again (our ACK lost on the way): the same ACK again (RFC 3261 §13.2.2.4), through the hook the
    // transaction kept in place of its request and response.
    p.send(okText, pbx.port());
    const again = (await p.next()) as SipRequest;
    assert.equal(again.method, 'ACK');
    assert.equal(again.serialize().toString('latin1'), ack.serialize().toString('latin1'));
    void d.destroy();
    assert.equal(((await p.next()) as SipRequest).method, 'BYE');
  } finally {
    p.close();
    await pbx.stop();
  }
});
