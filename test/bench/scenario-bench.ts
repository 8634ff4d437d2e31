// Scenario interpreter cost (the `scenario` case of scripts/bench): CPU per call from the INVITE's hand-over to the first
// action, and per action, through a 5-action IVR, on a call port that answers at once (the interpreter alone, no SIP/RTP).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Store } from '../../services/storage/index.js';
import { Directory } from '../../services/directory/index.js';
import { silentLogger } from '../../services/shared/index.js';
import { importSiteText } from '../../services/site/index.js';
import type { RingTarget } from '../../services/call/index.js';
import { NoQueues, ScenarioInterpreter, directorySource, type CallPort, type RingOutcome } from '../../services/scenario/index.js';
import { matchCondition } from '../../services/scenario/calendar/index.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const args = process.argv.slice(2);
const opt = (name: string, def: string): string => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? args[i + 1]! : def;
};
const CALLS = Number(opt('--calls', '5000'));
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
    notSeparatelyMeasured: 'inbound calls/s through the IVR over SIP with the SIP bench kit (SIPp) — not run in this bench',
  };
  fs.mkdirSync(path.dirname(OUT), { recursive: true });
  fs.writeFileSync(OUT, `${JSON.stringify(out, null, 2)}\n`);
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  store.close();
}

main().catch((err: unknown) => {
  process.stderr.write(`scenario bench failed: ${String(err)}\n`);
  process.exit(1);
});
