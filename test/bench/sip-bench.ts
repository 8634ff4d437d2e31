// SIP benchmark: REGISTER/s with digest (and calls/s through the B2BUA) for Kamailio 5.6 and Relais, in one run.
// Usage: node dist/test/bench/sip-bench.js [register|cps|all] [--duration S] [--out FILE] [--skip-kamailio] [--cpu-prof DIR]
//        [--node-args "--trace-gc ..."] [--relais-log FILE] [--heap-snapshot] [--kit-args "--start 3200 ..."] [--runs N] [--warmup RATE]
//        [--warmup-seconds S] [--soak N]
// --runs N: N rounds, each Kamailio then Relais, summarised by their medians (a shared machine swings between runs).
// --warmup RATE: before the measured steps, one 2 s step at RATE against the freshly started Relais, so that it is
// measured with its code compiled by the JIT as on a box that has been running, not in its first seconds (Kamailio,
// compiled C started by the kit for each run, has nothing to warm); the warm-up step is kept apart (`relais_warmup`).
// --soak N: after the measured run, N more passes of the same kit test (same --kit-args, --duration up to the kit's
// 60 s) against the same Relais, with its RSS, open descriptors and SQLite size sampled after each pass once its calls
// have ended (`soak` in the result): memory and descriptors must level off, not grow with the calls served.
// --warmup-seconds S: the warm-up step's length (default 2). V8 goes on optimising the call path for 10-20 s of calls
// (docs/performance.md), so a short warm-up measures part of that too.
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
const RUNS = Math.max(1, Number(opt('--runs', '1')) || 1);
const WARMUP = Math.max(0, Number(opt('--warmup', '0')) || 0);
const WARMUP_SECONDS = Math.max(1, Number(opt('--warmup-seconds', '2')) || 2);
const SOAK = Math.max(0, Number(opt('--soak', '0')) || 0);

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
  // Relais writes to a file, not a pipe: the kit runs under spawnSync, which blocks this process's event loop, and
  // Node writes to a pipe synchronously on Linux, so a full pipe nobody drains would stall Relais mid-run.
  const logPath = RELAIS_LOG ?? path.join(WORK, `relais-${path.basename(dataDir)}.log`);
  const logFd = fs.openSync(logPath, 'a');
  const child = spawn(
    process.execPath,
    [...nodeArgs, CLI, 'serve', '--bind', '127.0.0.1', '--sip-port', String(sipPort), '--http-port', String(httpPort),
      '--rtp-ports', '40000-49999', '--data-dir', dataDir, '--domain', DOMAIN, '--log-level', 'warn'],
    { env: { ...process.env, RELAIS_ADMIN_PASSWORD: 'bench-admin-pw' }, stdio: ['ignore', logFd, logFd] },
  );
  fs.closeSync(logFd);
  children.add(child);
  const tail = (): string => {
    try {
      return fs.readFileSync(logPath, 'utf8').slice(-20000);
    } catch {
      return '';
    }
  };
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) die(`relais exited with ${child.exitCode} before answering:\n${tail()}`);
    try {
      if ((await fetch(`http://127.0.0.1:${httpPort}/healthz`)).ok) break;
    } catch {
      /* not yet */
    }
    if (Date.now() > deadline) die(`relais did not answer /healthz within 30 s:\n${tail()}`);
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
function runKit(test: 'register' | 'cps', target?: { port: number; pid: number }, callee?: string, warmup = false): unknown {
  const outFile = path.join(WORK, `${target ? 'relais' : 'kamailio'}-${test}${warmup ? '-warmup' : ''}.json`);
  const args = [RUN_BENCH, test, '--duration', DURATION, '--out', outFile, '--domain', DOMAIN, ...EXTRA];
  // The kit reads its options in order: these come last and win over --kit-args.
  if (warmup) args.push('--start', String(WARMUP), '--max', String(WARMUP), '--refine', '0', '--duration', String(WARMUP_SECONDS));
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
  // A copy of dist/ run outside the checkout (so the checkout can be rebuilt meanwhile) says which commit it is.
  if (process.env['BENCH_COMMIT']) return process.env['BENCH_COMMIT'];
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
    uptime_start: uptime(),
  };
}

/** `uptime` as printed (load averages): the machine is shared, so every result says how busy it was. */
function uptime(): string {
  try {
    return execFileSync('uptime', { encoding: 'utf8' }).trim();
  } catch {
    return `loadavg ${os.loadavg().join(' ')}`;
  }
}

function median(xs: Array<number | null | undefined>): number | null {
  const v = xs.filter((x): x is number => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const m = Math.floor(v.length / 2);
  return v.length % 2 ? v[m]! : (v[m - 1]! + v[m]!) / 2;
}

function rttP99At(result: unknown, offered: number): number | null {
  return stepsOf(result).find((s) => s.offered === offered)?.rtt_p99_ms ?? null;
}

/** CPU seconds of each thread of a process (Linux /proc, clock ticks of 10 ms), by thread id, with its name. */
function threadCpu(pid: number): Map<number, { name: string; s: number }> {
  const out = new Map<number, { name: string; s: number }>();
  try {
    for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
      try {
        const stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
        const close = stat.lastIndexOf(')');
        const name = stat.slice(stat.indexOf('(') + 1, close);
        const f = stat.slice(close + 2).split(' ');
        out.set(Number(tid), { name, s: (Number(f[11]) + Number(f[12])) / 100 });
      } catch {
        /* thread ended */
      }
    }
  } catch {
    /* not Linux */
  }
  return out;
}

/**
 * Where a run's server CPU went, per thread (the kit's figure is the whole process): the main thread (SIP, calls,
 * SQLite) per call is what call set-up costs; the media worker's depends on how many calls are up at once.
 */
function threadsDelta(pid: number, before: Map<number, { name: string; s: number }>, calls: number): Record<string, unknown> {
  const after = threadCpu(pid);
  const rows = [...after].map(([tid, t]) => ({ tid, name: t.name, cpu_s: Math.round((t.s - (before.get(tid)?.s ?? 0)) * 100) / 100 }))
    .filter((r) => r.cpu_s > 0)
    .sort((a, b) => b.cpu_s - a.cpu_s);
  const main = rows.find((r) => r.tid === pid)?.cpu_s ?? 0;
  return { calls, main_thread_cpu_s: main, main_thread_us_per_call: calls > 0 ? Math.round((main / calls) * 1e6) : null, threads: rows.slice(0, 6) };
}

/** What the Relais process holds right now: resident memory, open descriptors, and the database files' size. */
function holdings(pid: number, dataDir: string): { rss_kb: number | null; fds: number | null; db_kb: number } {
  let rss: number | null = null;
  let fds: number | null = null;
  try {
    rss = Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) || null;
    fds = fs.readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    /* gone */
  }
  let db = 0;
  for (const f of fs.readdirSync(dataDir)) if (f.startsWith('relais.db')) db += fs.statSync(path.join(dataDir, f)).size;
  return { rss_kb: rss, fds, db_kb: Math.round(db / 1024) };
}

/** --soak: more passes against the same Relais, sampling what it holds after each once its calls have ended. */
async function soakPasses(test: 'register' | 'cps', relais: RunningRelais, dataDir: string): Promise<Array<Record<string, unknown>>> {
  const passes: Array<Record<string, unknown>> = [];
  const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 5000)); // the kit holds calls 1 s: let the last ones end
  await settle();
  passes.push({ pass: 0, ...holdings(relais.pid, dataDir) });
  for (let k = 1; k <= SOAK; k++) {
    const r = runKit(test, { port: relais.sipPort, pid: relais.pid }, test === 'cps' ? CPS_CALLEE : undefined);
    const steps = stepsOf(r);
    await settle();
    const h = holdings(relais.pid, dataDir);
    say(`soak pass ${k}/${SOAK}: ${steps.map((st) => `${st.achieved}/s failed ${st.failed} p99 ${st.rtt_p99_ms} ms`).join(', ')}; RSS ${h.rss_kb} KB, ${h.fds} fds, db ${h.db_kb} KB`);
    passes.push({ pass: k, steps: steps.map((st) => ({ offered: st.offered, achieved: st.achieved, failed: st.failed, rtt_p99_ms: st.rtt_p99_ms, calls: (st as { calls?: number }).calls ?? null })), ...h });
  }
  return passes;
}

/** One round of a test: Kamailio, then a fresh Relais, with the same kit settings. */
async function runRound(test: 'register' | 'cps'): Promise<Record<string, unknown>> {
  let kamailio = SKIP_KAMAILIO ? undefined : runKit(test);
  if (kamailio && sippDidNotRun(kamailio)) {
    say(`Kamailio ${test}: SIPp could not run in a step (port in use?); running the test once more`);
    kamailio = runKit(test);
  }
  const dataDir = fs.mkdtempSync(path.join(WORK, `data-${test}-`));
  provision(dataDir);
  const relais = await startRelais(dataDir);
  let relaisResult: unknown;
  let warmupResult: unknown;
  let health: unknown;
  let threads: Record<string, unknown> | undefined;
  let soak: Array<Record<string, unknown>> | undefined;
  try {
    if (WARMUP > 0) warmupResult = runKit(test, { port: relais.sipPort, pid: relais.pid }, test === 'cps' ? CPS_CALLEE : undefined, true);
    const cpuBefore = threadCpu(relais.pid);
    relaisResult = runKit(test, { port: relais.sipPort, pid: relais.pid }, test === 'cps' ? CPS_CALLEE : undefined);
    threads = threadsDelta(relais.pid, cpuBefore, stepsOf(relaisResult).reduce((n, s) => n + ((s as { calls?: number }).calls ?? 0), 0));
    if (sippDidNotRun(relaisResult)) {
      say(`Relais ${test}: SIPp could not run in a step (port in use?); running the test once more`);
      relaisResult = runKit(test, { port: relais.sipPort, pid: relais.pid }, test === 'cps' ? CPS_CALLEE : undefined);
    }
    if (SOAK > 0) soak = await soakPasses(test, relais, dataDir);
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
  // Bindings persisted: the registrations SQLite holds after the stop, against the bindings Relais reported.
  let persisted: number | null = null;
  if (test === 'register') {
    const store = Store.open(path.join(dataDir, 'relais.db'));
    try {
      persisted = (store.db.prepare("SELECT count(*) AS n FROM registrations WHERE call_id <> 'bench-static'").get() as { n: number }).n;
    } finally {
      store.close();
    }
  }
  const ratio = kamailio ? Math.round((maxRate(relaisResult) / Math.max(1, maxRate(kamailio))) * 1000) / 1000 : null;
  say(`${test}: Relais ${maxRate(relaisResult)}/s, Kamailio ${kamailio ? maxRate(kamailio) : '-'}/s, ratio ${ratio}`);
  return {
    kamailio: kamailio ?? null,
    relais: relaisResult,
    ...(WARMUP > 0 ? { relais_warmup: warmupResult ?? null } : {}),
    relais_health_after: health,
    relais_threads: threads ?? null,
    ...(soak ? { soak } : {}),
    ...(persisted === null ? {} : { bindings_in_sqlite_after_stop: persisted }),
    ratio_relais_to_kamailio: ratio,
    side_by_side: kamailio ? compare(kamailio, relaisResult) : [],
    ...(test === 'register'
      ? { goal: 'Relais >= 1.0 x Kamailio REGISTER/s, p99 <= 50 ms, bindings persisted', goal_met: ratio === null ? null : ratio >= 1 }
      : { goal: '>= 1000 calls/s with media endpoints, 0 failed, p99 <= 50 ms' }),
  };
}

async function main(): Promise<void> {
  const started = machine();
  const result: Record<string, unknown> = { bench: 'sip', date, commit: commit(), machine: started, kit: KIT, duration_s: Number(DURATION) };
  const tests: Array<'register' | 'cps'> = MODE === 'all' ? ['register', 'cps'] : [MODE];
  for (const test of tests) {
    const rounds: Array<Record<string, unknown>> = [];
    for (let round = 1; round <= RUNS; round++) {
      if (RUNS > 1) say(`${test}: round ${round} of ${RUNS}`);
      rounds.push({ round, uptime: uptime(), ...(await runRound(test)) });
    }
    if (RUNS === 1) {
      result[test] = rounds[0];
      continue;
    }
    const rates = [...new Set(rounds.flatMap((r) => stepsOf(r['relais']).map((s) => s.offered)))].sort((a, b) => a - b);
    const summary = {
      rounds: RUNS,
      relais_max_rate_median: median(rounds.map((r) => maxRate(r['relais']))),
      kamailio_max_rate_median: median(rounds.map((r) => (r['kamailio'] ? maxRate(r['kamailio']) : null))),
      ratio_median: median(rounds.map((r) => r['ratio_relais_to_kamailio'] as number | null)),
      per_rate: rates.map((offered) => ({
        offered,
        relais_cpu_us_median: median(rounds.map((r) => stepsOf(r['relais']).find((s) => s.offered === offered)?.cpu_server_us_per_call)),
        kamailio_cpu_us_median: median(rounds.map((r) => stepsOf(r['kamailio']).find((s) => s.offered === offered)?.cpu_server_us_per_call)),
        relais_p99_ms_median: median(rounds.map((r) => rttP99At(r['relais'], offered))),
        kamailio_p99_ms_median: median(rounds.map((r) => rttP99At(r['kamailio'], offered))),
        relais_failed_max: Math.max(0, ...rounds.map((r) => stepsOf(r['relais']).find((s) => s.offered === offered)?.failed ?? 0)),
      })),
    };
    result[test] = { summary, rounds };
    say(`${test}: median over ${RUNS} rounds: Relais ${summary.relais_max_rate_median}/s, Kamailio ${summary.kamailio_max_rate_median}/s, ratio ${summary.ratio_median}`);
  }
  (result['machine'] as Record<string, unknown>)['loadavg_end'] = os.loadavg();
  (result['machine'] as Record<string, unknown>)['uptime_end'] = uptime();
  if (CPU_PROF) result['cpu_profiles'] = CPU_PROF;
  fs.mkdirSync(path.dirname(OUT), { recursive: true });
  fs.writeFileSync(OUT, JSON.stringify(result, null, 2) + '\n');
  say(`wrote ${OUT}`);
  process.stdout.write(JSON.stringify(result, null, 2) + '\n');
  fs.rmSync(WORK, { recursive: true, force: true });
}

main().catch((err: unknown) => die(err instanceof Error ? (err.stack ?? err.message) : String(err)));
