// Hardening benchmark (scripts/bench hardening): the flood proof of docs/security.md, measured.
//   flood: SIPp on 127.0.0.2 sends REGISTER+INVITE with made-up credentials (-r calls/s, 2 messages each) for
//          --duration s while two baresip phones on 127.0.0.1 hold a call with audio and a third registers; an
//          OPTIONS prober on 127.0.0.1 measures legitimate requests. Reports loss, p50/p99, time to ban, RTP loss.
//   fuzz:  the parser property run at full size (see test/unit/sip/parser-fuzz.test.ts), --messages N.
// Usage: node dist/test/bench/hardening-bench.js [flood|fuzz|all] [--duration S] [--rate CPS] [--messages N] [--out FILE]
import { execFileSync, spawn } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startRelais, tempDir } from '../helpers/relais-process.js';
import { BaresipPhone } from '../helpers/baresip.js';
import { analyseWav, makeToneWav } from '../helpers/audio.js';
import { freePort } from '../helpers/ports.js';
import { runFuzz } from '../helpers/sip-fuzz.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const argv = process.argv.slice(2);
const opt = (name: string, def: string): string => {
  const i = argv.indexOf(name);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1]! : def;
};
const MODE = argv.find((a) => a === 'flood' || a === 'fuzz' || a === 'all') ?? 'all';
const DURATION_S = Number(opt('--duration', '60'));
const RATE = Number(opt('--rate', '10000'));
const MESSAGES = Number(opt('--messages', '1000000'));
const date = new Date().toISOString();
const OUT = path.resolve(opt('--out', path.join(ROOT, 'test/bench/results', `hardening-${date.slice(0, 10)}.json`)));
const say = (msg: string): void => void process.stderr.write(`bench hardening: ${msg}\n`);

function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** OPTIONS from 127.0.0.1 every `everyMs`: what a legitimate phone's request sees during the flood. */
async function startProber(sipPort: number, everyMs: number): Promise<{ stop: () => Promise<{ sent: number; answered: number; rtts: number[] }> }> {
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  const port = sock.address().port;
  const pending = new Map<string, number>();
  const rtts: number[] = [];
  let sent = 0;
  sock.on('message', (buf) => {
    const m = /Call-ID: *(\S+)/i.exec(buf.toString('latin1'));
    const at = m ? pending.get(m[1]!) : undefined;
    if (at === undefined) return;
    pending.delete(m![1]!);
    rtts.push(performance.now() - at);
  });
  const timer = setInterval(() => {
    const id = `probe-${++sent}`;
    const msg = [
      `OPTIONS sip:501@127.0.0.1:${sipPort} SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.1:${port};branch=z9hG4bK${id};rport`,
      'Max-Forwards: 70',
      `From: <sip:probe@127.0.0.1:${port}>;tag=${id}`,
      `To: <sip:501@127.0.0.1:${sipPort}>`,
      `Call-ID: ${id}`,
      'CSeq: 1 OPTIONS',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n');
    pending.set(id, performance.now());
    sock.send(msg, sipPort, '127.0.0.1');
  }, everyMs);
  return {
    stop: async () => {
      clearInterval(timer);
      await new Promise((r) => setTimeout(r, 1000)); // answers still in flight
      sock.close();
      return { sent, answered: rtts.length, rtts };
    },
  };
}

/** Inodes of the sockets a process holds open. */
function socketInodes(pid: number): Set<string> {
  const out = new Set<string>();
  try {
    for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (m) out.add(m[1]!);
      } catch {
        /* closed meanwhile */
      }
    }
  } catch {
    /* process gone */
  }
  return out;
}

/** UDP sockets of the machine from /proc/net/udp: local port, inode and datagrams the kernel dropped on them. */
function udpSockets(): Array<{ port: number; inode: string; drops: number }> {
  const lines = fs.readFileSync('/proc/net/udp', 'utf8').trim().split('\n').slice(1);
  return lines.map((l) => {
    const f = l.trim().split(/\s+/);
    return { port: parseInt(f[1]!.split(':')[1]!, 16), inode: f[9]!, drops: Number(f[12] ?? 0) };
  });
}

/** Datagrams dropped by the kernel on the call's RTP/RTCP sockets: Relais's in its RTP range, and every UDP socket of the phones. */
function rtpDrops(relaisPid: number, rtp: { min: number; max: number }, phonePids: number[]): { relais: number; phones: number; sockets: number } {
  const relaisInodes = socketInodes(relaisPid);
  const phoneInodes = new Set(phonePids.flatMap((p) => [...socketInodes(p)]));
  let relais = 0;
  let phones = 0;
  let sockets = 0;
  for (const s of udpSockets()) {
    if (relaisInodes.has(s.inode) && s.port >= rtp.min && s.port <= rtp.max) {
      relais += s.drops;
      sockets++;
    } else if (phoneInodes.has(s.inode)) {
      phones += s.drops;
      sockets++;
    }
  }
  return { relais, phones, sockets };
}

/** Machine-wide UDP receive errors (/proc/net/snmp): a datagram dropped anywhere shows here. */
function udpErrors(): { inErrors: number; rcvbufErrors: number } {
  const lines = fs.readFileSync('/proc/net/snmp', 'utf8').split('\n').filter((l) => l.startsWith('Udp:'));
  const head = lines[0]!.split(/\s+/);
  const vals = lines[1]!.split(/\s+/);
  return { inErrors: Number(vals[head.indexOf('InErrors')]), rcvbufErrors: Number(vals[head.indexOf('RcvbufErrors')]) };
}

/** RTP counters of a phone's call from baresip's "callstat" (rx packets and lost), when it prints them. */
async function callstat(p: BaresipPhone): Promise<string> {
  const r = await p.command('callstat');
  return r.data;
}

async function flood(): Promise<Record<string, unknown>> {
  const dir = tempDir('bench-hardening-');
  const site = path.join(dir, 'site.yaml');
  const lines = ['version: 1', 'settings:', '  name: hardening bench', 'extensions:'];
  for (const n of ['501', '502', '503']) lines.push(`  - number: "${n}"`, `    display_name: Phone ${n}`, `    secret: secret-${n}`, '    digest_algorithm: MD5', '    voicemail: false');
  fs.writeFileSync(site, `${lines.join('\n')}\n`);
  const relais = await startRelais({ dataDir: path.join(dir, 'data'), args: ['--site', site, '--domain', '127.0.0.1', '--log-level', 'warn'] });
  const phones: BaresipPhone[] = [];
  const phone = async (name: string, number: string, hz: number): Promise<BaresipPhone> => {
    const p = await BaresipPhone.start({
      name,
      account: { user: number, password: `secret-${number}`, registrar: `127.0.0.1:${relais.sipPort}`, regint: 600 },
      audioFile: makeToneWav(path.join(dir, `${name}.wav`), hz, DURATION_S + 60),
    });
    phones.push(p);
    return p;
  };
  try {
    const alice = await phone('alice', '501', 1000);
    const bob = await phone('bob', '502', 440);
    await Promise.all([alice.registered(), bob.registered()]);
    await alice.dial('502');
    await bob.acceptIncoming();
    await Promise.all([alice.established(), bob.established()]);
    say('call 501 → 502 up; starting the flood');
    const drops0 = rtpDrops(relais.child.pid!, relais.rtp, [alice.pid, bob.pid]);
    const udp0 = udpErrors();
    const callStart = performance.now();

    const prober = await startProber(relais.sipPort, 20);
    const sippPort = await freePort();
    const sippDir = tempDir('bench-flood-sipp-');
    const floodStart = performance.now();
    const sipp = spawn(
      'sipp',
      [
        `127.0.0.1:${relais.sipPort}`,
        '-sf', path.join(ROOT, 'test/bench/sipp/flood-auth.xml'),
        '-i', '127.0.0.2', '-p', String(sippPort),
        '-r', String(RATE), '-rp', '1000',
        '-m', String(RATE * DURATION_S),
        '-timeout', `${DURATION_S + 30}s`,
        '-nostdin', '-trace_stat', '-stf', path.join(sippDir, 'stat.csv'), '-fd', '1',
        '-mi', '127.0.0.2', '-mp', String(await freePort()),
      ],
      { cwd: sippDir, stdio: 'ignore' },
    );
    const sippDone = new Promise<void>((r) => sipp.once('exit', () => r()));

    // Time to ban: the first listing with 127.0.0.2.
    const admin = { authorization: `Basic ${Buffer.from('admin:test-admin-pw').toString('base64')}` };
    let banAfterMs: number | null = null;
    let banReason: string | null = null;
    const banWatch = (async () => {
      while (banAfterMs === null && performance.now() - floodStart < DURATION_S * 1000) {
        try {
          const r = (await (await fetch(`${relais.url}/api/sip/bans`, { headers: admin })).json()) as { bans: Array<{ address: string; reason: string }> };
          const b = r.bans.find((x) => x.address === '127.0.0.2');
          if (b) {
            banAfterMs = performance.now() - floodStart;
            banReason = b.reason;
          }
        } catch {
          /* the API is busy: try again */
        }
        await new Promise((res) => setTimeout(res, 50));
      }
    })();

    // A third phone registers in the middle of the flood.
    await new Promise((r) => setTimeout(r, Math.min(10_000, (DURATION_S * 1000) / 3)));
    const t0 = performance.now();
    const carol = await phone('carol', '503', 700);
    let carolRegisterMs: number | null = null;
    try {
      await carol.registered(15_000);
      carolRegisterMs = performance.now() - t0;
    } catch {
      carolRegisterMs = null;
    }

    await sippDone;
    const floodS = (performance.now() - floodStart) / 1000;
    await banWatch;
    const probe = await prober.stop();
    const stats = fs.existsSync(path.join(sippDir, 'stat.csv')) ? fs.readFileSync(path.join(sippDir, 'stat.csv'), 'utf8').trim().split('\n') : [];
    const head = (stats[0] ?? '').split(';');
    const last = (stats[stats.length - 1] ?? '').split(';');
    const created = Number(last[head.indexOf('TotalCallCreated')] ?? 0);
    const drops1 = rtpDrops(relais.child.pid!, relais.rtp, [alice.pid, bob.pid]);
    const udp1 = udpErrors();
    const aStat = await callstat(alice);
    const bStat = await callstat(bob);
    const callS = (performance.now() - callStart) / 1000;
    const health = (await (await fetch(`${relais.url}/healthz`, { headers: admin })).json()) as { modules: { sip: { detail: { transport: Record<string, unknown> } } } };
    await alice.hangup();
    await Promise.all([alice.closed(), bob.closed()]);
    // Received audio both ways: the seconds of the expected tone heard, against the seconds the call lasted.
    const heard = (file: string | undefined, hz: number): { seconds: number; dominantHz: number; share: number } => {
      if (!file) return { seconds: 0, dominantHz: 0, share: 0 };
      const a = analyseWav(file, { skipMs: 500, windowMs: 1500 });
      const bytes = fs.statSync(file).size - 44;
      return { seconds: bytes / 16000, dominantHz: a.dominantHz, share: a.dominantShare };
    };
    const rtts = [...probe.rtts].sort((a, b) => a - b);
    // RTP loss during the flood: datagrams the kernel dropped on the call's sockets (Relais's RTP range, the two
    // phones), against the packets of the call in that time (50 per second each way, G.711 at 20 ms).
    const rtpPackets = Math.round(callS * 50 * 2);
    const dropped = drops1.relais - drops0.relais + (drops1.phones - drops0.phones);
    const rtpLoss = {
      method: 'kernel drop counters (/proc/net/udp) of every RTP/RTCP socket of the call, before and after the flood; loopback loses datagrams nowhere else',
      seconds: Math.round(callS * 10) / 10,
      packets: rtpPackets,
      droppedOnRelaisSockets: drops1.relais - drops0.relais,
      droppedOnPhoneSockets: drops1.phones - drops0.phones,
      socketsWatched: drops1.sockets,
      lossShare: rtpPackets ? dropped / rtpPackets : null,
      machineUdpRcvbufErrors: udp1.rcvbufErrors - udp0.rcvbufErrors,
      machineUdpInErrors: udp1.inErrors - udp0.inErrors,
      goalMet: rtpPackets > 0 && dropped / rtpPackets <= 0.001,
    };
    const result = {
      flood: {
        from: '127.0.0.2',
        scenario: 'REGISTER + INVITE with made-up digest credentials, no waiting (test/bench/sipp/flood-auth.xml)',
        requestedMessagesPerSecond: RATE * 2,
        sentMessages: created * 2,
        seconds: Math.round(floodS * 10) / 10,
        achievedMessagesPerSecond: Math.round((created * 2) / floodS),
        banAfterMs: banAfterMs === null ? null : Math.round(banAfterMs),
        banReason,
      },
      legitimate: {
        prober: 'OPTIONS from 127.0.0.1 every 20 ms',
        sent: probe.sent,
        answered: probe.answered,
        answeredShare: probe.sent ? Math.round((probe.answered / probe.sent) * 10000) / 10000 : null,
        p50Ms: percentile(rtts, 50),
        p99Ms: percentile(rtts, 99),
        maxMs: rtts.length ? rtts[rtts.length - 1] : null,
        thirdPhoneRegisterMs: carolRegisterMs === null ? null : Math.round(carolRegisterMs),
      },
      rtpLoss,
      call: {
        aliceHeard: heard(alice.receivedRecordings()[0], 440),
        bobHeard: heard(bob.receivedRecordings()[0], 1000),
        aliceCallstat: aStat,
        bobCallstat: bStat,
      },
      relaisTransport: health.modules.sip.detail.transport,
    };
    return result;
  } finally {
    await Promise.all(phones.map((p) => p.stop()));
    await relais.stop();
  }
}

function uptimeText(): string {
  try {
    return execFileSync('uptime', { encoding: 'utf8' }).trim();
  } catch {
    return `loadavg ${os.loadavg().join(' ')}`;
  }
}

function commit(): string {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

async function main(): Promise<void> {
  const out: Record<string, unknown> = {
    bench: 'hardening',
    date,
    commit: commit(),
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, loadavg: os.loadavg(), uptime: uptimeText(), node: process.version },
    reference: {
      note: 'figures from issue 17 on this machine (not measured in this run): the same flood against Kamailio and against Relais before flood control',
      kamailio: { answeredShare: 1, p99Ms: 9 },
      relaisBefore: { answeredShare: 0.25, p99Ms: 580 },
      goals: { rtpLossMax: 0.001, p99MsMax: 50, banWithinMs: 5000, messagesPerSecondMin: 20000 },
    },
  };
  if (MODE === 'flood' || MODE === 'all') {
    say(`flood: ${RATE * 2} messages/s for ${DURATION_S} s`);
    out['flood'] = await flood();
  }
  if (MODE === 'fuzz' || MODE === 'all') {
    say(`fuzz: ${MESSAGES} mutated messages`);
    out['fuzz'] = await runFuzz({ messages: MESSAGES, seed: 17 });
  }
  (out['machine'] as Record<string, unknown>)['uptimeEnd'] = uptimeText();
  fs.mkdirSync(path.dirname(OUT), { recursive: true });
  fs.writeFileSync(OUT, `${JSON.stringify(out, null, 2)}\n`);
  say(`written ${OUT}`);
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    say(err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.exit(1);
  },
);
