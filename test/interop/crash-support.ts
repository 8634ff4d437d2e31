// Shared by the crash interop test and `scripts/bench crash`: a site with callers, callees and a paused queue, SIPp
// phones registered to it, kill -9 of Relais and its restart on the same ports and data dir, and what to check after.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { startRelais, type RelaisProcess } from '../helpers/relais-process.js';
import { runSipp, describeSipp } from '../helpers/sipp.js';
import { ext, writeSite, type TestExtension } from './call-site.js';
import { ADMIN, basic, call, jsonInit } from './api-support.js';

export const DOMAIN = '127.0.0.1';
/** The queue a caller waits in: its only participant (qa, extension 399) is paused, so nobody is rung. */
export const QUEUE_NUMBER = '950';

/** Callee extensions 211, 212, … (all registered from one SIPp UAS port). */
export function calleeNumbers(count: number): string[] {
  return Array.from({ length: count }, (_, i) => String(211 + i));
}

export function writeCrashSite(dir: string, callees: number): string {
  const exts: TestExtension[] = [ext('201', 'Alice'), ...calleeNumbers(callees).map((n) => ext(n, `Callee ${n}`)), ext('399', 'Qa', { user: 'qa' })];
  const queue = `queues:
  - name: crashq
    short_number: "${QUEUE_NUMBER}"
    strategy: simultaneous
    announce_position: true
    max_wait: 600
    lost_call_rules: {after_abandon: true, min_wait: 0, business_hours_only: false}
    members: [qa]
`;
  return writeSite(dir, exts, 'en', queue);
}

/** Registers each number from `port` (where a SIPp UAS then answers their calls); expires long enough for a bench. */
export async function registerAll(relais: RelaisProcess, numbers: readonly string[], port: number): Promise<void> {
  for (const number of numbers) {
    // SIPp also binds a media port: another process of a loaded machine may take it first (errno 98); try again.
    for (let attempt = 1; ; attempt++) {
      const r = await runSipp({
        scenario: 'call-register.xml',
        target: `127.0.0.1:${relais.sipPort}`,
        localPort: port,
        keys: { user: number, domain: DOMAIN, expires: '3600' },
        auth: { username: number, password: `secret-${number}` },
        timeoutS: 10,
      });
      if (r.code !== 0 && attempt < 3 && /errno = 98/.test(r.stderr + r.errors)) continue;
      assert.equal(r.code, 0, `REGISTER ${number}: ${describeSipp(r)}`);
      break;
    }
  }
}

/** Pauses qa in the queue (through the API): a caller then waits, answered for the position announcement. */
export async function pauseQueueAgent(relais: RelaisProcess): Promise<void> {
  const auth = basic(ADMIN);
  const list = await call(`${relais.url}/api/queues`, { headers: { authorization: auth } });
  const q = (list.json.queues as { id: number; name: string }[]).find((x) => x.name === 'crashq');
  assert.ok(q, 'queue crashq exists');
  const r = await call(`${relais.url}/api/queues/${q.id}/pause`, jsonInit('POST', { user: 'qa', reason: 'crash test' }, auth));
  assert.ok(r.status < 300, `pause qa: ${r.status} ${JSON.stringify(r.json)}`);
}

/** One dialled number per line, for crash-uac.xml (-inf). */
export function injectionFile(dir: string, numbers: readonly string[]): string {
  const file = path.join(dir, `callees-${numbers.length}-${Date.now()}.csv`);
  fs.writeFileSync(file, ['SEQUENTIAL', ...numbers.map((n) => `${n};`)].join('\n') + '\n');
  return file;
}

/** A read-only query on Relais' database (running or not). */
export function query<T>(dataDir: string, sql: string, ...args: unknown[]): T[] {
  const db = new Database(path.join(dataDir, 'relais.db'), { readonly: true, fileMustExist: true });
  try {
    return db.prepare(sql).all(...args) as T[];
  } finally {
    db.close();
  }
}

/** kill -9, then the same command line again (ports, data dir): what a power cut and a reboot do. */
export async function killAndRestart(relais: RelaisProcess, args: string[]): Promise<RelaisProcess> {
  const exited = new Promise<void>((r) => (relais.child.exitCode !== null || relais.child.signalCode !== null ? r() : relais.child.once('exit', () => r())));
  relais.child.kill('SIGKILL');
  await exited;
  return startRelais({ dataDir: relais.dataDir, sipPort: relais.sipPort, httpPort: relais.httpPort, rtp: relais.rtp, args });
}

export interface AfterCrash {
  integrity: string;
  journalMode: string;
  /** Calls started before the kill and still without an end (none once the restarted Relais has started). */
  openCalls: number;
  /** Calls ended by the restart (cause 'restart'). */
  restartEnded: number;
  /** Dialogs of before the kill still in the journal (the restart sent their BYEs and cleared them). */
  journalLeft: number;
  /** Unexpired bindings on disk. */
  bindings: number;
  /** Queue callers still marked waiting. */
  queueWaiting: number;
}

export function afterCrash(dataDir: string, now: number, killedAt = now): AfterCrash {
  const one = <T>(sql: string, ...args: unknown[]): T => Object.values(query<Record<string, unknown>>(dataDir, sql, ...args)[0] ?? {})[0] as T;
  return {
    integrity: one<string>('PRAGMA integrity_check'),
    journalMode: one<string>('PRAGMA journal_mode'),
    openCalls: one<number>('SELECT count(*) FROM calls WHERE ended_at IS NULL AND started_at < ?', killedAt),
    restartEnded: one<number>("SELECT count(*) FROM calls WHERE cause = 'restart'"),
    journalLeft: one<number>('SELECT count(*) FROM live_dialogs WHERE created_at < ?', killedAt),
    bindings: one<number>('SELECT count(*) FROM registrations WHERE expires_at > ?', now),
    queueWaiting: one<number>("SELECT count(*) FROM queue_calls WHERE outcome = 'waiting'"),
  };
}
