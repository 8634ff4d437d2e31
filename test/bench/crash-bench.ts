// Crash benchmark (scripts/bench crash): --kills times, --calls SIPp calls and a caller waiting in a queue are set up,
// Relais is killed with SIGKILL at a random moment (during the call setups or after), restarted on the same ports and
// data dir, and checked: every leg that was established (the caller got its 200, the callee its ACK) got a BYE after
// the restart, no call is left without an end in the history, PRAGMA integrity_check is ok, the journal is empty,
// the bindings are on disk (the next round's calls reach the callees without them registering again), no queue
// caller is left waiting. Calls still ringing at the kill are counted too: a caller that had its 180 but no 200
// must get a final response (500) after the restart, a callee that had the INVITE but no ACK a CANCEL (or, when its
// 200 crossed it, a BYE). Writes test/bench/results/crash-<date>.json.
// Usage: node dist/test/bench/crash-bench.js [--kills N] [--calls N] [--max-delay MS] [--out FILE]
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startRelais, tempDir, type RelaisProcess } from '../helpers/relais-process.js';
import { startSipp, type SippProcess } from '../helpers/sipp.js';
import { freePort } from '../helpers/ports.js';
import { DOMAIN, QUEUE_NUMBER, afterCrash, calleeNumbers, injectionFile, killAndRestart, pauseQueueAgent, query, registerAll, writeCrashSite } from '../interop/crash-support.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const argv = process.argv.slice(2);
const opt = (name: string, def: string): string => {
  const i = argv.indexOf(name);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1]! : def;
};
const KILLS = Number(opt('--kills', '20'));
const CALLS = Number(opt('--calls', '50'));
/** The kill comes uniformly within this long after the calls start being placed (they take about CALLS/50 s). */
const MAX_DELAY_MS = Number(opt('--max-delay', '3000'));
const date = new Date().toISOString();
const OUT = path.resolve(opt('--out', path.join(ROOT, 'test/bench/results', `crash-${date.slice(0, 10)}.json`)));
const say = (msg: string): void => void process.stderr.write(`bench crash: ${msg}\n`);

/** The commit measured: BENCH_COMMIT when the bench runs from a copy of dist/ outside the checkout. */
function commit(): string {
  if (process.env.BENCH_COMMIT) return process.env.BENCH_COMMIT;
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
  } catch {
    return 'unknown';
  }
}

/** Per Call-ID, what a SIPp saw in its -trace_msg log: when a 200 to its INVITE came, when an ACK came, a BYE. */
interface Seen {
  at200: number | undefined;
  atAck: number | undefined;
  gotBye: boolean;
  /** The first 180/183 to the INVITE, the first INVITE received (callee side). */
  at18x: number | undefined;
  atInvite: number | undefined;
  /** When a final failure to the INVITE came (the 500 after a restart), when a CANCEL came. */
  atFailure: number | undefined;
  atCancel: number | undefined;
}

function readTrace(file: string): Map<string, Seen> {
  const calls = new Map<string, Seen>();
  let text = '';
  try {
    text = fs.readFileSync(file, 'latin1');
  } catch {
    return calls;
  }
  // Blocks start with a line of dashes and SIPp's local time: "----------- 2026-12-07 10:00:00.833408".
  const parts = text.split(/^-{10,} (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3})\d*$/m);
  for (let i = 1; i + 1 < parts.length; i += 2) {
    const at = new Date(parts[i]!.replace(' ', 'T')).getTime();
    const block = parts[i + 1]!;
    const head = /^\s*\w+ message (received|sent)[^\n]*\n\s*/.exec(block);
    if (head?.[1] !== 'received') continue;
    const body = block.slice(head[0].length);
    const first = body.slice(0, body.indexOf('\n'));
    const callId = /^Call-ID:\s*(\S+)/im.exec(body)?.[1];
    if (!callId) continue;
    const s = calls.get(callId) ?? { at200: undefined, atAck: undefined, gotBye: false, at18x: undefined, atInvite: undefined, atFailure: undefined, atCancel: undefined };
    const toInvite = /^CSeq:\s*\d+ INVITE/im.test(body);
    if (/^SIP\/2\.0 200/.test(first) && toInvite) s.at200 ??= at;
    if (/^SIP\/2\.0 18[03]/.test(first) && toInvite) s.at18x ??= at;
    if (/^SIP\/2\.0 [56]\d\d/.test(first) && toInvite) s.atFailure ??= at;
    if (/^INVITE /.test(first)) s.atInvite ??= at;
    if (/^ACK /.test(first)) s.atAck ??= at;
    if (/^CANCEL /.test(first)) s.atCancel ??= at;
    if (/^BYE /.test(first)) s.gotBye = true;
    calls.set(callId, s);
  }
  return calls;
}

/** Legs established and legs BYEd, for the Call-IDs not counted in an earlier round. */
function legs(trace: Map<string, Seen>, counted: Set<string>, established: (s: Seen) => boolean): { established: number; bye: number; missing: string[] } {
  let est = 0;
  let bye = 0;
  const missing: string[] = [];
  for (const [id, s] of trace) {
    if (counted.has(id) || !established(s)) continue;
    est++;
    if (s.gotBye) bye++;
    else missing.push(id);
  }
  return { established: est, bye, missing };
}

/** Legs ringing at the kill and those that got their end after the restart (`ended`), new Call-IDs only. */
function ringingLegs(trace: Map<string, Seen>, counted: Set<string>, ringing: (s: Seen) => boolean, ended: (s: Seen) => boolean): { ringing: number; ended: number; missing: string[] } {
  let n = 0;
  let done = 0;
  const missing: string[] = [];
  for (const [id, s] of trace) {
    if (counted.has(id) || !ringing(s)) continue;
    n++;
    if (ended(s)) done++;
    else missing.push(id);
  }
  return { ringing: n, ended: done, missing };
}

async function until(cond: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
  return true;
}

async function main(): Promise<void> {
  const dir = tempDir('bench-crash-');
  const args = ['--site', writeCrashSite(dir, CALLS), '--domain', DOMAIN];
  // 200 RTP ports: two endpoints of two ports per call, for 49 calls and the queued caller at once.
  let relais: RelaisProcess = await startRelais({ dataDir: path.join(dir, 'data'), args, rtpPorts: 200 });
  const callees = calleeNumbers(CALLS);
  const uasPort = await freePort();
  say(`registering ${CALLS + 1} callees`);
  await registerAll(relais, [...callees, '399'], uasPort);
  await pauseQueueAgent(relais);
  const uas = await startSipp({ scenario: 'call-uas.xml', localPort: uasPort, calls: 1_000_000, timeoutS: 3600 });
  const target = (): string => `127.0.0.1:${relais.sipPort}`;
  const caller = { keys: { domain: DOMAIN, caller: '201', caller_name: 'Alice' }, auth: { username: '201', password: 'secret-201' } };
  const inf = injectionFile(dir, callees);
  const rounds: Record<string, unknown>[] = [];
  const countedUas = new Set<string>();
  const totals = { legsEstablished: 0, legsBye: 0, legsMissed: 0, ringingAtKill: 0, ringingEnded: 0, ringingMissed: 0, integrityOk: 0, openCallsLeft: 0, journalLeft: 0, queueCallersLeftWaiting: 0, restartEnded: 0 };
  let restartEndedBefore = 0;
  for (let k = 1; k <= KILLS; k++) {
    const peers: SippProcess[] = [];
    const queued = await startSipp({ ...caller, target: target(), scenario: 'call-uac-wait-bye.xml', service: QUEUE_NUMBER, timeoutS: 120, extraArgs: ['-recv_timeout', '60000'] });
    peers.push(queued);
    await until(() => query<{ n: number }>(relais.dataDir, "SELECT count(*) AS n FROM queue_calls WHERE outcome = 'waiting'")[0]!.n >= 1, 10_000);
    const uac = await startSipp({
      ...caller,
      target: target(),
      scenario: 'crash-uac.xml',
      calls: CALLS,
      rate: 50,
      timeoutS: 120,
      extraArgs: ['-inf', inf, '-l', String(CALLS), '-recv_timeout', '60000'],
    });
    peers.push(uac);
    const delay = Math.floor(Math.random() * MAX_DELAY_MS);
    await new Promise((r) => setTimeout(r, delay));
    const liveAtKill = query<{ n: number }>(relais.dataDir, 'SELECT count(*) AS n FROM live_dialogs')[0]!.n;
    const killedAt = Date.now();
    relais = await killAndRestart(relais, args);
    const restartMs = Date.now() - killedAt;
    // Every leg established before the kill gets its BYE (bounded wait; a leg still ringing at the kill never does).
    // Legs up at the kill: the caller had its 200, the callee its ACK, before it. (SIPp goes on placing the round's
    // remaining calls after the restart: those are new calls of the new run, not counted.)
    const upAtKill = (t: number | undefined): boolean => t !== undefined && t < killedAt;
    const sides = (): { uac: ReturnType<typeof legs>; queued: ReturnType<typeof legs>; uas: ReturnType<typeof legs> } => ({
      uac: legs(readTrace(uac.messageFile), new Set(), (s) => upAtKill(s.at200)),
      queued: legs(readTrace(queued.messageFile), new Set(), (s) => upAtKill(s.at200)),
      uas: legs(readTrace(uas.messageFile), countedUas, (s) => upAtKill(s.atAck)),
    });
    await until(() => {
      const s = sides();
      return s.uac.missing.length + s.queued.missing.length + s.uas.missing.length === 0;
    }, 30_000);
    const s = sides();
    // Ringing at the kill: a caller with its 180 but no 200 before it gets a final failure after it; a callee with the
    // INVITE but no ACK before it gets a CANCEL after it (or a BYE, when its 200 crossed the CANCEL).
    const ringingAt = (from: number | undefined, answered: number | undefined): boolean => from !== undefined && from < killedAt && !(answered !== undefined && answered < killedAt);
    const ringingSides = (): { callers: ReturnType<typeof ringingLegs>; callees: ReturnType<typeof ringingLegs> } => ({
      callers: ringingLegs(readTrace(uac.messageFile), new Set(), (x) => ringingAt(x.at18x, x.at200), (x) => x.atFailure !== undefined && x.atFailure >= killedAt),
      callees: ringingLegs(readTrace(uas.messageFile), countedUas, (x) => ringingAt(x.atInvite, x.atAck), (x) => (x.atCancel !== undefined && x.atCancel >= killedAt) || x.gotBye),
    });
    await until(() => {
      const r = ringingSides();
      return r.callers.missing.length + r.callees.missing.length === 0;
    }, 10_000);
    const r = ringingSides();
    totals.ringingAtKill += r.callers.ringing + r.callees.ringing;
    totals.ringingEnded += r.callers.ended + r.callees.ended;
    totals.ringingMissed += r.callers.missing.length + r.callees.missing.length;
    for (const id of readTrace(uas.messageFile).keys()) countedUas.add(id);
    for (const p of peers) p.kill();
    await until(() => afterCrash(relais.dataDir, Date.now(), killedAt).openCalls === 0, 10_000);
    const st = afterCrash(relais.dataDir, Date.now(), killedAt);
    const established = s.uac.established + s.queued.established + s.uas.established;
    const bye = s.uac.bye + s.queued.bye + s.uas.bye;
    totals.legsEstablished += established;
    totals.legsBye += bye;
    totals.legsMissed += established - bye;
    totals.integrityOk += st.integrity === 'ok' ? 1 : 0;
    totals.openCallsLeft += st.openCalls;
    totals.journalLeft += st.journalLeft;
    totals.queueCallersLeftWaiting += st.queueWaiting;
    totals.restartEnded += st.restartEnded - restartEndedBefore;
    const round = {
      kill: k,
      killAfterMs: delay,
      liveDialogsAtKill: liveAtKill,
      restartMs,
      legs: { callers: s.uac, queuedCaller: s.queued, callees: s.uas },
      ringing: { callers: { ...r.callers, missing: r.callers.missing.slice(0, 5) }, callees: { ...r.callees, missing: r.callees.missing.slice(0, 5) } },
      callsEndedByRestart: st.restartEnded - restartEndedBefore,
      ...st,
    };
    restartEndedBefore = st.restartEnded;
    for (const side of Object.values(round.legs)) side.missing = side.missing.slice(0, 5);
    rounds.push(round);
    say(`kill ${k}/${KILLS} after ${delay} ms: ${established} legs up, ${bye} BYEs after the restart, ${r.callers.ringing + r.callees.ringing} legs ringing, ${r.callers.ended + r.callees.ended} ended after the restart, integrity ${st.integrity}, open calls ${st.openCalls}, bindings ${st.bindings}`);
    // The next round starts when the previous calls are gone from the callee's side too.
    await until(() => query<{ n: number }>(relais.dataDir, 'SELECT count(*) AS n FROM live_dialogs')[0]!.n === 0, 10_000);
  }
  uas.kill();
  await relais.stop();
  const out = {
    bench: 'crash',
    date,
    commit: commit(),
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, loadavg: os.loadavg(), node: process.version },
    config: { kills: KILLS, calls: CALLS, maxDelayMs: MAX_DELAY_MS, callRate: 50, queuedCallers: 1 },
    totals,
    rounds,
  };
  fs.mkdirSync(path.dirname(OUT), { recursive: true });
  fs.writeFileSync(OUT, `${JSON.stringify(out, null, 2)}\n`);
  say(`written ${OUT}`);
  process.stdout.write(`${JSON.stringify(totals, null, 2)}\n`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    say(err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.exit(1);
  },
);
