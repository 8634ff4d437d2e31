// Relay CPU per packet from bursts: a measure of the per-packet work that holds on a busy, shared machine.
// Usage: node dist/test/bench/media-burst.js [--calls 100] [--rounds 30] [--per-leg 10] [--floor]
//
// The kit's rtp-load paces packets like phones (one per leg every 20 ms), so its CPU per call also depends on how
// often the relay sleeps and is woken, which on a loaded machine swings by ±15 % between runs. Here each round sends
// `--per-leg` packets on every leg of `--calls` bridged calls as fast as it can, waits until all relayed packets
// have come back, and divides the relay process's CPU (schedstat, all threads) by the packets relayed: the relay
// runs flat out, so what is measured is its work per packet. The lowest rounds (min, first quartile) are the ones
// the neighbours disturbed least. --floor measures the Node floor of ../shared/peers/node-floor (relay.mjs) instead
// of the built-in worker (test/bench/media-driver.ts).
import { spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const DRIVER = path.join(ROOT, 'dist/test/bench/media-driver.js');
const FLOOR = path.resolve(ROOT, '../shared/peers/node-floor/relay.mjs');

function opt(name: string, def: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : def;
}
const CALLS = Number(opt('--calls', '100'));
const ROUNDS = Number(opt('--rounds', '30'));
const PER_LEG = Number(opt('--per-leg', '10'));
const WITH_FLOOR = process.argv.includes('--floor');
for (const [k, v] of [['--calls', CALLS], ['--rounds', ROUNDS], ['--per-leg', PER_LEG]] as const) {
  if (!Number.isInteger(v) || v < 1) {
    process.stderr.write(`media-burst: ${k} must be a positive integer\n`);
    process.exit(2);
  }
}
if (WITH_FLOOR && !fs.existsSync(FLOOR)) {
  process.stderr.write(`media-burst: --floor: ${FLOOR} is missing\n`);
  process.exit(2);
}

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'relais-media-burst-'));
const pairsFile = path.join(work, 'pairs.json');
const child: ChildProcess = WITH_FLOOR
  ? spawn(process.execPath, [FLOOR, String(CALLS), '44000', pairsFile], { stdio: ['ignore', 'pipe', 'inherit'] })
  : spawn(process.execPath, [DRIVER, '--calls', String(CALLS), '--rtp-ports', '42000-43999', '--pairs', pairsFile], { stdio: ['ignore', 'pipe', 'inherit'] });
process.on('exit', () => child.exitCode === null && child.kill('SIGTERM'));
let out = '';
child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
for (let waited = 0; !/ready/.test(out); waited += 50) {
  if (child.exitCode !== null || waited > 30_000) {
    process.stderr.write('media-burst: the relay did not start\n');
    process.exit(2);
  }
  await sleep(50); // bounded poll on the relay's ready line
}
const pid = child.pid!;
const pairs = JSON.parse(fs.readFileSync(pairsFile, 'utf8')) as { a: string; b: string }[];

interface Leg {
  socket: dgram.Socket;
  address: string;
  port: number;
  packet: Buffer;
  seq: number;
  ts: number;
}
const syncLookup = (address: string, _family: unknown, cb: (err: Error | null, address: string, family: number) => void): void => cb(null, address, 4);
let received = 0;
const legs: Leg[] = [];
for (const p of pairs) {
  for (const to of [p.a, p.b]) {
    const socket = dgram.createSocket({ type: 'udp4', lookup: syncLookup as never, recvBufferSize: 1 << 20 });
    await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
    socket.on('message', () => void received++);
    const [address, port] = to.split(':') as [string, string];
    const packet = Buffer.alloc(172, 0xff);
    packet[0] = 0x80;
    packet[1] = 0;
    packet.writeUInt32BE((Math.random() * 2 ** 32) >>> 0, 8);
    legs.push({ socket, address, port: Number(port), packet, seq: 0, ts: 0 });
  }
}
function sendRound(): void {
  for (const l of legs) {
    l.seq = (l.seq + 1) & 0xffff;
    l.ts = (l.ts + 160) >>> 0;
    l.packet.writeUInt16BE(l.seq, 2);
    l.packet.writeUInt32BE(l.ts, 4);
    l.socket.send(l.packet, l.port, l.address);
  }
}
function relayCpuNs(): number {
  let ns = 0;
  for (const t of fs.readdirSync(`/proc/${pid}/task`)) ns += Number(fs.readFileSync(`/proc/${pid}/task/${t}/schedstat`, 'utf8').split(' ')[0]);
  return ns;
}

sendRound();
sendRound();
await sleep(500); // the relay latches every leg
const perPacket: number[] = [];
let lost = 0;
for (let r = 0; r < ROUNDS; r++) {
  received = 0;
  const expected = legs.length * PER_LEG;
  const c0 = relayCpuNs();
  // One packet per leg per event-loop turn, so no socket buffer overflows.
  for (let k = 0; k < PER_LEG; k++) {
    sendRound();
    await new Promise((res) => setImmediate(res));
  }
  for (const t0 = Date.now(); received < expected && Date.now() - t0 < 3000; ) await sleep(5); // bounded wait
  await sleep(30);
  perPacket.push((relayCpuNs() - c0) / 1000 / Math.max(1, received));
  lost += expected - received;
  await sleep(50);
}
perPacket.sort((a, b) => a - b);
const at = (q: number): number => Math.round(perPacket[Math.min(perPacket.length - 1, Math.floor(q * perPacket.length))]! * 100) / 100;
console.log(
  JSON.stringify({
    relay: WITH_FLOOR ? 'node-floor' : 'relais',
    calls: CALLS,
    rounds: ROUNDS,
    packets_per_round: legs.length * PER_LEG,
    relay_cpu_us_per_packet: { min: at(0), q1: at(0.25), median: at(0.5) },
    lost,
    loadavg: os.loadavg(),
  }),
);
for (const l of legs) l.socket.close();
child.kill('SIGTERM');
process.exit(0);
