import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { silentLogger } from '../../../services/shared/index.js';
import {
  SipRequest,
  SipResponse,
  TcpTransport,
  TransportLayer,
  UdpTransport,
  parseMessage,
  type SipMessage,
  type Source,
} from '../../../services/sip/index.js';

function options(branch: string, via = `SIP/2.0/TCP 10.0.0.5:5070;branch=${branch};rport`): Buffer {
  return SipRequest.create({
    method: 'OPTIONS',
    uri: 'sip:relais@127.0.0.1',
    headers: [
      ['Via', via],
      ['From', '<sip:a@test.local>;tag=1'],
      ['To', '<sip:relais@test.local>'],
      ['Call-ID', `c-${branch}`],
      ['CSeq', '1 OPTIONS'],
    ],
    body: 'x'.repeat(10),
    contentType: 'text/plain',
  }).serialize();
}

async function layer(): Promise<{ tl: TransportLayer; got: Array<{ msg: SipMessage; source: Source }>; waitFor(n: number): Promise<void> }> {
  const tl = new TransportLayer('127.0.0.1', silentLogger);
  tl.add(new UdpTransport('127.0.0.1', 0, silentLogger));
  tl.add(new TcpTransport('127.0.0.1', 0, silentLogger));
  const got: Array<{ msg: SipMessage; source: Source }> = [];
  const waiters: Array<() => void> = [];
  tl.onReceive((msg, source) => {
    got.push({ msg, source });
    waiters.splice(0).forEach((w) => w());
  });
  await tl.listen();
  return {
    tl,
    got,
    waitFor: async (n) => {
      while (got.length < n) await new Promise<void>((r) => waiters.push(r));
    },
  };
}

test('TCP framing: a message split into 1-byte writes and two messages in one write are both framed by Content-Length', async () => {
  const { tl, got, waitFor } = await layer();
  const sock = net.connect(tl.port('tcp'), '127.0.0.1');
  sock.setNoDelay(true);
  await new Promise<void>((r) => sock.once('connect', () => r()));
  try {
    const one = options('z9hG4bKsplit');
    for (let i = 0; i < one.length; i += 7) sock.write(one.subarray(i, i + 7));
    await waitFor(1);
    sock.write(Buffer.concat([options('z9hG4bKa'), Buffer.from('\r\n\r\n'), options('z9hG4bKb')]));
    await waitFor(3);
    assert.deepEqual(got.map((g) => g.msg.via().branch), ['z9hG4bKsplit', 'z9hG4bKa', 'z9hG4bKb']);
    assert.equal(got[0]!.msg.bodyText, 'xxxxxxxxxx');
    const src = got[0]!.source;
    assert.equal(src.transport, 'tcp');
    assert.ok(src.connectionId && got.every((g) => g.source.connectionId === src.connectionId), 'one connection id for the flow');
  } finally {
    sock.destroy();
    await tl.close();
  }
});

test('received/rport are stamped on the top Via only (§18.2.1, RFC 3581 §4)', async () => {
  const { tl, got, waitFor } = await layer();
  const sock = net.connect(tl.port('tcp'), '127.0.0.1');
  await new Promise<void>((r) => sock.once('connect', () => r()));
  try {
    const two = options('z9hG4bKtop', 'SIP/2.0/TCP 10.0.0.5:5070;branch=z9hG4bKtop;rport, SIP/2.0/UDP 10.0.0.9;branch=z9hG4bKlow');
    sock.write(two);
    await waitFor(1);
    const vias = got[0]!.msg.vias();
    assert.equal(vias[0]!.received, '127.0.0.1');
    assert.equal(vias[0]!.rport, sock.localPort);
    assert.equal(vias[1]!.received, undefined);
  } finally {
    sock.destroy();
    await tl.close();
  }
});

test('§18.2.2 response targets: open connection, then received + rport, then received + sent-by port, then sent-by', async () => {
  const tl = new TransportLayer('127.0.0.1', silentLogger);
  const res = (via: string): SipResponse => {
    const req = parseMessage(options('z9hG4bKr', via)) as SipRequest;
    return SipResponse.to(req, 200);
  };
  const udp: Source = { transport: 'udp', address: '192.0.2.7', port: 40000 };
  assert.deepEqual(tl.responseTarget(res('SIP/2.0/UDP 10.0.0.5:5070;branch=z9hG4bKr;rport=40000;received=192.0.2.7'), udp), {
    transport: 'udp',
    address: '192.0.2.7',
    port: 40000,
  });
  assert.deepEqual(tl.responseTarget(res('SIP/2.0/UDP 10.0.0.5:5070;branch=z9hG4bKr;received=192.0.2.7'), udp), {
    transport: 'udp',
    address: '192.0.2.7',
    port: 5070,
  });
  assert.deepEqual(tl.responseTarget(res('SIP/2.0/UDP phone.test.local;branch=z9hG4bKr'), udp), {
    transport: 'udp',
    address: 'phone.test.local',
    port: 5060,
  });
  // A TCP source whose connection is gone: back to received + sent-by port over TCP.
  const gone: Source = { transport: 'tcp', address: '192.0.2.7', port: 40001, connectionId: 'closed' };
  assert.deepEqual(tl.responseTarget(res('SIP/2.0/TCP 10.0.0.5:5070;branch=z9hG4bKr;received=192.0.2.7'), gone), {
    transport: 'tcp',
    address: '192.0.2.7',
    port: 5070,
  });
});

test('UDP: datagrams of one event-loop turn leave together, in order; a port no datagram can go to is refused at once', async () => {
  const udp = new UdpTransport('127.0.0.1', 0, silentLogger);
  await udp.listen({ onMessage: () => {}, onFramingError: () => {} });
  const dgram = await import('node:dgram');
  const peer = dgram.createSocket('udp4');
  await new Promise<void>((r) => peer.bind(0, '127.0.0.1', () => r()));
  const got: string[] = [];
  const all = new Promise<void>((resolve) => {
    peer.on('message', (m) => {
      got.push(m.toString());
      if (got.length === 3) resolve();
    });
  });
  try {
    const to = { transport: 'udp' as const, address: '127.0.0.1', port: peer.address().port };
    await assert.rejects(udp.send(Buffer.from('x'), { ...to, port: 0 }), /cannot send UDP to port 0/);
    await assert.rejects(udp.send(Buffer.from('x'), { ...to, port: 70000 }), /cannot send UDP to port 70000/);
    for (const m of ['one', 'two', 'three']) await udp.send(Buffer.from(m), to);
    await all;
    assert.deepEqual(got, ['one', 'two', 'three']);
    assert.equal(udp.stats()['sendErrors'], 2);
  } finally {
    peer.close();
    await udp.close();
  }
});

test('UDP send thread: datagrams leave from the SIP port, in order; the transport keeps reading; close and a new transport reuse it', async () => {
  const dgram = await import('node:dgram');
  const peer = dgram.createSocket('udp4');
  await new Promise<void>((r) => peer.bind(0, '127.0.0.1', () => r()));
  const got: Array<{ text: string; port: number }> = [];
  peer.on('message', (m, rinfo) => got.push({ text: m.toString(), port: rinfo.port }));
  const to = { transport: 'udp' as const, address: '127.0.0.1', port: peer.address().port };
  const until = async (ok: () => boolean): Promise<void> => {
    const end = Date.now() + 5000;
    while (!ok()) {
      if (Date.now() > end) throw new Error('timed out');
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  try {
    for (let round = 0; round < 2; round++) {
      const received: string[] = [];
      const udp = new UdpTransport('127.0.0.1', 0, silentLogger, { sendThread: true });
      await udp.listen({ onMessage: (buf) => received.push(buf.toString()), onFramingError: () => {} });
      await until(() => udp.stats()['sendThread'] === 1);
      // A lone datagram per turn is sent by the transport itself (handing it over would cost more than sending it).
      const lone = got.length;
      for (let i = 0; i < 3; i++) {
        await udp.send(Buffer.from(`lone-${i}`), to);
        await new Promise((r) => setTimeout(r, 2));
      }
      await until(() => got.length === lone + 3);
      assert.equal(udp.stats()['sentByThread'], 0);
      const before = got.length;
      const words = Array.from({ length: 50 }, (_, i) => `r${round}-${i}`);
      for (const w of words) await udp.send(Buffer.from(w), to);
      await until(() => got.length === before + words.length);
      assert.deepEqual(got.slice(before).map((g) => g.text), words, 'all, in order');
      assert.ok(got.slice(before).every((g) => g.port === udp.port()), 'from the transport\'s own port');
      assert.equal(udp.stats()['sentByThread'], 50, 'a turn of 50 datagrams goes through the thread');
      // The signalling thread still reads every datagram sent to the port (the send thread stopped reading).
      for (let i = 0; i < 20; i++) peer.send(`in-${i}`, udp.port(), '127.0.0.1');
      await until(() => received.length === 20);
      assert.deepEqual(received, Array.from({ length: 20 }, (_, i) => `in-${i}`));
      await assert.rejects(udp.send(Buffer.from('x'), { ...to, port: 0 }), /cannot send UDP to port 0/);
      await udp.close();
      assert.equal(udp.stats()['sendThread'], 0);
    }
  } finally {
    peer.close();
  }
});

test('TLS: framed like TCP over node:tls, the response goes back on the same connection; sips: and transport=tls URIs target TLS', async () => {
  const { BoxCertificate } = await import('../../../services/shared/index.js');
  const { TlsTransport, targetOf, SipUri } = await import('../../../services/sip/index.js');
  const fs = await import('node:fs');
  const os = await import('node:os');
  const path = await import('node:path');
  const tlsMod = await import('node:tls');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'relais-tls-unit-'));
  const certificate = new BoxCertificate({ dir, commonName: 'relais.test', altNames: () => ['127.0.0.1'] });
  const tl = new TransportLayer('127.0.0.1', silentLogger);
  tl.add(new TlsTransport('127.0.0.1', 0, silentLogger, certificate));
  const got: Array<{ msg: SipMessage; source: Source }> = [];
  tl.onReceive((msg, source) => got.push({ msg, source }));
  await tl.listen();
  const sock = tlsMod.connect({ host: '127.0.0.1', port: tl.port('tls'), rejectUnauthorized: false });
  try {
    await new Promise<void>((r) => sock.once('secureConnect', () => r()));
    assert.equal(sock.getPeerX509Certificate()?.fingerprint256, certificate.info().fingerprint256);
    let text = '';
    sock.on('data', (d: Buffer) => (text += d.toString()));
    sock.write(options('z9hG4bKtls', 'SIP/2.0/TLS 10.0.0.5:5071;branch=z9hG4bKtls;rport'));
    while (got.length < 1) await new Promise((r) => setImmediate(r));
    const { msg, source } = got[0]!;
    assert.equal(source.transport, 'tls');
    const res = SipResponse.to(msg as SipRequest, 200);
    assert.equal(tl.responseTarget(res, source).connectionId, source.connectionId, 'the open TLS connection, not 10.0.0.5:5071');
    await tl.sendResponse(res, source);
    while (!text.includes('\r\n\r\n')) await new Promise((r) => setImmediate(r));
    assert.match(text, /^SIP\/2\.0 200 OK\r\n/);
    assert.match(text, /Via: SIP\/2\.0\/TLS 10\.0\.0\.5:5071;branch=z9hG4bKtls;rport=\d+;received=127\.0\.0\.1/i);
  } finally {
    sock.destroy();
    await tl.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  assert.equal(targetOf(SipUri.parse('sips:301@10.0.0.9')).transport, 'tls');
  assert.equal(targetOf(SipUri.parse('sips:301@10.0.0.9')).port, 5061);
  assert.equal(targetOf(SipUri.parse('sip:301@10.0.0.9:5071;transport=tls')).transport, 'tls');
  assert.equal(targetOf(SipUri.parse('sip:301@10.0.0.9;transport=tcp')).transport, 'tcp');
});

test('TLS that cannot start (no certificate could be made) leaves UDP and TCP running: the stack is degraded, not down', async () => {
  const { SipStack } = await import('../../../services/sip/index.js');
  const stack = new SipStack({
    bind: '127.0.0.1',
    port: 0,
    domain: 'relais.test',
    logger: silentLogger,
    tls: {
      port: 0,
      certificate: { ensure: () => Promise.reject(new Error('the openssl command could not make a certificate')), pem: () => ({ cert: '', key: '' }), onChange: () => {} },
    },
  });
  await stack.start();
  try {
    const h = stack.health();
    assert.equal(h.status, 'degraded');
    assert.match(String(h.detail?.['tls']), /SIP over TLS not served.*openssl/);
    assert.equal(stack.tlsPort(), undefined);
    assert.ok(stack.port() > 0, 'UDP/TCP listening');
  } finally {
    await stack.stop();
  }
});
