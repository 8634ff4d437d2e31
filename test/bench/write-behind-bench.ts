// Write-behind bench: the main-thread CPU a B2BUA call costs in SQLite, without SIP or media. Per call, what call
// set-up writes: the call history (calls row and call_events timeline, through CallHistory.follow as call control
// emits them) and the dialog journal (two dialogs, put at the answer and removed at the hang-up, plus the two ringing
// INVITEs, answered within the flush delay). Calls arrive at --rate per second and last --hold ms, on a simulated
// clock: every flush writes what call control would have queued in that time.
// Usage: node dist/test/bench/write-behind-bench.js [--calls 20000] [--rate 1000] [--hold 1000] [--rounds 5] [--random-ids]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CallHistory } from '../../services/call/call-history.js';
import type { CallEvents, CallInfo } from '../../services/call/call.js';
import { Store } from '../../services/storage/index.js';
import { ManualClock, TypedEmitter, newId, newTimeOrderedId } from '../../services/shared/index.js';
import { DialogJournal } from '../../services/sip/dialog/dialog-journal.js';

const argv = process.argv.slice(2);
const opt = (name: string, def: string): number => {
  const i = argv.indexOf(name);
  return Number(i >= 0 && argv[i + 1] !== undefined ? argv[i + 1] : def);
};
const CALLS = opt('--calls', '20000');
const RATE = opt('--rate', '1000');
const HOLD = opt('--hold', '1000');
const ROUNDS = opt('--rounds', '5');
const FLUSH_MS = 50;
/** --random-ids: call ids as they were before newTimeOrderedId (random UUIDs), for comparison. */
const RANDOM_IDS = argv.includes('--random-ids');

function info(id: string, n: number, t0: number, state: 'ringing' | 'answered' | 'ended'): CallInfo {
  return {
    id,
    direction: 'inbound',
    caller: { number: `0612${String(n).padStart(6, '0')}` },
    callee: { number: '2000' },
    state,
    startedAt: t0,
    answeredAt: state === 'ringing' ? undefined : t0 + 5,
    endedAt: state === 'ended' ? t0 + HOLD : undefined,
    cause: state === 'ended' ? 'caller-hangup' : undefined,
  } as unknown as CallInfo;
}

function dialog(id: string, role: 'uas' | 'uac', t: number) {
  return {
    id,
    role,
    callId: `${id}@127.0.0.1`,
    localTag: 'a1b2c3d4e5',
    remoteTag: '12345SIPpTag001',
    local: '<sip:2000@relais.test>;tag=a1b2c3d4e5',
    remote: '<sip:bench@relais.test>;tag=12345SIPpTag001',
    localSeq: 1,
    remoteTarget: 'sip:bench@127.0.0.1:5061;transport=UDP',
    routeSet: [],
    flow: { transport: 'udp' as const, address: '127.0.0.1', port: 5061 },
    createdAt: t,
  };
}

function round(dir: string): number {
  const store = Store.open(path.join(dir, `relais-${Math.random().toString(36).slice(2)}.db`));
  const clock = new ManualClock();
  let errors = 0;
  const history = new CallHistory(store.db, { batchMs: FLUSH_MS, clock, onError: () => errors++ });
  const observer = new TypedEmitter<CallEvents>();
  history.follow(observer, clock);
  const journal = new DialogJournal(store.db, () => undefined, { minIntervalMs: 1e9, maxIntervalMs: 1e9 });
  const ends: Array<{ at: number; id: string; n: number; t0: number }> = [];
  const perFlush = (RATE * FLUSH_MS) / 1000;
  const cpu0 = process.cpuUsage();
  let n = 0;
  while (n < CALLS) {
    for (let i = 0; i < perFlush && n < CALLS; i++, n++) {
      const t0 = clock.now();
      const id = RANDOM_IDS ? newId() : newTimeOrderedId(t0);
      observer.emit('call.started', info(id, n, t0, 'ringing'), { dialled: '2000', sipCallId: `${n}-sipp@127.0.0.1` });
      journal.putInvite({ id: `uas:${n}`, role: 'uas', callId: `${n}-sipp`, message: 'INVITE sip:2000@relais.test SIP/2.0\r\n', toTag: 't', flow: { transport: 'udp', address: '127.0.0.1', port: 5061 }, createdAt: t0 });
      journal.putInvite({ id: `uac:${n}`, role: 'uac', callId: `${n}-out`, message: 'INVITE sip:uas@127.0.0.1:15090 SIP/2.0\r\n', toTag: '', flow: { transport: 'udp', address: '127.0.0.1', port: 15090 }, createdAt: t0 });
      observer.emit('call.ringing', info(id, n, t0, 'ringing'));
      journal.removeInvite(`uac:${n}`);
      journal.put(dialog(`${id}|a1b2c3|uac`, 'uac', t0));
      journal.removeInvite(`uas:${n}`);
      journal.put(dialog(`${id}|a1b2c3|uas`, 'uas', t0));
      observer.emit('call.answered', info(id, n, t0, 'answered'), { by: { number: '2000', displayName: 'Bench UAS', isExtension: true } });
      ends.push({ at: t0 + HOLD, id, n, t0 });
    }
    while (ends.length > 0 && ends[0]!.at <= clock.now() + FLUSH_MS) {
      const e = ends.shift()!;
      journal.remove(`${e.id}|a1b2c3|uac`);
      journal.remove(`${e.id}|a1b2c3|uas`);
      observer.emit('call.hangup', info(e.id, e.n, e.t0, 'ended'));
    }
    clock.advance(FLUSH_MS);
    journal.flush();
  }
  const cpu = process.cpuUsage(cpu0);
  history.flush();
  journal.flush();
  if (errors > 0) throw new Error(`${errors} history writes failed`);
  const rows = store.db.prepare('SELECT count(*) AS n FROM calls').get() as { n: number };
  if (rows.n !== CALLS) throw new Error(`${rows.n} calls rows written, ${CALLS} expected`);
  store.close();
  return (cpu.user + cpu.system) / n;
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'relais-write-behind-'));
try {
  const us: number[] = [];
  for (let r = 0; r < ROUNDS; r++) us.push(round(dir));
  const sorted = [...us].sort((a, b) => a - b);
  process.stdout.write(
    `${JSON.stringify({ bench: 'write-behind', calls: CALLS, rate: RATE, hold_ms: HOLD, us_per_call: us.map((x) => Math.round(x * 10) / 10), min: Math.round(sorted[0]! * 10) / 10, median: Math.round(sorted[Math.floor(sorted.length / 2)]! * 10) / 10 })}\n`,
  );
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
