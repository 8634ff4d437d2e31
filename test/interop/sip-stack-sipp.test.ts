import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import { startRelais, type RelaisProcess, ADMIN_AUTH } from '../helpers/relais-process.js';
import { describeSipp, runSipp } from '../helpers/sipp.js';

async function healthy(r: RelaisProcess): Promise<void> {
  const res = await fetch(`${r.url}/healthz`, { headers: ADMIN_AUTH });
  assert.equal(res.status, 200);
  const body = (await res.json()) as { modules: Record<string, { status: string }> };
  assert.equal(body.modules['sip']?.status, 'ok');
  assert.equal(r.child.exitCode, null, 'relais is still running');
}

function udpExchange(port: number, payloads: Buffer[], expectReplies: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket('udp4');
    const replies: string[] = [];
    const timer = setTimeout(() => {
      sock.close();
      if (expectReplies === 0) resolve(replies);
      else reject(new Error(`got ${replies.length}/${expectReplies} replies: ${replies.join('\n---\n')}`));
    }, expectReplies === 0 ? 500 : 5000);
    sock.on('message', (m) => {
      replies.push(m.toString());
      if (replies.length === expectReplies) {
        clearTimeout(timer);
        sock.close();
        resolve(replies);
      }
    });
    sock.bind(0, '127.0.0.1', () => {
      for (const p of payloads) sock.send(p, port, '127.0.0.1');
    });
  });
}

test('SIPp: OPTIONS over UDP and TCP get 200 (keep-alive answered by the stack)', async () => {
  const r = await startRelais();
  try {
    for (const transport of ['u1', 't1'] as const) {
      const res = await runSipp({ scenario: 'options.xml', target: `127.0.0.1:${r.sipPort}`, service: 'ping', calls: 5, rate: 50, transport, timeoutS: 20 });
      assert.equal(res.code, 0, describeSipp(res));
      assert.equal(res.successful, 5, describeSipp(res));
    }
    await healthy(r);
  } finally {
    await r.stop();
  }
});

test('SIPp: malformed requests over UDP and TCP get 400 with a reason, then a good request still gets 200', async () => {
  const r = await startRelais();
  try {
    for (const transport of ['u1', 't1'] as const) {
      const res = await runSipp({ scenario: 'malformed.xml', target: `127.0.0.1:${r.sipPort}`, service: 'x', calls: 1, transport, timeoutS: 20 });
      assert.equal(res.code, 0, describeSipp(res));
    }
    await healthy(r);
  } finally {
    await r.stop();
  }
});

test('SIPp: a request of SIP/7.0 gets 505 Version Not Supported over UDP and TCP (RFC 4475 §3.3.14), it used to be dropped', async () => {
  const r = await startRelais();
  try {
    for (const transport of ['u1', 't1'] as const) {
      const res = await runSipp({ scenario: 'badvers.xml', target: `127.0.0.1:${r.sipPort}`, service: 't.watson', calls: 1, transport, timeoutS: 10 });
      assert.equal(res.code, 0, describeSipp(res));
      assert.match(res.messages, /SIP\/2\.0 505 /);
    }
    await healthy(r);
  } finally {
    await r.stop();
  }
});

test('raw garbage over UDP and TCP is dropped (or answered 400) and relais stays healthy', async () => {
  const r = await startRelais();
  try {
    const garbage = [
      Buffer.from('\x00\x01\x02 not sip at all\r\n\r\n'),
      Buffer.alloc(1400, 0xff),
      Buffer.from('INVITE sip:x@y SIP/2.0\r\nVia: broken\r\n\r\n'),
      Buffer.from('SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKnomatch\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n'),
      Buffer.from('OPTIONS sip:x@127.0.0.1 SIP/2.0\r\nContent-Length: 99999999999999999999\r\n\r\n'),
    ];
    const replies = await udpExchange(r.sipPort, garbage, 0);
    assert.ok(replies.every((m) => m.startsWith('SIP/2.0 400')), replies.join('\n'));
    // Negative Content-Length (RFC 4475 §3.1.2.3) on UDP: answerable, so 400 naming the problem.
    const ncl = Buffer.from(
      'MESSAGE sip:x@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKncl;rport\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:x@127.0.0.1>\r\nCall-ID: ncl\r\nCSeq: 1 MESSAGE\r\nContent-Length: -999\r\n\r\nhello',
    );
    const [nclReply] = await udpExchange(r.sipPort, [ncl], 1);
    assert.match(nclReply!, /^SIP\/2\.0 400 Content-Length is not a number: "-999"\r\n/);
    // TCP: a stream without Content-Length loses framing: 400 if answerable, then the connection closes.
    const tcpReply = await new Promise<string>((resolve, reject) => {
      const s = net.connect(r.sipPort, '127.0.0.1');
      let got = '';
      s.on('data', (d) => (got += d.toString()));
      s.on('close', () => resolve(got));
      s.on('error', reject);
      s.write(
        'OPTIONS sip:x@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bKt1\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:x@127.0.0.1>\r\nCall-ID: t1\r\nCSeq: 1 OPTIONS\r\n\r\n',
      );
    });
    assert.match(tcpReply, /^SIP\/2\.0 400 missing Content-Length on a stream transport/);
    const s2 = net.connect(r.sipPort, '127.0.0.1');
    s2.write(Buffer.alloc(70_000, 0x41));
    await new Promise<void>((resolve) => s2.on('close', () => resolve()).on('error', () => resolve()));
    await healthy(r);
    const ok = await runSipp({ scenario: 'options.xml', target: `127.0.0.1:${r.sipPort}`, service: 'ping', calls: 1, transport: 'u1', timeoutS: 10 });
    assert.equal(ok.code, 0, describeSipp(ok));
  } finally {
    await r.stop();
  }
});
