// Counts, in a running Relais, the calls of the Node APIs a call set-up pays for (timers, immediates, events, UDP
// sends, media-worker messages, SQLite statements by text), for finding what a call does more often than it should.
// Usage: node dist/test/bench/sip-bench.js cps ... --node-args "--require $PWD/test/bench/op-counts.cjs"
// then, against the Relais pid: kill -USR1 (start counting afresh), kill -USR2 (write <tmpdir>/relais-op-counts-<pid>.json,
// [name, count] pairs, most frequent first). Divide by the calls of the step. Main thread only.
'use strict';
const { isMainThread } = require('node:worker_threads');
if (isMainThread) {
  const counts = new Map();
  const count = (key) => counts.set(key, (counts.get(key) || 0) + 1);
  const wrap = (obj, name, key) => {
    const original = obj[name];
    obj[name] = function (...args) {
      count(typeof key === 'function' ? key(args, this) : key);
      return original.apply(this, args);
    };
  };
  /** The first frames of our code that called: which timer is this. */
  const caller = () => new Error().stack.split('\n').slice(4, 6).map((l) => l.trim().replace(/^at /, '').replace(/\(?file:\/\/\S*\/dist\//, '(')).join(' < ');
  wrap(globalThis, 'setTimeout', () => `setTimeout ${caller()}`);
  wrap(globalThis, 'clearTimeout', () => `clearTimeout ${caller()}`);
  wrap(globalThis, 'setImmediate', () => `setImmediate ${caller()}`);
  wrap(require('node:events').prototype, 'emit', (args) => `emit ${String(args[0])}`);
  wrap(require('node:dgram').Socket.prototype, 'send', 'dgram.send');
  wrap(require('node:worker_threads').Worker.prototype, 'postMessage', 'worker.postMessage');
  const Database = require(require.resolve('better-sqlite3', { paths: [process.cwd()] }));
  const probe = new Database(':memory:');
  const statement = Object.getPrototypeOf(probe.prepare('SELECT 1'));
  for (const m of ['run', 'get', 'all']) wrap(statement, m, (_args, st) => `sql.${m} ${st.source.replace(/\s+/g, ' ').slice(0, 100)}`);
  wrap(Database.prototype, 'prepare', (args) => `prepare ${String(args[0]).replace(/\s+/g, ' ').slice(0, 80)}`);
  wrap(Database.prototype, 'pragma', (args) => `pragma ${String(args[0]).slice(0, 40)}`);
  probe.close();
  process.on('SIGUSR1', () => counts.clear());
  process.on('SIGUSR2', () => {
    const file = require('node:path').join(require('node:os').tmpdir(), `relais-op-counts-${process.pid}.json`);
    require('node:fs').writeFileSync(file, JSON.stringify([...counts].sort((a, b) => b[1] - a[1])));
  });
}
