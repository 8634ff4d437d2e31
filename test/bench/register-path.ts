// REGISTER path bench, in one process and without sockets: SIPp's register-auth messages (REGISTER, 401, REGISTER
// with MD5 digest, 200) fed through the real TransportLayer → transactions → SipStack → Registrar → SQLite, with a
// transport that keeps what it would send. Measures the JavaScript cost of one registration without the kernel's
// UDP work or SIPp sharing the cores, so that changes to the hot path can be compared run to run.
// Usage: node dist/test/bench/register-path.js [--rate 6400] [--seconds 10] [--users 1000] [--cpu-prof DIR] [--alloc-prof DIR] [--heap-snapshot]
// (--rate paces the registrations on the real clock so Timer J holds as many finished transactions as in the
// SIPp run; 0 runs 10 000 registrations per --seconds flat out.)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Session } from 'node:inspector/promises';
import { Logger } from '../../services/shared/index.js';
import { Store } from '../../services/storage/index.js';
import { Directory, computeHa1 } from '../../services/directory/index.js';
import { DigestClient, Registrar, SipStack, type Source } from '../../services/sip/index.js';
import { memoryTransport } from '../helpers/memory-transport.js';

const argv = process.argv.slice(2);
const opt = (name: string, def: string): string => {
  const i = argv.indexOf(name);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1]! : def;
};
const RATE = Number(opt('--rate', '6400'));
const SECONDS = Number(opt('--seconds', '10'));
const USERS = Number(opt('--users', '1000'));
const PROF = argv.includes('--cpu-prof') ? path.resolve(opt('--cpu-prof', os.tmpdir())) : undefined;
const DOMAIN = 'relais.test';

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'relais-regpath-'));
const store = Store.open(path.join(dataDir, 'relais.db'));
const dir = new Directory(store.db, DOMAIN);
const ins = store.db.prepare(`INSERT INTO extensions (number, display_name, sip_username, secret, ha1_md5, ha1_sha256,
    digest_algorithm, voicemail_enabled, created_at) VALUES (?, ?, ?, ?, ?, ?, 'MD5', 0, ?)`);
store.transaction(() => {
  for (let u = 1000; u < 1000 + USERS; u++) {
    ins.run(String(u), `Bench ${u}`, String(u), `pw${u}`, computeHa1('MD5', String(u), DOMAIN, `pw${u}`), computeHa1('SHA-256', String(u), DOMAIN, `pw${u}`), Date.now());
  }
  dir.settings.set('sip.realm', DOMAIN);
});

let lastSent: Buffer | undefined;
let sent = 0;
const wire = memoryTransport('udp', (buf) => {
  sent++;
  lastSent = buf;
});

const log = new Logger('warn');
const sip = new SipStack({ bind: '127.0.0.1', port: 5060, domain: DOMAIN, logger: log, transports: [] });
sip.transport.add(wire.transport);
const registrar = new Registrar({ db: store.db, extensions: dir.extensions, clock: sip.clock, logger: log, domain: DOMAIN });
registrar.attach(sip);
await registrar.start();
await sip.start();

const SRC: Source = { transport: 'udp', address: '127.0.0.1', port: 15062 };
const clients = new Map<number, DigestClient>();
let n = 0;

function registerMsg(user: number, callNo: number, cseq: number, branch: string, auth?: string): Buffer {
  return Buffer.from(
    `REGISTER sip:${DOMAIN} SIP/2.0\r\n` +
      `Via: SIP/2.0/UDP 127.0.0.1:15062;branch=${branch}\r\n` +
      'Max-Forwards: 70\r\n' +
      `From: <sip:${user}@${DOMAIN}>;tag=4242SIPpTag00${callNo}\r\n` +
      `To: <sip:${user}@${DOMAIN}>\r\n` +
      `Call-ID: ${callNo}-4242@127.0.0.1\r\n` +
      `CSeq: ${cseq} REGISTER\r\n` +
      `Contact: <sip:${user}@127.0.0.1:15062;transport=UDP>\r\n` +
      (auth ? `Authorization: ${auth}\r\n` : '') +
      'Expires: 3600\r\n' +
      'User-Agent: SIPp register-auth\r\n' +
      'Content-Length: 0\r\n\r\n',
  );
}

/** One registration, as SIPp does it; the client-side work (building, digest) is timed apart and subtracted. */
let clientNs = 0n;
/** Wall time inside the stack's receive path (parse → transaction → registrar → response), without timers and GC between calls. */
let serverNs = 0n;
function registration(): void {
  const callNo = ++n;
  const user = 1000 + (callNo % USERS);
  let c0 = process.hrtime.bigint();
  const first = registerMsg(user, callNo, 1, `z9hG4bK-${callNo}-1`);
  clientNs += process.hrtime.bigint() - c0;
  let s0 = process.hrtime.bigint();
  wire.deliver(first, SRC);
  serverNs += process.hrtime.bigint() - s0;
  const challenge = lastSent!.toString('latin1');
  c0 = process.hrtime.bigint();
  if (!challenge.startsWith('SIP/2.0 401')) throw new Error(`expected 401, got ${challenge.slice(0, 40)}`);
  const www = /\r\nWWW-Authenticate: (.*)\r\n/i.exec(challenge)![1]!;
  let client = clients.get(user);
  if (!client) clients.set(user, (client = new DigestClient({ username: String(user), password: `pw${user}` })));
  const auth = client.authorize({ challenges: [www], method: 'REGISTER', uri: `sip:${DOMAIN}` })!;
  const second = registerMsg(user, callNo, 2, `z9hG4bK-${callNo}-2`, auth);
  clientNs += process.hrtime.bigint() - c0;
  s0 = process.hrtime.bigint();
  wire.deliver(second, SRC);
  serverNs += process.hrtime.bigint() - s0;
  const ok = lastSent!.toString('latin1', 0, 12);
  if (ok !== 'SIP/2.0 200 ') throw new Error(`expected 200, got ${lastSent!.toString('latin1').slice(0, 200)}`);
}

// Warm-up (JIT), then the measured run paced in 1 ms slices.
for (let i = 0; i < 20_000; i++) registration();

/**
 * CPU of the client side alone (building both requests, answering a real challenge), per registration, measured in
 * a loop of its own with the process's CPU clock: subtracted from the run's CPU. (Wall-clock timing of each client
 * step counts the time the process waits for a core on a shared machine, and a getrusage() per step costs more than
 * the step.)
 */
function clientCpuPerRegistration(): number {
  const user = 1000;
  const client = new DigestClient({ username: String(user), password: `pw${user}` });
  const first = registerMsg(user, 1, 1, 'z9hG4bK-cal-1');
  wire.deliver(first, SRC);
  const www = /\r\nWWW-Authenticate: (.*)\r\n/i.exec(lastSent!.toString('latin1'))![1]!;
  const N = 20_000;
  let sink = 0;
  const c0 = process.cpuUsage();
  for (let i = 0; i < N; i++) {
    sink += registerMsg(user, i, 1, `z9hG4bK-cal-${i}-1`).length;
    const auth = client.authorize({ challenges: [www], method: 'REGISTER', uri: `sip:${DOMAIN}` })!;
    sink += registerMsg(user, i, 2, `z9hG4bK-cal-${i}-2`, auth).length;
  }
  const c = process.cpuUsage(c0);
  if (sink === 0) throw new Error('unreachable');
  return (c.user + c.system) / N;
}
const clientCpuUs = clientCpuPerRegistration();
await new Promise((r) => setTimeout(r, 200));
let session: Session | undefined;
const ALLOC = argv.includes('--alloc-prof') ? path.resolve(opt('--alloc-prof', os.tmpdir())) : undefined;
if (PROF || ALLOC) {
  session = new Session();
  session.connect();
}
if (PROF) {
  await session!.post('Profiler.enable');
  await session!.post('Profiler.start');
}
if (ALLOC) {
  // Every allocation sampled, including what the next scavenge frees: where the garbage comes from.
  await session!.post('HeapProfiler.enable');
  await session!.post('HeapProfiler.startSampling', { samplingInterval: 1024, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true } as never);
}
clientNs = 0n;
serverNs = 0n;
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const total = RATE > 0 ? RATE * SECONDS : SECONDS * 10_000;
let done = 0;
while (done < total) {
  if (RATE > 0) {
    const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * RATE));
    while (done < due) {
      registration();
      done++;
    }
    // Sleep (not setImmediate, which would spin and count as CPU) until the next slice is due.
    await new Promise((r) => setTimeout(r, 1));
  } else {
    registration();
    done++;
    if (done % 1000 === 0) await new Promise((r) => setImmediate(r));
  }
}
const wallMs = performance.now() - t0;
if (argv.includes('--heap-snapshot')) process.stderr.write(`heap snapshot: ${(await import('node:v8')).writeHeapSnapshot()}\n`);
const cpu = process.cpuUsage(cpu0);
if (ALLOC) {
  const { profile } = await session!.post('HeapProfiler.stopSampling');
  fs.mkdirSync(ALLOC, { recursive: true });
  const file = path.join(ALLOC, `register-path-${Date.now()}.heapprofile`);
  fs.writeFileSync(file, JSON.stringify(profile));
  process.stderr.write(`allocation profile: ${file}\n`);
}
if (PROF) {
  const { profile } = await session!.post('Profiler.stop');
  fs.mkdirSync(PROF!, { recursive: true });
  const file = path.join(PROF!, `register-path-${Date.now()}.cpuprofile`);
  fs.writeFileSync(file, JSON.stringify(profile));
  process.stderr.write(`profile: ${file}\n`);
}
const cpuUs = cpu.user + cpu.system - clientCpuUs * done;
const heap = process.memoryUsage();
const result = {
  bench: 'register-path',
  registrations: done,
  rate: RATE,
  wall_s: Math.round(wallMs) / 1000,
  cpu_us_per_registration: Math.round((cpuUs / done) * 10) / 10,
  client_us_per_registration: Math.round(clientCpuUs * 10) / 10,
  receive_path_us_per_registration: Math.round((Number(serverNs / 1000n) / done) * 10) / 10,
  heap_used_mb: Math.round(heap.heapUsed / 2 ** 20),
  rss_mb: Math.round(heap.rss / 2 ** 20),
  sent,
  transactions: sip.transactions.stats(),
};
process.stdout.write(JSON.stringify(result) + '\n');
await sip.stop();
await registrar.stop();
store.close();
fs.rmSync(dataDir, { recursive: true, force: true });
process.exit(0);
