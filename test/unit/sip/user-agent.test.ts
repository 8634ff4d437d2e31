import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import { silentLogger } from '../../../services/shared/index.js';
import {
  NameAddr,
  SipError,
  SipResponse,
  SipStack,
  frameStream,
  parseMessage,
  type Dialog,
  type IncomingRequest,
  type ServerResponse,
  type SipRequest,
} from '../../../services/sip/index.js';

const SDP_A = 'v=0\r\no=a 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\n';
const SDP_B = 'v=0\r\no=b 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40002 RTP/AVP 0\r\n';

async function stack(): Promise<SipStack> {
  const s = new SipStack({ bind: '127.0.0.1', port: 0, domain: 'test.local', logger: silentLogger });
  await s.start();
  return s;
}

/** Runs `fn` with `n` started stacks and stops them all afterwards, whatever happens. */
async function withStacks(n: number, fn: (stacks: SipStack[]) => Promise<void>): Promise<void> {
  const stacks: SipStack[] = [];
  try {
    for (let i = 0; i < n; i++) stacks.push(await stack());
    await fn(stacks);
  } finally {
    for (const s of stacks) await s.stop();
  }
}

function once<T>(fn: (resolve: (v: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve) => fn(resolve));
}

test('defaults: OPTIONS 200, unhandled INVITE 480, unknown method 501, out-of-dialog BYE 481', async () => {
  await withStacks(2, async ([a, b]) => {
    const uri = `sip:x@127.0.0.1:${b.port()}`;
    assert.equal((await a.request({ method: 'OPTIONS', uri })).status, 200);
    assert.equal((await a.request({ method: 'OPTIONS', uri: uri + ';transport=tcp' })).status, 200);
    assert.equal((await a.request({ method: 'BREW', uri })).status, 501);
    assert.equal((await a.request({ method: 'BYE', uri })).status, 481);
    await assert.rejects(a.createUac(uri, { localSdp: SDP_A }), (e: unknown) => e instanceof SipError && e.status === 480);
  });
});

test('UAS policy (RFC 4475 §3.3): unknown Request-URI scheme → 416, unknown Require → 420 with Unsupported', async () => {
  await withStacks(2, async ([a, b]) => {
    const target = { transport: 'udp' as const, address: '127.0.0.1', port: b.port() };
    assert.equal((await a.request({ method: 'OPTIONS', uri: 'nobodyKnowsThisScheme:totallyopaquecontent', target })).status, 416);
    const r = await a.request({ method: 'OPTIONS', uri: `sip:x@127.0.0.1:${b.port()}`, headers: { Require: 'nothingSupportsThis, replaces' } });
    assert.equal(r.status, 420);
    assert.equal(r.get('unsupported'), 'nothingSupportsThis');
  });
});

test('middleware: handlers run in order, next() falls through, thrown SipError becomes the response', async () => {
  const a = await stack();
  const b = await stack();
  const seen: string[] = [];
  b.use('*', (req, _res, next) => {
    seen.push(`any:${req.method}`);
    next();
  });
  b.use('MESSAGE', (_req, res) => {
    res.send(202, { headers: { 'X-Seen': 'yes' } });
  });
  b.use('PUBLISH', () => {
    throw new SipError(489, 'Bad Event');
  });
  try {
    const uri = `sip:x@127.0.0.1:${b.port()}`;
    const accepted = await a.request({ method: 'MESSAGE', uri, body: 'hi' });
    assert.equal(accepted.status, 202);
    assert.equal(accepted.get('x-seen'), 'yes');
    assert.equal((await a.request({ method: 'PUBLISH', uri })).status, 489);
    assert.deepEqual(seen, ['any:MESSAGE', 'any:PUBLISH']);
  } finally {
    await a.stop();
    await b.stop();
  }
});

for (const transport of ['udp', 'tcp'] as const) {
  test(`INVITE/200/ACK, re-INVITE (modify), INFO, BYE over ${transport}`, async () => {
    await withStacks(2, async ([a, b]) => {
      const uasReady = once<Dialog>((resolve) =>
        b.use('INVITE', async (req, res) => {
          res.send(180);
          resolve(await b.createUas(req, res, { localSdp: SDP_B }));
        }),
      );
      const provisional: number[] = [];
      const uac = await a.createUac(`sip:200@127.0.0.1:${b.port()};transport=${transport}`, {
        localSdp: SDP_A,
        onProvisional: (r) => provisional.push(r.status),
      });
      const uas = await uasReady;
      assert.deepEqual(provisional, [180]);
      assert.equal(uac.remoteSdp, SDP_B);
      assert.equal(uas.remoteSdp, SDP_A);
      assert.equal(uac.callId, uas.callId);
      assert.equal(uac.remoteTag, uas.localTag);

      uas.on('modify', (req, res) => res.send(200, undefined, { body: req.body.replace('40000', '40004') }));
      const answer = await uac.modify(SDP_A.replace('sendrecv', 'sendonly'));
      assert.ok(answer.includes('40004'));

      const info = once<string>((resolve) => uas.on('info', (req, res) => {
        res.send(200);
        resolve(req.body);
      }));
      const ir = await uac.request('INFO', { body: 'Signal=5\r\nDuration=160\r\n', contentType: 'application/dtmf-relay' });
      assert.equal(ir.status, 200);
      assert.ok((await info).includes('Signal=5'));

      // REFER without a listener is declined; with one, the handler answers and NOTIFYs flow the other way.
      assert.equal((await uac.request('REFER', { headers: { 'Refer-To': '<sip:300@test.local>' } })).status, 603);
      const referTo = once<string>((resolve) =>
        uas.on('refer', (req, res) => {
          res.send(202);
          resolve(req.get('refer-to')!);
        }),
      );
      assert.equal((await uac.request('REFER', { headers: { 'Refer-To': '<sip:300@test.local?Replaces=abc%40h%3Bto-tag%3D1%3Bfrom-tag%3D2>' } })).status, 202);
      assert.equal(NameAddr.parse(await referTo).uri.headers['Replaces'], 'abc@h;to-tag=1;from-tag=2');
      const frag = once<string>((resolve) =>
        uac.on('notify', (req, res) => {
          res.send(200);
          resolve(req.body);
        }),
      );
      const n = await uas.request('NOTIFY', { headers: { Event: 'refer', 'Subscription-State': 'terminated;reason=noresource' }, body: 'SIP/2.0 200 OK\r\n', contentType: 'message/sipfrag' });
      assert.equal(n.status, 200);
      assert.equal(await frag, 'SIP/2.0 200 OK\r\n');

      const ended = uas.waitFor('destroy');
      await uac.destroy();
      assert.deepEqual((await ended)[0], 'remote-bye');
      await uac.destroy();
      assert.equal(a.dialogCount(), 0);
      assert.equal(b.dialogCount(), 0);
    });
  });
}

test('CANCEL during ringing: caller gets 487, callee sees the cancel event', async () => {
  await withStacks(2, async ([a, b]) => {
    const canceled = once<boolean>((resolve) =>
      b.use('INVITE', (req, res) => {
        res.send(180);
        req.on('cancel', () => resolve(true));
      }),
    );
    const ac = new AbortController();
    const call = a.createUac(`sip:200@127.0.0.1:${b.port()}`, { localSdp: SDP_A, signal: ac.signal, onProvisional: () => ac.abort() });
    await assert.rejects(call, (e: unknown) => e instanceof SipError && e.status === 487);
    assert.equal(await canceled, true);
  });
});

test('B2BUA: A → relais → B, ringing relayed, answer relayed, BYE propagated both ways; busy mapped', async () => {
  await withStacks(3, async ([a, pbx, b]) => {
    let calleeBusy = false;
    const bLegs: Dialog[] = [];
    b.use('INVITE', async (req, res) => {
      if (calleeBusy) return void res.send(486);
      res.send(180);
      bLegs.push(await b.createUas(req, res, { localSdp: SDP_B }));
    });
    const bridged = once<{ uas: Dialog; uac: Dialog }>((resolve) =>
      pbx.use('INVITE', async (req: IncomingRequest, res: ServerResponse) => {
        try {
          resolve(await pbx.createB2bua(req, res, `sip:201@127.0.0.1:${b.port()}`, { headers: { From: `"Alice" <sip:200@test.local>` } }));
        } catch {
          /* failure already answered to A */
        }
      }),
    );
    const ringing: number[] = [];
    const caller = await a.createUac(`sip:201@127.0.0.1:${pbx.port()}`, { localSdp: SDP_A, onProvisional: (r) => ringing.push(r.status) });
    const { uas, uac } = await bridged;
    assert.deepEqual(ringing, [180]);
    assert.equal(caller.remoteSdp, SDP_B);
    assert.equal(uac.remote.uri.user, '201');
    assert.equal(uas.remoteSdp, SDP_A);
    // Hold from A is relayed to B (pass-through B2BUA), B's answer comes back; INFO (DTMF) too.
    bLegs[0]!.on('modify', (req, res) => res.send(200, undefined, { body: req.body.replace('40000', '40010') }));
    const infos: string[] = [];
    bLegs[0]!.on('info', (req, res) => {
      infos.push(req.body);
      res.send(200);
    });
    const held = await caller.modify(SDP_A + 'a=sendonly\r\n');
    assert.ok(held.includes('40010'), held);
    assert.ok(bLegs[0]!.remoteSdp!.includes('a=sendonly'));
    assert.equal((await caller.request('INFO', { body: 'Signal=1\r\n', contentType: 'application/dtmf-relay' })).status, 200);
    assert.deepEqual(infos, ['Signal=1\r\n']);
    // B hangs up: A gets a BYE.
    const aEnded = caller.waitFor('destroy');
    await bLegs[0]!.destroy();
    assert.equal((await aEnded)[0], 'remote-bye');

    calleeBusy = true;
    await assert.rejects(a.createUac(`sip:201@127.0.0.1:${pbx.port()}`, { localSdp: SDP_A }), (e: unknown) => e instanceof SipError && e.status === 486);
  });
});

test('B2BUA late offer: INVITE without SDP, B offers in its 200, A answers in its ACK, relayed to B\'s ACK', async () => {
  await withStacks(3, async ([a, pbx, b]) => {
    const bLeg = once<Dialog>((resolve) =>
      b.use('INVITE', async (req, res) => {
        assert.equal(req.msg.body.length, 0);
        resolve(await b.createUas(req, res, { localSdp: SDP_B }));
      }),
    );
    pbx.use('INVITE', async (req, res) => {
      await pbx.createB2bua(req, res, `sip:201@127.0.0.1:${b.port()}`).catch(() => {});
    });
    const caller = await a.createUac(`sip:201@127.0.0.1:${pbx.port()}`, { ackSdp: (offer) => (offer === SDP_B ? SDP_A : 'wrong') });
    const callee = await bLeg;
    assert.equal(caller.remoteSdp, SDP_B);
    assert.equal(callee.remoteSdp, SDP_A);
    const ended = callee.waitFor('destroy');
    await caller.destroy();
    assert.equal((await ended)[0], 'remote-bye');
    const d = pbx.findDialog(caller.callId, caller.remoteTag, caller.localTag);
    assert.equal(d, undefined, 'dialogs are forgotten once ended');
  });
});

test('B2BUA forking: two contacts ring, the first to answer wins, the other is CANCELled', async () => {
  await withStacks(4, async ([a, pbx, b1, b2]) => {
    const slowCanceled = once<boolean>((resolve) =>
      b1.use('INVITE', (req, res) => {
        res.send(180);
        req.on('cancel', () => resolve(true));
      }),
    );
    const fastAnswered = once<Dialog>((resolve) =>
      b2.use('INVITE', async (req, res) => {
        res.send(180);
        resolve(await b2.createUas(req, res, { localSdp: SDP_B }));
      }),
    );
    pbx.use('INVITE', async (req, res) => {
      await pbx
        .createB2bua(req, res, [{ uri: `sip:201@127.0.0.1:${b1.port()}` }, { uri: `sip:201@127.0.0.1:${b2.port()}` }])
        .catch(() => {});
    });
    const caller = await a.createUac(`sip:201@127.0.0.1:${pbx.port()}`, { localSdp: SDP_A });
    assert.equal(await slowCanceled, true);
    const callee = await fastAnswered;
    assert.equal(caller.remoteSdp, SDP_B);
    const ended = callee.waitFor('destroy');
    await caller.destroy();
    await ended;
  });
});

test('stop() hangs up calls in progress with BYE', async () => {
  await withStacks(1, async ([b]) => {
    const a = await stack();
    const callee = once<Dialog>((resolve) => b.use('INVITE', async (req, res) => resolve(await b.createUas(req, res, { localSdp: SDP_B }))));
    await a.createUac(`sip:200@127.0.0.1:${b.port()}`, { localSdp: SDP_A });
    const d = await callee;
    const ended = d.waitFor('destroy');
    await a.stop();
    assert.equal((await ended)[0], 'remote-bye');
  });
});

test('ring timeout: a callee that rings forever is CANCELled and the call fails with 408', async () => {
  await withStacks(2, async ([a, b]) => {
    const canceled = once<boolean>((resolve) =>
      b.use('INVITE', (req, res) => {
        res.send(180);
        req.on('cancel', () => resolve(true));
      }),
    );
    await assert.rejects(a.createUac(`sip:200@127.0.0.1:${b.port()}`, { localSdp: SDP_A, ringTimeoutMs: 300 }), (e: unknown) => e instanceof SipError && e.status === 408);
    assert.equal(await canceled, true);
  });
});

test('digest: createUac and request() answer a 401 challenge once', async () => {
  await withStacks(2, async ([a, b]) => {
    b.use('OPTIONS', (req, res) => {
      if (!req.get('authorization')) return void res.send(401, undefined, { headers: { 'WWW-Authenticate': 'Digest realm="test.local", nonce="abc", qop="auth", algorithm=MD5' } });
      res.send(200, undefined, { headers: { 'X-Auth': req.get('authorization')! } });
    });
    const r = await a.request({ method: 'OPTIONS', uri: `sip:x@127.0.0.1:${b.port()}`, auth: { username: 'u', password: 'p' } });
    assert.equal(r.status, 200);
    assert.match(r.get('x-auth')!, /^Digest username="u", realm="test.local"/);
  });
});

test('malformed datagrams: 400 with a reason when answerable, dropped otherwise; stack keeps working', async () => {
  const b = await stack();
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  try {
    const reply = once<string>((resolve) => sock.once('message', (m) => resolve(m.toString())));
    const bad = [
      'OPTIONS sip:x@127.0.0.1 SIP/2.0',
      `Via: SIP/2.0/UDP 127.0.0.1:${sock.address().port};branch=z9hG4bKbad1`,
      'From: <sip:a@x>;tag=1',
      'To: <sip:x@127.0.0.1>',
      'Call-ID: bad1',
      'CSeq: 1 INVITE',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n');
    sock.send(bad, b.port(), '127.0.0.1');
    const text = await reply;
    assert.match(text, /^SIP\/2\.0 400 CSeq method INVITE does not match OPTIONS\r\n/);
    sock.send('garbage\r\n\r\n', b.port(), '127.0.0.1');
    sock.send(Buffer.alloc(100, 0xff), b.port(), '127.0.0.1');
    const a = await stack();
    try {
      assert.equal((await a.request({ method: 'OPTIONS', uri: `sip:x@127.0.0.1:${b.port()}` })).status, 200);
    } finally {
      await a.stop();
    }
    const stats = b.health().detail!['transport'] as { parseErrors: number; dropped: number; badRequestsAnswered: number };
    assert.equal(stats.badRequestsAnswered, 1);
    assert.equal(stats.dropped, 2);
  } finally {
    sock.close();
    await b.stop();
  }
});

test('TCP connection reuse: a request to a registered TCP contact goes back over the phone\'s own connection', async () => {
  const pbx = await stack();
  const phone = net.connect(pbx.port(), '127.0.0.1');
  await new Promise<void>((r) => phone.once('connect', () => r()));
  let buf = Buffer.alloc(0);
  const inbox: string[] = [];
  const waiters: Array<() => void> = [];
  phone.on('data', (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    for (;;) {
      const f = frameStream(buf, 0);
      if (f.kind === 'incomplete') break;
      if (f.kind === 'message') inbox.push(buf.subarray(0, f.length).toString());
      buf = buf.subarray(f.length);
    }
    waiters.splice(0).forEach((w) => w());
  });
  const nextMessage = async (): Promise<string> => {
    while (inbox.length === 0) await new Promise<void>((r) => waiters.push(r));
    return inbox.shift()!;
  };
  try {
    const source = once<{ address: string; port: number; connectionId?: string }>((resolve) =>
      pbx.use('REGISTER', (req, res) => {
        res.send(200);
        resolve(req.source);
      }),
    );
    const lp = phone.localPort!;
    phone.write(
      `REGISTER sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 10.9.9.9:5060;branch=z9hG4bKtcpreg;rport\r\nFrom: <sip:201@test.local>;tag=p1\r\nTo: <sip:201@test.local>\r\nCall-ID: tcpreg\r\nCSeq: 1 REGISTER\r\nContact: <sip:201@10.9.9.9:5060;transport=tcp>\r\nContent-Length: 0\r\n\r\n`,
    );
    const src = await source;
    assert.equal(src.port, lp);
    assert.ok(src.connectionId);
    const ok = parseMessage(Buffer.from(await nextMessage()));
    assert.equal((ok as { status?: number }).status, 200);
    assert.equal(ok.via().received, '127.0.0.1');
    // The Contact (10.9.9.9) is unreachable: only the connection reaches the phone.
    const pending = pbx.request({ method: 'OPTIONS', uri: 'sip:201@10.9.9.9:5060;transport=tcp', target: { transport: 'tcp', address: src.address, port: src.port, connectionId: src.connectionId! } });
    const opt = parseMessage(Buffer.from(await nextMessage()));
    assert.equal((opt as { method?: string }).method, 'OPTIONS');
    phone.write(SipResponse.to(opt as SipRequest, 200, undefined, 'ph').serialize());
    assert.equal((await pending).status, 200);
  } finally {
    phone.destroy();
    await pbx.stop();
  }
});

test('start() on a port already taken names the port and releases what did bind', async () => {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as net.AddressInfo).port;
  try {
    const s = new SipStack({ bind: '127.0.0.1', port, domain: 'test.local', logger: silentLogger });
    await assert.rejects(s.start(), new RegExp(`SIP cannot listen on 127.0.0.1:${port}: the port is already in use`));
    // UDP had bound first: it must be free again.
    const u = dgram.createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      u.once('error', reject);
      u.bind(port, '127.0.0.1', () => resolve());
    });
    u.close();
  } finally {
    srv.close();
  }
});
