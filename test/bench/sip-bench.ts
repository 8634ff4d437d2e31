// SIP benchmark: REGISTER/s with digest (and calls/s through the B2BUA) for Kamailio 5.6 and Relais, in one run.
// Usage: node dist/test/bench/sip-bench.js [register|cps|all] [--duration S] [--out FILE] [--skip-kamailio] [--cpu-prof DIR]
//        [--node-args "--trace-gc ..."] [--relais-log FILE] [--heap-snapshot] [--kit-args "--start 3200 ..."]
// Drives the kit ../shared/peers/kamailio/run-bench.sh (relative to the project) against both servers.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Store } from '../../services/storage/index.js';
import { Directory, computeHa1 } from '../../services/directory/index.js';
import { freePort } from '../helpers/ports.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const KIT = path.resolve(ROOT, '../shared/peers/kamailio');
const RUN_BENCH = path.join(KIT, 'run-bench.sh');
const CLI = path.join(ROOT, 'dist/services/cli.js');
const DOMAIN = 'relais.test';
/** The cps callee: an extension whose only contact is the kit's SIPp UAS (a static binding). */
const CPS_CALLEE = '2000';
const UAS_PORT = 15090;

function die(msg: string): never {
  process.stderr.write(`bench sip: ${msg}\n`);
  process.exit(2);
}
const say = (msg: string): void => void process.stderr.write(`bench sip: ${msg}\n`);

const argv = process.argv.slice(2);
function opt(name: string, def: string): string {
  const i = argv.indexOf(name);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1]! : def;
}
const MODE = argv.find((a) => a === 'register' || a === 'cps' || a === 'all') ?? 'all';
const DURATION = opt('--duration', '5');
const SKIP_KAMAILIO = argv.includes('--skip-kamailio');
const CPU_PROF = argv.includes('--cpu-prof') ? path.resolve(opt('--cpu-prof', path.join(os.tmpdir(), 'relais-sip-prof'))) : undefined;
const date = new Date().toISOString();
const OUT = path.resolve(opt('--out', path.join(ROOT, 'test/bench/results', `sip-${date.slice(0, 10)}.json`)));
/** Extra V8/Node flags for the Relais process (e.g. "--trace-gc"), and a file that receives its output. */
const NODE_ARGS = opt('--node-args', '').trim().split(/\s+/).filter(Boolean);
/** Write a heap snapshot of Relais (in the work dir's data folder) after each test, before it stops: what stays. */
const HEAP_SNAPSHOT = argv.includes('--heap-snapshot');
if (HEAP_SNAPSHOT) NODE_ARGS.push('--heapsnapshot-signal=SIGUSR2');
const RELAIS_LOG = argv.includes('--relais-log') ? path.resolve(opt('--relais-log', 'relais-bench.log')) : undefined;
const EXTRA = (opt('--kit-args', '').trim() || '').split(/\s+/).filter(Boolean);

if (!fs.existsSync(RUN_BENCH)) {
  die(`the Kamailio benchmark kit is missing: expected ${RUN_BENCH} (shared/peers/kamailio beside the project checkout)`);
}
if (!fs.existsSync(CLI)) die(`${CLI} is missing: build first (scripts/build)`);

const WORK = fs.mkdtempSync(path.join(os.tmpdir(), 'relais-sip-bench-'));
say(`work dir ${WORK}`);
const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null && c.pid) process.kill(c.pid, 'SIGTERM');
});
process.on('SIGINT', () => process.exit(130));
process.on('SIGTERM', () => process.exit(143));

/**
 * Users 1000-1999 with password pw<user> (the kit's users.json), MD5 only (SIPp 3.6 reads only MD5). Inserted
 * with SQL: the kit's 6-character passwords are below the 8 the repository requires of real extensions.
 * Plus, for cps: an IP-authenticated trunk for 127.0.0.1 (the SIPp caller sends no credentials) and extension
 * 2000 whose static binding points at the kit's SIPp UAS.
 */
function provision(dataDir: string): void {
  const users = JSON.parse(fs.readFileSync(path.join(KIT, 'users.json'), 'utf8')) as Array<{ user: string; password: string }>;
  const store = Store.open(path.join(dataDir, 'relais.db'));
  try {
    const dir = new Directory(store.db, DOMAIN);
    const now = Date.now();
    const ins = store.db.prepare(`INSERT INTO extensions (number, display_name, sip_username, secret, ha1_md5, ha1_sha256,
        digest_algorithm, voicemail_enabled, created_at) VALUES (?, ?, ?, ?, ?, ?, 'MD5', 0, ?)`);
    store.transaction(() => {
      for (const u of users) {
        ins.run(u.user, `Bench ${u.user}`, u.user, u.password, computeHa1('MD5', u.user, DOMAIN, u.password), computeHa1('SHA-256', u.user, DOMAIN, u.password), now);
      }
      const callee = dir.extensions.create({ number: CPS_CALLEE, displayName: 'Bench UAS', secret: 'bench-uas-secret', digestAlgorithm: 'MD5', voicemailEnabled: false });
      dir.trunks.create({ name: 'bench-loopback', host: '127.0.0.1', port: UAS_PORT, register: false, allowedIps: ['127.0.0.1'] });
      store.db
        .prepare(`INSERT INTO registrations (extension_id, aor, contact, received, transport, call_id, cseq, expires_at, user_agent, q)
                  VALUES (?, ?, ?, ?, 'udp', 'bench-static', 1, ?, 'SIPp UAS (static)', 1.0)`)
        .run(callee.id, `sip:${CPS_CALLEE}@${DOMAIN}`, `sip:uas@127.0.0.1:${UAS_PORT}`, `127.0.0.1:${UAS_PORT}`, now + 86_400_000);
      dir.settings.set('sip.realm', DOMAIN);
    });
  } finally {
    store.close();
  }
}

interface RunningRelais {
  child: ChildProcess;
  pid: number;
  sipPort: number;
  httpPort: number;
  stop: () => Promise<void>;
}

async function startRelais(dataDir: string): Promise<RunningRelais> {
  // Relais refuses a SIP or HTTP port inside its RTP range (40000-49999, passed below: 5 000 calls of two endpoints with RTP and RTCP): draw again when it is.
  const outsideRtp = async (): Promise<number> => {
    for (;;) {
      const p = await freePort();
      if (p < 40000 || p > 49999) return p;
    }
  };
  const sipPort = await outsideRtp();
  const httpPort = await outsideRtp();
  const nodeArgs = [...NODE_ARGS, ...(CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', CPU_PROF] : [])];
  if (CPU_PROF) fs.mkdirSync(CPU_PROF, { recursive: true });
  const child = spawn(
    process.execPath,
    [...nodeArgs, CLI, 'serve', '--bind', '127.0.0.1', '--sip-port', String(sipPort), '--http-port', String(httpPort),
      '--rtp-ports', '40000-49999', '--data-dir', dataDir, '--domain', DOMAIN, '--log-level', 'warn'],
    { env: { ...process.env, RELAIS_ADMIN_PASSWORD: 'bench-admin-pw' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  children.add(child);
  let out = '';
  const logFile = RELAIS_LOG ? fs.createWriteStream(RELAIS_LOG, { flags: 'a' }) : undefined;
  child.stdout!.on('data', (d: Buffer) => {
    logFile?.write(d);
    out = (out + d.toString()).slice(-20000);
  });
  child.stderr!.on('data', (d: Buffer) => {
    logFile?.write(d);
    out = (out + d.toString()).slice(-20000);
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) die(`relais exited with ${child.exitCode} before answering:\n${out}`);
    try {
      if ((await fetch(`http://127.0.0.1:${httpPort}/healthz`)).ok) break;
    } catch {
      /* not yet */
    }
    if (Date.now() > deadline) die(`relais did not answer /healthz within 30 s:\n${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    child,
    pid: child.pid!,
    sipPort,
    httpPort,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
      children.delete(child);
    },
  };
}

/** Runs the kit; returns its JSON (one object for register or cps). */
function runKit(test: 'register' | 'cps', target?: { port: number; pid: number }, callee?: string): unknown {
  const outFile = path.join(WORK, `${target ? 'relais' : 'kamailio'}-${test}.json`);
  const args = [RUN_BENCH, test, '--duration', DURATION, '--out', outFile, '--domain', DOMAIN, ...EXTRA];
  if (target) args.push('--target', `127.0.0.1:${target.port}`, '--server-pid', String(target.pid));
  if (callee) args.push('--callee', callee);
  say(`${target ? 'Relais' : 'Kamailio'} ${test}: bash ${args.map((a) => path.basename(a)).join(' ')}`);
  const r = spawnSync('bash', args, { stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 * 1024 * 1024, timeout: 20 * 60_000 });
  if (r.status !== 0) die(`run-bench.sh ${test} ${target ? 'against Relais' : 'for Kamailio'} failed with status ${r.status}`);
  return JSON.parse(fs.readFileSync(outFile, 'utf8')) as unknown;
}

interface KitStep {
  offered: number;
  pass: boolean;
  sipp_exit?: number;
  achieved: number;
  failed: number;
  rtt_p99_ms: number | null;
  cpu_server_us_per_call: number | null;
}

function stepsOf(result: unknown): KitStep[] {
  const r = result as { steps?: KitStep[] } | undefined;
  return Array.isArray(r?.steps) ? r.steps : [];
}

/**
 * Side by side at the offered rates both servers ran: server CPU per registration (or call) and p99. Read with
 * max_rate: on a shared 2-core machine one latency spike fails a step (p99 > 50 ms) and moves max_rate a lot,
 * while the CPU per request is steadier.
 */
function compare(kamailio: unknown, relais: unknown): Array<Record<string, number | null>> {
  const k = new Map(stepsOf(kamailio).map((s) => [s.offered, s]));
  return stepsOf(relais)
    .filter((s) => k.has(s.offered))
    .sort((a, b) => a.offered - b.offered)
    .map((s) => {
      const ks = k.get(s.offered)!;
      return {
        offered: s.offered,
        kamailio_cpu_us: ks.cpu_server_us_per_call,
        relais_cpu_us: s.cpu_server_us_per_call,
        kamailio_p99_ms: ks.rtt_p99_ms,
        relais_p99_ms: s.rtt_p99_ms,
      };
    });
}

/** A step where SIPp did not run at all (port taken by another process on the machine): not a measurement. */
function sippDidNotRun(result: unknown): boolean {
  return stepsOf(result).some((s) => s.achieved === 0 && s.failed > 0 && s.sipp_exit !== undefined && s.sipp_exit !== 0 && s.sipp_exit !== 1);
}

function maxRate(result: unknown): number {
  const r = result as { max_rate?: number } | undefined;
  return typeof r?.max_rate === 'number' ? r.max_rate : 0;
}

function commit(): string {
  try {
    const sha = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT }).toString().trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'services'], { cwd: ROOT }).toString().trim() !== '';
    return dirty ? `${sha}+dirty` : sha;
  } catch {
    return 'unknown';
  }
}

function machine(): Record<string, unknown> {
  const cpus = os.cpus();
  return {
    cores: cpus.length,
    cpu: cpus[0]?.model ?? 'unknown',
    kernel: os.release(),
    memory_gb: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    loadavg_start: os.loadavg(),
  };
}

async function main(): Promise<void> {
  const started = machine();
  const result: Record<string, unknown> = { bench: 'sip', date, commit: commit(), machine: started, kit: KIT, duration_s: Number(DURATION) };
  const tests: Array<'register' | 'cps'> = MODE === 'all' ? ['register', 'cps'] : [MODE];
  for (const test of tests) {
    let kamailio = SKIP_KAMAILIO ? undefined : runKit(test);
    if (kamailio && sippDidNotRun(kamailio)) {
      say(`Kamailio ${test}: SIPp could not run in a step (port in use?); running the test once more`);
      kamailio = runKit(test);
    }
    const dataDir = path.join(WORK, `data-${test}`);
    fs.mkdirSync(dataDir, { recursive: true });
    provision(dataDir);
    const relais = await startRelais(dataDir);
    let relaisResult: unknown;
    let health: unknown;
    try {
      relaisResult = runKit(test, { port: relais.sipPort, pid: relais.pid }, test === 'cps' ? CPS_CALLEE : undefined);
      if (sippDidNotRun(relaisResult)) {
        say(`Relais ${test}: SIPp could not run in a step (port in use?); running the test once more`);
        relaisResult = runKit(test, { port: relais.sipPort, pid: relais.pid }, test === 'cps' ? CPS_CALLEE : undefined);
      }
      // Counters after the run (messages sent/received, bindings, challenges): a sanity check on the figures.
      health = await (await fetch(`http://127.0.0.1:${relais.httpPort}/healthz`, { headers: { authorization: `Basic ${Buffer.from('admin:bench-admin-pw').toString('base64')}` } })).json();
      if (HEAP_SNAPSHOT) {
        process.kill(relais.pid, 'SIGUSR2');
        await new Promise((r) => setTimeout(r, 5000));
        for (const f of fs.readdirSync(ROOT)) {
          if (f.endsWith('.heapsnapshot')) fs.renameSync(path.join(ROOT, f), path.join(os.tmpdir(), `relais-${test}-${f}`));
        }
        say(`heap snapshot: ${os.tmpdir()}/relais-${test}-*.heapsnapshot`);
      }
    } finally {
      await relais.stop();
    }
    const ratio = kamailio ? Math.round((maxRate(relaisResult) / Math.max(1, maxRate(kamailio))) * 1000) / 1000 : null;
    result[test] = {
      kamailio: kamailio ?? null,
      relais: relaisResult,
      relais_health_after: health,
      ratio_relais_to_kamailio: ratio,
      side_by_side: kamailio ? compare(kamailio, relaisResult) : [],
      ...(test === 'register' ? { goal: 'Relais >= 0.5 x Kamailio REGISTER/s', goal_met: ratio === null ? null : ratio >= 0.5 } : { goal: '>= 300 calls/s, 0 failed' }),
    };
    say(`${test}: Relais ${maxRate(relaisResult)}/s, Kamailio ${kamailio ? maxRate(kamailio) : '-'}/s, ratio ${ratio}`);
  }
  (result['machine'] as Record<string, unknown>)['loadavg_end'] = os.loadavg();
  if (CPU_PROF) result['cpu_profiles'] = CPU_PROF;
  fs.mkdirSync(path.dirname(OUT), { recursive: true });
  fs.writeFileSync(OUT, JSON.stringify(result, null, 2) + '\n');
  say(`wrote ${OUT}`);
  process.stdout.write(JSON.stringify(result, null, 2) + '\n');
  fs.rmSync(WORK, { recursive: true, force: true });
}

main().catch((err: unknown) => die(err instanceof Error ? (err.stack ?? err.message) : String(err)));
