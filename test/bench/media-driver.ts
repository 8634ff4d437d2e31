// Benchmark driver: runs the built-in media engine in this process and opens N bridged calls for rtp-load.mjs (--pairs).
// Usage: node dist/test/bench/media-driver.js --calls N --rtp-ports MIN-MAX --pairs FILE [--nice N]
// Prints JSON lines on stdout: {"event":"ready",...} once the pairs file is written; stops on SIGTERM/SIGINT.
import fs from 'node:fs';
import { BuiltinMediaEngine, type MediaEndpoint } from '../../services/media/index.js';

function arg(name: string, def?: string): string {
  const i = process.argv.indexOf(name);
  const v = i >= 0 ? process.argv[i + 1] : def;
  if (v === undefined) {
    process.stderr.write(`media-driver: ${name} is required\n`);
    process.exit(2);
  }
  return v;
}

const calls = Number(arg('--calls'));
const [rtpMin, rtpMax] = arg('--rtp-ports', '40000-41999').split('-').map(Number) as [number, number];
const pairsFile = arg('--pairs');
if (!Number.isInteger(calls) || calls < 1) throw new Error('--calls must be a positive integer');
if (rtpMax - rtpMin + 1 < calls * 4) throw new Error(`--rtp-ports ${rtpMin}-${rtpMax} is too small for ${calls} calls (4 ports per call)`);

const sdp = (port: number): string =>
  ['v=0', 'o=gen 1 1 IN IP4 127.0.0.1', 's=rtp-load', 'c=IN IP4 127.0.0.1', 't=0 0', `m=audio ${port} RTP/AVP 0 101`, 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:101 telephone-event/8000', 'a=ptime:20', 'a=sendrecv', ''].join('\r\n');

// Same priority as rtpengine gets from the kit's command line (nice 0) unless --nice says otherwise.
const nice = Number(arg('--nice', '0'));
const fastPathThreads = process.env.RELAIS_BENCH_FAST_PATH_THREADS ? Number(process.env.RELAIS_BENCH_FAST_PATH_THREADS) : undefined;
// --realtime P: the forwarding threads' SCHED_FIFO priority (0: none; absent: the product's default).
const realtime = arg('--realtime', '') === '' ? undefined : Number(arg('--realtime', ''));
const engine = new BuiltinMediaEngine({ bind: '127.0.0.1', rtpPortMin: rtpMin, rtpPortMax: rtpMax, rtpTimeoutMs: 0, workerNice: nice, ...(fastPathThreads ? { fastPathThreads } : {}), ...(realtime !== undefined ? { fastPathRealtime: realtime } : {}) });
await engine.start();
const rssIdle = process.memoryUsage().rss;
const endpoints: MediaEndpoint[] = [];
const pairs: { a: string; b: string }[] = [];
// The generator's legs take whatever free ports it finds (fixed ports collide with other programs' ephemeral
// ports), so the SDPs name the discard port and each endpoint latches onto its leg's first packet during the
// warm-up: symmetric RTP, as with a phone behind NAT.
for (let i = 0; i < calls; i++) {
  const a = await engine.openEndpoint({ callId: `bench-${i}`, remoteSdp: sdp(9) });
  const b = await engine.openEndpoint({ callId: `bench-${i}`, remoteSdp: sdp(9) });
  await a.bridge(b);
  endpoints.push(a, b);
  pairs.push({ a: `127.0.0.1:${a.local.port}`, b: `127.0.0.1:${b.local.port}` });
}
fs.writeFileSync(pairsFile, JSON.stringify(pairs));
console.log(JSON.stringify({ event: 'ready', pid: process.pid, thread: engine.workerThread, nice: engine.workerNice, fast_path_scheduling: engine.fastPathScheduling, calls, rss_idle: rssIdle, rss_open: process.memoryUsage().rss }));

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  const st = await engine.stats();
  console.log(JSON.stringify({ event: 'stats', ...st, rss: process.memoryUsage().rss }));
  await engine.stop();
  process.exit(0);
}
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
setInterval(() => {}, 60_000);
