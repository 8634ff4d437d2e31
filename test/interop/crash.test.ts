// kill -9 of Relais during five answered calls and a queued caller, at a random moment, then a restart: every phone
// that was in a call gets a BYE, the calls end in the history with cause 'restart', the database is intact, the
// registrations are back (a new call reaches a callee without it registering again), the paused agent stays paused
// and the waiting caller became a lost call with its callback. The 50-call, 20-kill loop is `scripts/bench crash`.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startRelais, tempDir, type RelaisProcess } from '../helpers/relais-process.js';
import { startSipp, runSipp, describeSipp, type SippProcess } from '../helpers/sipp.js';
import { freePort } from '../helpers/ports.js';
import { until } from './call-support.js';
import { ADMIN, basic, call } from './api-support.js';
import { DOMAIN, QUEUE_NUMBER, afterCrash, calleeNumbers, injectionFile, killAndRestart, pauseQueueAgent, query, registerAll, writeCrashSite } from './crash-support.js';

const CALLS = 5;
let relais: RelaisProcess | undefined;
const peers: SippProcess[] = [];

after(async () => {
  for (const p of peers) p.kill();
  await relais?.stop();
});

test('kill -9 during 5 calls and a queued caller: BYEs after the restart, history closed, database intact, registrations and queue state back', async () => {
  const dir = tempDir('crash-');
  const args = ['--site', writeCrashSite(dir, CALLS), '--domain', DOMAIN];
  relais = await startRelais({ dataDir: path.join(dir, 'data'), args });
  const callees = calleeNumbers(CALLS);
  const uasPort = await freePort();
  await registerAll(relais, [...callees, '399'], uasPort);
  await pauseQueueAgent(relais);

  // One SIPp UAS answers every callee (and, after the restart, one more call); one SIPp UAC places the calls and
  // waits for their BYE; another caller waits in the queue (answered for the position announcement).
  const uas = await startSipp({ scenario: 'call-uas.xml', localPort: uasPort, calls: CALLS + 1, timeoutS: 90 });
  peers.push(uas);
  const target = `127.0.0.1:${relais.sipPort}`;
  const callerOpts = { target, keys: { domain: DOMAIN, caller: '201', caller_name: 'Alice' }, auth: { username: '201', password: 'secret-201' }, timeoutS: 90 };
  const uac = await startSipp({ ...callerOpts, scenario: 'crash-uac.xml', calls: CALLS, rate: 20, extraArgs: ['-inf', injectionFile(dir, callees), '-l', String(CALLS)] });
  peers.push(uac);
  await until(() => query<{ n: number }>(relais!.dataDir, 'SELECT count(*) AS n FROM live_dialogs')[0]!.n >= 2 * CALLS, `${CALLS} calls answered (two dialogs each)`, 30_000);
  const queued = await startSipp({ ...callerOpts, scenario: 'call-uac-wait-bye.xml', service: QUEUE_NUMBER });
  peers.push(queued);
  await until(() => query<{ n: number }>(relais!.dataDir, "SELECT count(*) AS n FROM queue_calls WHERE outcome = 'waiting'")[0]!.n === 1, 'the caller waiting in the queue', 20_000);
  await until(() => query<{ n: number }>(relais!.dataDir, 'SELECT count(*) AS n FROM live_dialogs')[0]!.n >= 2 * CALLS + 1, 'the queued caller answered (announcement)', 20_000);

  // A random moment of the calls' life.
  await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 500)));
  const before = Date.now();
  relais = await killAndRestart(relais, args);

  // (b) every phone that was in a call gets its BYE and answers it: the SIPp scenarios end successfully.
  const [u, q] = await Promise.all([uac.done, queued.done]);
  assert.equal(u.code, 0, `callers: ${describeSipp(u)}\n${relais.output().slice(-3000)}`);
  assert.equal(u.successful, CALLS, describeSipp(u));
  assert.equal(q.code, 0, `queued caller: ${describeSipp(q)}`);

  // (d) registrations back: one more call reaches the callee without it registering again (the UAS's last call).
  const again = await runSipp({ ...callerOpts, scenario: 'call-uac.xml', service: callees[0]!, timeoutS: 20, extraArgs: ['-d', '300'] });
  assert.equal(again.code, 0, `a call after the restart: ${describeSipp(again)}\n${relais.output().slice(-3000)}`);
  const s = await uas.done;
  assert.equal(s.code, 0, `callees: ${describeSipp(s)}`);
  assert.equal(s.successful, CALLS + 1, describeSipp(s));

  // (a) history: the interrupted calls (5 + the queued caller) ended with cause 'restart', none left open.
  // (c) the database: integrity_check ok, WAL; the journal cleared.
  await until(() => afterCrash(relais!.dataDir, Date.now()).openCalls === 0, 'no call left without an end');
  const state = afterCrash(relais.dataDir, Date.now());
  assert.equal(state.integrity, 'ok');
  assert.equal(state.journalMode, 'wal');
  assert.equal(state.restartEnded, CALLS + 1, JSON.stringify(state));
  assert.equal(state.journalLeft, 0);
  assert.ok(state.bindings >= CALLS + 1, `bindings on disk: ${state.bindings}`);
  const ended = query<{ ended_at: number; answered_at: number | null; status: string }>(relais.dataDir, "SELECT ended_at, answered_at, status FROM calls WHERE cause = 'restart'");
  for (const c of ended) {
    assert.equal(c.status, 'ended');
    assert.ok(c.ended_at >= before - 60_000 && c.ended_at <= Date.now(), `end time ${c.ended_at}`);
  }

  // (e) queues: the waiting caller is a lost call (reason restart) with a LostCall callback; qa is still paused.
  assert.equal(state.queueWaiting, 0);
  const lost = query<{ reason: string }>(relais.dataDir, "SELECT reason FROM queue_calls WHERE outcome = 'lost'");
  assert.deepEqual(lost.map((l) => l.reason), ['restart']);
  const auth = basic(ADMIN);
  const cbs = await call(`${relais.url}/api/callbacks`, { headers: { authorization: auth } });
  const list = cbs.json.callbacks as { number: string; link?: string; linkType?: string; status: string }[];
  assert.equal(list.length, 1, JSON.stringify(cbs.json));
  assert.equal(list[0]!.number, '201');
  const queues = await call(`${relais.url}/api/queues`, { headers: { authorization: auth } });
  const qa = (queues.json.queues as { name: string; participants: { user: string; paused: boolean }[] }[]).find((x) => x.name === 'crashq')!.participants.find((p) => p.user === 'qa');
  assert.equal(qa?.paused, true, 'the agent paused before the crash is still paused');
});
