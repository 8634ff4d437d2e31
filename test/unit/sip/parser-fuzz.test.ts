// Parser robustness by property (fast-check): mutated RFC 4475 torture messages and captured phone traffic through
// the real receive path never crash it, never get a 2xx when the parser rejects them, and stay far from slow.
// The full run (1 000 000 messages, the 10 ms figure) is `scripts/bench hardening fuzz`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import fc from 'fast-check';
import { FuzzHarness, fuzzCaseArb, loadCorpus, mutate, parses } from '../../helpers/sip-fuzz.js';
import { MAX_BODY, MAX_HEADERS, parseMessage, SipParseError, TcpTransport } from '../../../services/sip/index.js';
import { silentLogger } from '../../../services/shared/index.js';

const corpus = loadCorpus();

test('fuzz: 3000 mutated messages: no crash, no 2xx to what the parser rejects, nothing pathologically slow', async () => {
  const harness = await FuzzHarness.create();
  try {
    await fc.assert(
      fc.asyncProperty(fuzzCaseArb(corpus.length), async (c) => {
        const bytes = mutate(corpus[c.base]!.bytes, c.mutations);
        const valid = parses(bytes); // throws for anything but SipParseError
        const d = await harness.deliver(bytes);
        assert.deepEqual(d.errors, [], 'nothing logged as a failure');
        if (!valid) assert.ok(!d.statuses.some((s) => s >= 200 && s < 300), `2xx to an invalid message: ${d.statuses.join(',')}`);
        if (d.ms > 100) {
          // Timings are the bench's business (a loaded machine takes the CPU away for tens of ms); only a message
          // that is slow ten times in a row (an algorithm gone quadratic: seconds, not milliseconds) fails here.
          let best = Infinity;
          for (let k = 0; k < 10 && best > 100; k++) best = Math.min(best, (await harness.deliver(bytes)).ms);
          assert.ok(best <= 100, `${best.toFixed(1)} ms for one message, ten times`);
        }
      }),
      { numRuns: 3000 },
    );
  } finally {
    await harness.stop();
  }
});

test('fuzz: the RFC 4475 messages unmutated: the invalid ones never get a 2xx, the valid ones parse', async () => {
  const harness = await FuzzHarness.create();
  try {
    for (const e of corpus) {
      assert.equal(parses(e.bytes), e.valid, e.name);
      const d = await harness.deliver(e.bytes);
      assert.deepEqual(d.errors, [], e.name);
      if (!e.valid) assert.ok(!d.statuses.some((s) => s >= 200 && s < 300), `${e.name}: ${d.statuses.join(',')}`);
    }
  } finally {
    await harness.stop();
  }
});

const OPTIONS_HEAD = 'OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKx\r\nFrom: <sip:x@y>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\n';

function parseError(text: string): SipParseError {
  try {
    parseMessage(Buffer.from(text));
  } catch (err) {
    if (err instanceof SipParseError) return err;
    throw err;
  }
  assert.fail('parsed');
}

test('limits: more than 256 header lines, a header block over 64 KiB, a body over 64 KiB → 513 Message Too Large', () => {
  const many = parseError(OPTIONS_HEAD + 'X-A: 1\r\n'.repeat(MAX_HEADERS) + '\r\n');
  assert.deepEqual([many.sipStatus, many.reason], [513, `more than ${MAX_HEADERS} header lines`]);
  const long = parseError(OPTIONS_HEAD + `X-A: ${'a'.repeat(70_000)}\r\n\r\n`);
  assert.deepEqual([long.sipStatus, long.reason], [513, 'header block larger than 64 KiB']);
  const body = parseError(OPTIONS_HEAD + `Content-Length: ${MAX_BODY + 1}\r\n\r\n${'b'.repeat(MAX_BODY + 1)}`);
  assert.equal(body.sipStatus, 513);
  assert.ok(parseMessage(Buffer.from(OPTIONS_HEAD + 'X-A: 1\r\n'.repeat(MAX_HEADERS - 6) + '\r\n')));
});

test('a bare CR inside a header value is refused (found by the fuzz: echoed in Unsupported it threw when sending the 420)', async () => {
  const text = OPTIONS_HEAD + 'Require: nothingA\rB\r\n\r\n';
  assert.equal(parseError(text).reason, 'header line contains a bare CR');
  const harness = await FuzzHarness.create();
  try {
    const d = await harness.deliver(Buffer.from(text));
    assert.deepEqual([d.errors, d.statuses], [[], [400]]);
    // Bare-LF messages still parse.
    assert.ok(parseMessage(Buffer.from(OPTIONS_HEAD.replace(/\r\n/g, '\n') + '\n')));
  } finally {
    await harness.stop();
  }
});

test('TCP limits: an unfinished message is dropped after partialTimeoutMs, connections per address are capped', async () => {
  const framing: string[] = [];
  const tcp = new TcpTransport('127.0.0.1', 0, silentLogger, { partialTimeoutMs: 150, maxConnectionsPerAddress: 2 });
  await tcp.listen({ onMessage: () => {}, onFramingError: (reason) => void framing.push(reason) });
  const open = (): Promise<net.Socket> =>
    new Promise((resolve, reject) => {
      const s = net.connect({ host: '127.0.0.1', port: tcp.port() }, () => resolve(s));
      s.once('error', reject);
    });
  const closed = (s: net.Socket): Promise<void> => new Promise((r) => (s.destroyed ? r() : s.once('close', () => r())));
  try {
    const slow = await open();
    slow.write(OPTIONS_HEAD.slice(0, 40));
    await closed(slow);
    const a = await open();
    const b = await open();
    const c = await open();
    await closed(c);
    assert.equal(a.destroyed || b.destroyed, false, 'the first two stay open');
    assert.equal(tcp.stats()['refused'], 1);
    a.destroy();
    b.destroy();
  } finally {
    await tcp.close();
  }
});
