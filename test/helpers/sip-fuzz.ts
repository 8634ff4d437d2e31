// Parser robustness by property (fast-check): RFC 4475 torture messages and captured phone traffic, mutated, fed
// through the real receive path (transport layer → parser → transaction layer → SipStack) over an in-memory wire.
// The properties: nothing escapes as an error, no message takes over 10 ms, nothing the parser rejects gets a 2xx.
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { Logger, ManualClock } from '../../services/shared/index.js';
import { parseMessage, SipParseError, SipStack, type Source } from '../../services/sip/index.js';
import { memoryTransport } from './memory-transport.js';
import { PROJECT_ROOT } from './relais-process.js';

export interface CorpusEntry {
  name: string;
  bytes: Buffer;
  /** From RFC 4475's verdict (expected.json); captured phone messages are valid. */
  valid: boolean;
}

/** test/fixtures/sip: the RFC 4475 messages and the captured phone messages. */
export function loadCorpus(): CorpusEntry[] {
  const base = path.join(PROJECT_ROOT, 'test/fixtures/sip');
  const expected = JSON.parse(fs.readFileSync(path.join(base, 'rfc4475/expected.json'), 'utf8')) as Record<string, string>;
  const out: CorpusEntry[] = [];
  for (const [name, verdict] of Object.entries(expected)) out.push({ name: `rfc4475/${name}`, bytes: fs.readFileSync(path.join(base, 'rfc4475', `${name}.dat`)), valid: verdict === 'valid' });
  for (const f of fs.readdirSync(path.join(base, 'phones')).filter((x) => x.endsWith('.dat')).sort()) {
    out.push({ name: `phones/${f}`, bytes: fs.readFileSync(path.join(base, 'phones', f)), valid: true });
  }
  return out;
}

export type Mutation =
  | { kind: 'flip'; at: number; byte: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'delete'; at: number; len: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'token'; at: number; token: string }
  | { kind: 'repeatLine'; line: number; times: number }
  | { kind: 'longValue'; line: number; len: number }
  | { kind: 'swapLines'; a: number; b: number };

/** Pieces that mean something to a SIP parser: separators, quotes, escapes, framing, numbers at their limits. */
const TOKENS = [
  '\r\n', '\r\n\r\n', '\n', '\r', ':', ';', ',', '=', '<', '>', '"', '\\', '%', '%00', '%zz', '\0', ' ', '\t', '[', ']', '@', '/',
  'SIP/2.0', 'SIP/7.0', 'sip:', 'sips:', 'tel:', '2147483648', '-1', '99999999999999999999', '0x10',
  'Content-Length: 99999\r\n', 'Content-Length: 0\r\n', 'l: 5\r\n', 'Via: SIP/2.0/UDP 1.2.3.4;branch=z9hG4bK1;rport\r\n',
  'CSeq: 1 OPTIONS\r\n', 'Call-ID: x\r\n', 'To: <sip:a@b>;tag=1\r\n', 'Expires: 4294967296\r\n', 'Max-Forwards: 0\r\n',
  'Contact: *\r\n', 'Authorization: Digest username="a", nc=zz\r\n', '\u00e9', '\ud83d\ude00', '\xff\xfe',
];

export const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 48 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 80 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('token' as const), at: fc.nat(), token: fc.constantFrom(...TOKENS) }),
  fc.record({ kind: fc.constant('repeatLine' as const), line: fc.nat(), times: fc.integer({ min: 1, max: 400 }) }),
  fc.record({ kind: fc.constant('longValue' as const), line: fc.nat(), len: fc.integer({ min: 200, max: 70_000 }) }),
  fc.record({ kind: fc.constant('swapLines' as const), a: fc.nat(), b: fc.nat() }),
);

export interface FuzzCase {
  base: number;
  mutations: Mutation[];
}

export function fuzzCaseArb(corpusSize: number): fc.Arbitrary<FuzzCase> {
  return fc.record({ base: fc.nat({ max: corpusSize - 1 }), mutations: fc.array(mutationArb, { minLength: 1, maxLength: 4 }) });
}

function lines(buf: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let pos = 0;
  for (;;) {
    const nl = buf.indexOf(10, pos);
    if (nl < 0) {
      out.push(buf.subarray(pos));
      return out;
    }
    out.push(buf.subarray(pos, nl + 1));
    pos = nl + 1;
  }
}

/** The largest UDP datagram (65 535 − 8 − 20): nothing larger reaches the parser in one piece. */
export const MAX_DATAGRAM = 65_507;

/** Applies the mutations; the result is cut to MAX_DATAGRAM (what the network can carry). */
export function mutate(input: Buffer, mutations: readonly Mutation[]): Buffer {
  return applyAll(input, mutations).subarray(0, MAX_DATAGRAM);
}

function applyAll(input: Buffer, mutations: readonly Mutation[]): Buffer {
  let buf = input;
  for (const m of mutations) {
    const at = buf.length === 0 ? 0 : ('at' in m ? m.at % (buf.length + 1) : 0);
    switch (m.kind) {
      case 'flip':
        if (buf.length === 0) break;
        buf = Buffer.from(buf);
        buf[at % buf.length] = m.byte;
        break;
      case 'insert':
        buf = Buffer.concat([buf.subarray(0, at), m.bytes, buf.subarray(at)]);
        break;
      case 'delete':
        buf = Buffer.concat([buf.subarray(0, at), buf.subarray(at + m.len)]);
        break;
      case 'truncate':
        buf = buf.subarray(0, at);
        break;
      case 'token':
        buf = Buffer.concat([buf.subarray(0, at), Buffer.from(m.token, 'utf8'), buf.subarray(at)]);
        break;
      case 'repeatLine': {
        const ls = lines(buf);
        const i = 1 + (m.line % Math.max(1, ls.length - 1));
        if (i >= ls.length) break;
        buf = Buffer.concat([...ls.slice(0, i), ...Array<Buffer>(m.times).fill(ls[i]!), ...ls.slice(i)]).subarray(0, 4 * MAX_DATAGRAM);
        break;
      }
      case 'longValue': {
        const ls = lines(buf);
        const i = m.line % ls.length;
        const line = ls[i]!;
        const colon = line.indexOf(58);
        const cut = colon > 0 ? colon + 1 : Math.max(0, line.length - 2);
        ls[i] = Buffer.concat([line.subarray(0, cut), Buffer.alloc(m.len, 'a'), line.subarray(cut)]);
        buf = Buffer.concat(ls);
        break;
      }
      case 'swapLines': {
        const ls = lines(buf);
        const a = m.a % ls.length;
        const b = m.b % ls.length;
        [ls[a], ls[b]] = [ls[b]!, ls[a]!];
        buf = Buffer.concat(ls);
        break;
      }
    }
  }
  return buf;
}

export interface Delivery {
  /** Status codes of the responses sent for this message. */
  statuses: number[];
  ms: number;
  /** Errors logged by the stack while handling it ("sip message handler failed" and the like). */
  errors: string[];
}

/**
 * A SipStack on an in-memory UDP wire with a manual clock (timers fire when the harness advances it, so a long run
 * keeps no transactions). deliver() hands one datagram in and collects what went out.
 */
export class FuzzHarness {
  private readonly clock = new ManualClock();
  private readonly sent: Buffer[] = [];
  private readonly errors: string[] = [];
  private readonly stack: SipStack;
  private readonly deliverRaw: (buf: Buffer, source: Source) => void;
  private count = 0;

  private constructor() {
    const wire = memoryTransport('udp', (buf) => this.sent.push(buf));
    const logger = new Logger('error', {}, { write: (line: string) => void this.errors.push(line) });
    this.stack = new SipStack({ bind: '127.0.0.1', port: 5060, domain: 'relais.test', clock: this.clock, logger, transports: [] });
    this.stack.transport.add(wire.transport);
    this.deliverRaw = wire.deliver;
  }

  static async create(): Promise<FuzzHarness> {
    const h = new FuzzHarness();
    await h.stack.start();
    return h;
  }

  async deliver(buf: Buffer): Promise<Delivery> {
    this.sent.length = 0;
    this.errors.length = 0;
    const t0 = performance.now();
    this.deliverRaw(buf, { transport: 'udp', address: '192.0.2.50', port: 5062 });
    const ms = performance.now() - t0;
    // Responses leave through promises: let them settle before reading what was sent.
    await new Promise<void>((r) => setImmediate(r));
    // Every 1000 messages, 40 s pass: transactions end (Timer J, K…), so memory stays flat over a long run.
    if (++this.count % 1000 === 0) this.clock.advance(40_000);
    const statuses = this.sent.map((b) => {
      const m = /^SIP\/2\.0 (\d{3})/.exec(b.toString('latin1', 0, 16));
      return m ? Number(m[1]) : 0;
    });
    return { statuses, ms, errors: [...this.errors] };
  }

  async stop(): Promise<void> {
    await this.stack.stop();
  }
}

/** Whether parseMessage accepts these bytes (what "an invalid request" means for the 2xx property). */
export function parses(buf: Buffer): boolean {
  try {
    parseMessage(buf);
    return true;
  } catch (err) {
    if (err instanceof SipParseError) return false;
    throw new Error(`parseMessage threw something other than SipParseError: ${err instanceof Error ? err.stack : String(err)}`);
  }
}

export interface FuzzReport {
  messages: number;
  seed: number;
  rejectedByParser: number;
  answered: number;
  crashes: number;
  okToInvalid: number;
  /** Messages over 10 ms on a first try, and those still over 10 ms at best of ten runs alone (real slowness, not GC). */
  over10ms: number;
  over10msAgain: number;
  maxMs: number;
  p99Ms: number;
  meanUs: number;
  seconds: number;
  examples: Array<{ problem: string; base: string; mutations: string }>;
}

/** Runs `messages` mutated messages (fast-check samples from a seed), returns counts; never throws for a finding. */
export async function runFuzz(opts: { messages: number; seed: number }): Promise<FuzzReport> {
  const corpus = loadCorpus();
  const harness = await FuzzHarness.create();
  const arb = fuzzCaseArb(corpus.length);
  const report: FuzzReport = { messages: 0, seed: opts.seed, rejectedByParser: 0, answered: 0, crashes: 0, okToInvalid: 0, over10ms: 0, over10msAgain: 0, maxMs: 0, p99Ms: 0, meanUs: 0, seconds: 0, examples: [] };
  // A histogram in 10 µs buckets up to 100 ms: the p99 of a million messages without keeping them.
  const hist = new Uint32Array(10_001);
  let totalMs = 0;
  const t0 = performance.now();
  const note = (problem: string, c: FuzzCase): void => {
    if (report.examples.length < 20) report.examples.push({ problem, base: corpus[c.base]!.name, mutations: JSON.stringify(c.mutations).slice(0, 400) });
  };
  const BATCH = 5000;
  for (let done = 0; done < opts.messages; done += BATCH) {
    const n = Math.min(BATCH, opts.messages - done);
    const cases = fc.sample(arb, { numRuns: n, seed: opts.seed + done });
    for (const c of cases) {
      const bytes = mutate(corpus[c.base]!.bytes, c.mutations);
      let valid: boolean;
      try {
        valid = parses(bytes);
      } catch (err) {
        report.crashes++;
        note(String(err).slice(0, 300), c);
        continue;
      }
      if (!valid) report.rejectedByParser++;
      const d = await harness.deliver(bytes);
      report.messages++;
      totalMs += d.ms;
      hist[Math.min(10_000, Math.floor(d.ms * 100))]!++;
      if (d.ms > report.maxMs) report.maxMs = d.ms;
      if (d.statuses.length > 0) report.answered++;
      if (d.errors.length > 0) {
        report.crashes++;
        note(`logged error: ${d.errors[0]!.slice(0, 300)}`, c);
      }
      if (!valid && d.statuses.some((s) => s >= 200 && s < 300)) {
        report.okToInvalid++;
        note(`2xx to a message the parser rejects: ${d.statuses.join(',')}`, c);
      }
      if (d.ms > 10) {
        report.over10ms++;
        // Again, alone, ten times: on a busy machine one try can lose the CPU for tens of ms (or meet a GC).
        let best = Infinity;
        for (let k = 0; k < 10; k++) best = Math.min(best, (await harness.deliver(bytes)).ms);
        if (best > 10) {
          report.over10msAgain++;
          note(`slow: ${best.toFixed(1)} ms`, c);
        }
      }
    }
  }
  let acc = 0;
  const p99 = report.messages * 0.99;
  for (let i = 0; i < hist.length; i++) {
    acc += hist[i]!;
    if (acc >= p99) {
      report.p99Ms = i / 100;
      break;
    }
  }
  report.meanUs = report.messages ? Math.round((totalMs / report.messages) * 1000) : 0;
  report.maxMs = Math.round(report.maxMs * 100) / 100;
  report.seconds = Math.round((performance.now() - t0) / 100) / 10;
  await harness.stop();
  return report;
}
