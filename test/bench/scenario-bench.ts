// Scenario benchmark (the `scenario` case of scripts/bench): (1) interpreter cost — CPU per call from the INVITE's hand-over
// to the first action, and per action, through a 5-action IVR, on a call port that answers at once (no SIP/RTP); (2) inbound
// calls/s through a 5-action IVR over SIP: a real Relais, its trunk taking the SIP bench kit's SIPp caller
// (../shared/peers/kamailio run-bench.sh cps: INVITE, 200, ACK, hold, BYE, stepped rates bounded by --max and --duration).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Store } from '../../services/storage/index.js';
import { Directory } from '../../services/directory/index.js';
import { silentLogger } from '../../services/shared/index.js';
import { importSiteText } from '../../services/site/index.js';
import type { RingTarget } from '../../services/call/index.js';
import { NoQueues, ScenarioInterpreter, directorySource, type CallPort, type RingOutcome } from '../../services/scenario/index.js';
import { matchCondition } from '../../services/scenario/calendar/index.js';
import { startRelais, tempDir } from '../helpers/relais-process.js';
import { freePort, udpFree } from '../helpers/ports.js';
import { makeToneWav } from '../helpers/audio.js';
import { ext, writeSite } from '../interop/call-site.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const args = process.argv.slice(2);
const opt = (name: string, def: string): string => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? args[i + 1]! : def;
};
const CALLS = Number(opt('--calls', '5000'));
/** SIP part: first and highest offered rate (calls/s), seconds per step, call length (ms); --skip-sip leaves it out. */
const SIP_START = opt('--start', '5');
const SIP_MAX = opt('--max', '80');
const SIP_STEP_S = opt('--duration', '5');
const SIP_HOLD_MS = opt('--hold', '1000');
const KIT = path.join(ROOT, '../shared/peers/kamailio/run-bench.sh');
const date = new Date().toISOString();
const OUT = path.resolve(opt('--out', path.join(ROOT, 'test/bench/results', `scenario-${date.slice(0, 10)}.json`)));

const SITE = `
version: 1
settings: { language: en, timezone: Europe/Paris }
users: [ { username: ann, name: Ann } ]
extensions: [ { number: "201", user: ann } ]
scenarios:
  - name: ivr
    actions:
      - { type: play, prompt: welcome, early: true, when: { weekdays: [mon, tue, wed, thu, fri, sat, sun] } }
      - { type: answer }
      - type: detect_dtmf
        prompt: choose-service
        options:
          - { key: "1", name: Sales, actions: [ { type: collect_digits, variable: callback_number, max_digits: 10 } ] }
      - { type: set_language, language: fr }
      - { type: call_user, user: ann }
numbers: [ { did: "+33100000001", scenario: ivr, users: [ann] } ]
`;

/** Answers everything at once; records when the first action reached it. */
class InstantPort implements CallPort {
  readonly caller = '0611223344';
  firstAt = 0n;
  private keys = ['1', '0612345678'];
  private seen(): void {
    if (this.firstAt === 0n) this.firstAt = process.hrtime.bigint();
  }
  gone = (): boolean => false;
  answered = (): boolean => true;
  answer = async (): Promise<boolean> => (this.seen(), true);
  earlyMedia = async (): Promise<boolean> => (this.seen(), true);
  play = async (): Promise<'done'> => (this.seen(), 'done');
  clearDigits = (): void => undefined;
  readDigits = async (): Promise<string> => this.keys.shift() ?? '';
  ring = async (_t: RingTarget[]): Promise<RingOutcome> => 'answered';
  transfer = async (): Promise<RingOutcome> => 'answered';
  voicemail = async (): Promise<void> => undefined;
  ringingFor = async (): Promise<void> => undefined;
  reject = async (): Promise<void> => undefined;
  hangup = async (): Promise<void> => undefined;
}

function commit(): string {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

async function main(): Promise<void> {
  const store = Store.open(':memory:');
  importSiteText(store, 'bench.test', SITE);
  const dir = new Directory(store.db, 'bench.test');
  const interpreter = new ScenarioInterpreter({
    source: directorySource(dir),
    conditions: { matches: (c, at) => matchCondition(c, at, { timeZone: 'Europe/Paris' }) },
    queues: new NoQueues(),
    isOnline: () => true,
    logger: silentLogger,
  });
  const at = (): Date => new Date('2026-12-07T10:00:00Z');
  // Warm-up (JIT, prepared statements).
  for (let i = 0; i < 500; i++) await interpreter.run(new InstantPort(), dir.numbers.findByDid('+33100000001')!, { at });
  let toFirstNs = 0n;
  let steps = 0;
  const cpu0 = process.cpuUsage();
  const wall0 = process.hrtime.bigint();
  for (let i = 0; i < CALLS; i++) {
    const port = new InstantPort();
    const start = process.hrtime.bigint();
    // What a live call does at hand-over: the number read again (changes apply to the next call), then the run.
    const number = dir.numbers.findByDid('+33100000001')!;
    const r = await interpreter.run(port, number, { at });
    toFirstNs += port.firstAt - start;
    steps += r.path.length;
  }
  const wallNs = Number(process.hrtime.bigint() - wall0);
  const cpu = process.cpuUsage(cpu0);
  const cpuUs = cpu.user + cpu.system;
  const actions = steps / CALLS - 1; // the `scenario` entry step is not an action
  const out = {
    bench: 'scenario',
    date,
    commit: commit(),
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, loadavg: os.loadavg(), node: process.version },
    what: 'interpreter alone (in-process call port answering at once; directory reads from SQLite per call); 5-action IVR with a menu option (6 actions run per call)',
    calls: CALLS,
    actionsPerCall: actions,
    cpuUsPerCall: +(cpuUs / CALLS).toFixed(1),
    cpuUsPerAction: +(cpuUs / CALLS / actions).toFixed(1),
    wallUsToFirstAction: +(Number(toFirstNs) / CALLS / 1000).toFixed(1),
    interpretedCallsPerSecond: Math.round(CALLS / (wallNs / 1e9)),
    sip: args.includes('--skip-sip') ? { skipped: '--skip-sip' } : await sipThroughput(),
  };
  fs.mkdirSync(path.dirname(OUT), { recursive: true });
  fs.writeFileSync(OUT, `${JSON.stringify(out, null, 2)}\n`);
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  store.close();
}

/**
 * The IVR the SIP calls run: 5 actions (answer first, so the kit's set-up time — INVITE to 200, failing a step over
 * 50 ms at p99 — is Relais's, not a greeting's), the menu waiting for a key the caller never sends: it hangs up after --hold.
 */
const SIP_IVR = (did: string): string => `
trunks:
  - { name: bench, host: 127.0.0.1, register: false, allowed_ips: ["127.0.0.1"] }
sounds:
  - { name: beep, file: beep.wav }
scenarios:
  - name: ivr
    actions:
      - { type: answer }
      - { type: play, sound: beep, when: { weekdays: [mon, tue, wed, thu, fri, sat, sun] } }
      - { type: set_language, language: en }
      - { type: play, sound: beep }
      - type: detect_dtmf
        sound: beep
        timeout: 10
        attempts: 1
        options: [ { key: "1", name: Sales, actions: [ { type: hangup } ] } ]
        no_match: [ { type: hangup } ]
numbers:
  - { did: "${did}", trunk: bench, scenario: ivr, users: [ann] }
`;

/** A free UDP port in the kit's range (15060-15099) for its SIPp UAS (unused here: Relais answers every call itself). */
async function kitPort(): Promise<number> {
  for (let p = 15099; p >= 15060; p--) if (await udpFree(p)) return p;
  throw new Error('no free port in 15060-15099 for the bench kit');
}

/**
 * Inbound calls/s through the IVR: the kit's SIPp caller (no credentials, from 127.0.0.1 = the site's trunk) calls the
 * DID at stepped rates; each call runs the 5 actions and is answered by Relais, the caller hangs up after --hold.
 */
async function sipThroughput(): Promise<unknown> {
  if (!fs.existsSync(KIT)) return { skipped: `the SIP bench kit is missing: ${KIT}` };
  const did = '0100000001';
  const dir = tempDir('bench-scenario-');
  const site = writeSite(dir, [ext('201', 'Ann', { user: 'ann' })], 'en', SIP_IVR(did));
  const dataDir = path.join(dir, 'data');
  fs.mkdirSync(path.join(dataDir, 'sounds'), { recursive: true });
  makeToneWav(path.join(dataDir, 'sounds', 'beep.wav'), 800, 0.1);
  // The scenario runs only while an assigned user is online (else the number's offline option): ann's phone registers
  // first (registerAnn), and is never rung (the IVR rings nobody).
  const relais = await startRelais({ dataDir, args: ['--site', site, '--domain', 'relais.test', '--log-level', 'warn'] });
  try {
    await registerAnn(relais.sipPort);
    const out = path.join(dir, 'kit-cps.json');
    const kitArgs = [KIT, 'cps', '--target', `127.0.0.1:${relais.sipPort}`, '--server-pid', String(relais.child.pid), '--callee', did, '--domain', 'relais.test',
      '--start', SIP_START, '--max', SIP_MAX, '--duration', SIP_STEP_S, '--hold', SIP_HOLD_MS, '--uas-port', String(await kitPort()), '--out', out];
    process.stderr.write(`scenario bench: bash ${kitArgs.map((a) => path.basename(a)).join(' ')}\n`);
    const r = spawnSync('bash', kitArgs, { stdio: ['ignore', 'ignore', 'inherit'], timeout: 15 * 60_000 });
    if (r.status !== 0 || !fs.existsSync(out)) return { failed: `run-bench.sh cps exited with ${String(r.status)}` };
    const kit = JSON.parse(fs.readFileSync(out, 'utf8')) as { max_rate?: number; steps?: unknown[] };
    const paths = queryPaths(dataDir);
    return {
      what: 'inbound calls through a trunk to a DID whose scenario runs 5 actions (answer, play with a condition, set_language, play, menu); caller hangs up after hold_ms',
      hold_ms: Number(SIP_HOLD_MS),
      max_rate: kit.max_rate,
      steps: kit.steps,
      callsWithIvrPath: paths,
    };
  } finally {
    await relais.stop();
  }
}

/** Ann's phone: a registration from a port nobody answers on (the scenario needs an assigned user online). */
async function registerAnn(sipPort: number): Promise<void> {
  const r = spawnSync('sipp', [`127.0.0.1:${sipPort}`, '-sf', path.join(ROOT, 'test/interop/sipp/call-register.xml'), '-i', '127.0.0.1', '-p', String(await freePort()), '-m', '1',
    '-key', 'user', '201', '-key', 'domain', 'relais.test', '-key', 'expires', '3600', '-au', '201', '-ap', 'secret-201', '-timeout', '10s', '-timeout_error', '-nostdin'],
  { stdio: 'ignore', timeout: 20_000 });
  if (r.status !== 0) throw new Error(`registering 201 failed (sipp exit ${String(r.status)})`);
}

/** How many calls kept a path that went through the whole IVR (checked in the database after the run). */
function queryPaths(dataDir: string): { calls: number; throughIvr: number } {
  const db = Store.open(path.join(dataDir, 'relais.db'), { readonly: true });
  try {
    const rows = db.db.prepare('SELECT path FROM calls WHERE path IS NOT NULL').all() as { path: string }[];
    const through = rows.filter((r) => (JSON.parse(r.path) as { type: string }[]).some((st) => st.type === 'detect_dtmf')).length;
    return { calls: rows.length, throughIvr: through };
  } finally {
    db.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`scenario bench failed: ${String(err)}\n`);
  process.exit(1);
});
