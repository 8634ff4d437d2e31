// rtpengine CPU per bridged call: Relais's rtpengine backend (hairpin, ± inject-DTMF) vs one plain rtpengine call per bridge.
// Usage: node dist/test/bench/rtpengine-backend.js [--calls 50] [--seconds 5] [--out FILE]; writes test/bench/results/.
import { execFileSync } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { NgClient, RtpengineEngine } from '../../services/media/rtpengine/index.js';
import { startRtpengine } from '../interop/rtpengine-daemon.js';
import { PROJECT_ROOT } from '../helpers/relais-process.js';

function opt(name: string, def: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : def;
}
const CALLS = Number(opt('--calls', '50'));
const SECONDS = Number(opt('--seconds', '5'));

/** utime + stime of a process, in seconds (proc(5): fields 14 and 15). */
function cpuSeconds(pid: number): number {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  // Clock ticks are 100 per second on Linux (USER_HZ).
  return (Number(f[11]) + Number(f[12])) / 100;
}

type Leg = { sock: dgram.Socket; to: number; seq: number; ssrc: number; got: number };

async function leg(ssrc: number): Promise<Leg> {
  const sock = dgram.createSocket('udp4');
  const l: Leg = { sock, to: 0, seq: 0, ssrc, got: 0 };
  sock.on('message', () => l.got++);
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  return l;
}

const sdp = (port: number): string =>
  `v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio ${port} RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n`;

async function run(mode: 'direct' | 'backend' | 'backend-inject-dtmf'): Promise<Record<string, number | string>> {
  const d = await startRtpengine({ ports: Math.max(200, CALLS * 10) });
  const pid = Number(execFileSync('pgrep', ['-f', `listen-ng=127.0.0.1:${d.ng.port}`]).toString().trim().split('\n')[0]);
  const legs: Leg[] = [];
  let engine: RtpengineEngine | undefined;
  let ng: NgClient | undefined;
  if (mode === 'direct') {
    ng = new NgClient('127.0.0.1', d.ng.port);
    for (let i = 0; i < CALLS; i++) {
      const a = await leg(legs.length + 1);
      const b = await leg(legs.length + 2);
      const o = await ng.send('offer', { 'call-id': `d${i}`, 'from-tag': 'a', sdp: sdp(a.sock.address().port), ICE: 'remove' });
      const an = await ng.send('answer', { 'call-id': `d${i}`, 'from-tag': 'a', 'to-tag': 'b', sdp: sdp(b.sock.address().port), ICE: 'remove' });
      a.to = Number(/m=audio (\d+)/.exec(String(an.sdp))![1]);
      b.to = Number(/m=audio (\d+)/.exec(String(o.sdp))![1]);
      legs.push(a, b);
    }
  } else {
    engine = new RtpengineEngine({ ng: d.ng, dtmfListen: false, rtpTimeoutMs: 0, injectDtmf: mode === 'backend-inject-dtmf' });
    await engine.start();
    for (let i = 0; i < CALLS; i++) {
      const a = await leg(legs.length + 1);
      const b = await leg(legs.length + 2);
      const ea = await engine.openEndpoint({ callId: `c${i}`, remoteSdp: sdp(a.sock.address().port) });
      const eb = await engine.openEndpoint({ callId: `c${i}` });
      await eb.setRemoteSdp(sdp(b.sock.address().port));
      await ea.bridge(eb);
      a.to = ea.local.port;
      b.to = eb.local.port;
      legs.push(a, b);
    }
  }
  const payload = Buffer.alloc(160, 0xff);
  const c0 = cpuSeconds(pid);
  const t0 = performance.now();
  let sent = 0;
  await new Promise<void>((resolve) => {
    const iv = setInterval(() => {
      for (const l of legs) {
        l.seq++;
        const h = Buffer.alloc(12);
        h[0] = 0x80;
        h.writeUInt16BE(l.seq & 0xffff, 2);
        h.writeUInt32BE((l.seq * 160) >>> 0, 4);
        h.writeUInt32BE(l.ssrc, 8);
        l.sock.send([h, payload], l.to, '127.0.0.1');
        sent++;
      }
      if (performance.now() - t0 >= SECONDS * 1000) {
        clearInterval(iv);
        resolve();
      }
    }, 20);
  });
  await new Promise((r) => setTimeout(r, 300)); // let the last packets arrive before counting
  const wall = (performance.now() - t0) / 1000;
  const cpu = cpuSeconds(pid) - c0;
  const received = legs.reduce((n, l) => n + l.got, 0);
  await engine?.stop();
  ng?.close();
  for (const l of legs) l.sock.close();
  await d.stop();
  return {
    mode,
    calls: CALLS,
    cpu_pct: +((100 * cpu) / wall).toFixed(2),
    cpu_pct_per_call: +((100 * cpu) / wall / CALLS).toFixed(4),
    sent,
    received,
    loss_pct: +((100 * (sent - received)) / sent).toFixed(3),
  };
}

const results = [];
for (const mode of ['direct', 'backend', 'backend-inject-dtmf'] as const) {
  const r = await run(mode);
  process.stderr.write(`${JSON.stringify(r)}\n`);
  results.push(r);
}
let commit = 'unknown';
try {
  commit = execFileSync('git', ['-C', PROJECT_ROOT, 'rev-parse', '--short', 'HEAD']).toString().trim();
} catch {
  /* not a checkout */
}
const date = new Date().toISOString();
const out = opt('--out', path.join(PROJECT_ROOT, 'test/bench/results', `rtpengine-backend-${date.slice(0, 10)}.json`));
fs.mkdirSync(path.dirname(out), { recursive: true });
fs.writeFileSync(
  out,
  JSON.stringify(
    {
      kind: 'rtpengine CPU per bridged G.711 call: Relais rtpengine backend (hairpin) vs one rtpengine call per bridge',
      date,
      commit,
      machine: { cpus: os.cpus().length, cpu_model: os.cpus()[0]?.model, kernel: os.release(), node: process.version, loadavg: os.loadavg() },
      seconds: SECONDS,
      results,
    },
    null,
    1,
  ) + '\n',
);
process.stderr.write(`wrote ${out}\n`);
