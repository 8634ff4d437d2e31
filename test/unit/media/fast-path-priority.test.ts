// The relay's forwarding threads at real-time priority (docs/media.md, "Thread priorities"): what the kernel really
// gives the rtp-forward thread, as root, as an unprivileged user with and without RLIMIT_RTPRIO (the appliance's
// unit grants LimitRTPRIO=10), and with --media-realtime 0. Each case runs the engine in a child process.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { rtpRange } from '../../helpers/ports.js';

const ENGINE = fileURLToPath(new URL('../../../services/media/index.js', import.meta.url));
const range = rtpRange(8);
const isRoot = process.getuid?.() === 0;
const has = (cmd: string): boolean => spawnSync(cmd, ['--version'], { stdio: 'ignore' }).status === 0;
const tools = has('setpriv') && has('prlimit');

/** The child: starts the engine, then reads each of its threads' name, scheduling policy and real-time priority. */
const CHILD = `
import fs from 'node:fs';
const alive = setInterval(() => {}, 1000); // the engine's worker does not keep the process alive on its own
const { BuiltinMediaEngine } = await import(process.argv[2]);
const engine = new BuiltinMediaEngine({ bind: '127.0.0.1', rtpPortMin: ${range.min}, rtpPortMax: ${range.max}, rtpTimeoutMs: 0, fastPathRealtime: Number(process.argv[3]) });
await engine.start();
const threads = fs.readdirSync('/proc/self/task').map((tid) => {
  const stat = fs.readFileSync('/proc/self/task/' + tid + '/stat', 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // f[0] is field 3 of proc(5)
  return { comm: fs.readFileSync('/proc/self/task/' + tid + '/comm', 'utf8').trim(), rtprio: Number(f[37]), policy: Number(f[38]) };
});
const stats = await engine.stats();
await engine.stop();
clearInterval(alive);
console.log(JSON.stringify({ scheduling: engine.fastPathScheduling, fastPath: stats.fastPath, forward: threads.filter((t) => t.comm === 'rtp-forward') }));
`;

interface Seen {
  scheduling: string;
  fastPath: string;
  forward: { comm: string; rtprio: number; policy: number }[];
}

// A file, not `node -e`: the media worker would inherit --input-type. Readable by the unprivileged user below.
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'relais-priority-'));
fs.chmodSync(dir, 0o755);
const script = path.join(dir, 'child.mjs');
fs.writeFileSync(script, CHILD, { mode: 0o644 });
after(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Runs the child under `wrap` (setpriv/prlimit argv before node's), asking for `priority`. */
function run(priority: number, wrap: string[] = []): Seen {
  const argv = [...wrap, process.execPath, script, ENGINE, String(priority)];
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', cwd: '/', timeout: 30_000 });
  assert.equal(r.status, 0, `child failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Seen;
}

const SCHED_OTHER = 0;
const SCHED_FIFO = 1;
/** An unprivileged user without capabilities, as the appliance's unit runs Relais; `rtprio` is its RLIMIT_RTPRIO. */
const asNobody = (rtprio: number): string[] => ['prlimit', `--rtprio=${rtprio}:${rtprio}`, 'setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all', '--'];
/** The same user given CAP_SYS_NICE as an ambient capability (systemd's AmbientCapabilities=CAP_SYS_NICE). */
const asNobodyWithSysNice = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all,+sys_nice', '--ambient-caps=+sys_nice', '--'];
/** Raising RLIMIT_RTPRIO above the hard limit needs CAP_SYS_RESOURCE, which systemd has and a container may not. */
const canRaiseRtprio = tools && spawnSync('prlimit', ['--rtprio=10:10', 'true']).status === 0;

test('as root, the forwarding thread runs at SCHED_FIFO 10 and says so', { skip: !isRoot && 'needs root' }, () => {
  const seen = run(10);
  assert.equal(seen.fastPath, 'native', 'scripts/build builds the native forwarder');
  assert.equal(seen.scheduling, 'SCHED_FIFO 10');
  assert.equal(seen.forward.length, 1);
  assert.deepEqual(seen.forward.map((t) => [t.policy, t.rtprio]), [[SCHED_FIFO, 10]]);
});

test('--media-realtime 0: the forwarding thread stays at the normal policy', () => {
  const seen = run(0);
  assert.equal(seen.scheduling, 'normal');
  assert.deepEqual(seen.forward.map((t) => [t.policy, t.rtprio]), [[SCHED_OTHER, 0]]);
});

test("an unprivileged service with LimitRTPRIO=10 (the appliance's unit) gets SCHED_FIFO 10", { skip: (!isRoot || !canRaiseRtprio) && 'needs root with CAP_SYS_RESOURCE (to raise RLIMIT_RTPRIO as systemd does), setpriv and prlimit' }, () => {
  const seen = run(10, asNobody(10));
  assert.equal(seen.scheduling, 'SCHED_FIFO 10');
  assert.deepEqual(seen.forward.map((t) => [t.policy, t.rtprio]), [[SCHED_FIFO, 10]]);
});

test('refused (no capability, no limit): the fast path still forwards at the normal policy and says why', { skip: (!isRoot || !tools) && 'needs root, setpriv and prlimit' }, () => {
  const seen = run(10, asNobody(0));
  assert.equal(seen.fastPath, 'native');
  assert.match(seen.scheduling, /^normal \(SCHED_FIFO 10: Operation not permitted\)$/);
  assert.deepEqual(seen.forward.map((t) => [t.policy, t.rtprio]), [[SCHED_OTHER, 0]]);
});

test('an unprivileged service with CAP_SYS_NICE (AmbientCapabilities=) gets SCHED_FIFO 10 too', { skip: (!isRoot || !tools) && 'needs root, setpriv and prlimit' }, () => {
  const seen = run(10, asNobodyWithSysNice);
  assert.equal(seen.scheduling, 'SCHED_FIFO 10');
  assert.deepEqual(seen.forward.map((t) => [t.policy, t.rtprio]), [[SCHED_FIFO, 10]]);
});

test('a limit below the priority asked for is refused too (LimitRTPRIO=5, priority 10)', { skip: (!isRoot || !canRaiseRtprio) && 'needs root with CAP_SYS_RESOURCE, setpriv and prlimit' }, () => {
  const seen = run(10, asNobody(5));
  assert.match(seen.scheduling, /^normal \(SCHED_FIFO 10: /);
  assert.deepEqual(seen.forward.map((t) => [t.policy, t.rtprio]), [[SCHED_OTHER, 0]]);
});
