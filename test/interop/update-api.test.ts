// POST /api/system/update against a running Relais and a real RAUC service (private bus, file-backed slots).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startRelais, tempDir, type RelaisProcess } from '../helpers/relais-process.js';
import { foreignKey, makeBundle, raucAvailable, startRauc, type RaucFixture } from '../helpers/rauc.js';
import WebSocket from 'ws';
import BetterSqlite3 from 'better-sqlite3';
import { startNotifySocket, type NotifySocket } from '../helpers/notify-socket.js';
import { MIGRATIONS, PRE_UPDATE_SUFFIX, Store } from '../../services/storage/index.js';
import { ADMIN, assertError, basic, call } from './api-support.js';
import { until } from './call-support.js';

const missing = raucAvailable();
let rauc: RaucFixture;
let relais: RelaisProcess;
let work: string;
const auth = basic(ADMIN);

before(async () => {
  if (missing) return;
  rauc = await startRauc();
  work = tempDir('update-api-');
  relais = await startRelais({
    args: ['--rauc', rauc.address, '--firmware-version', '1.0.0', '--reboot-command', `touch ${path.join(work, 'rebooted')}`, '--update-confirm-seconds', '60'],
  });
});
after(async () => {
  await relais?.stop();
  await rauc?.stop();
});

function upload(bundle: Buffer | string, query = ''): Promise<Response> {
  const body = typeof bundle === 'string' ? fs.readFileSync(bundle) : bundle;
  return fetch(`${relais.url}/api/system/update${query}`, { method: 'POST', body, headers: { authorization: auth, 'content-type': 'application/octet-stream' } });
}

test('status: administrators only; the running version and both slots', { skip: missing }, async () => {
  assertError(await call(`${relais.url}/api/system/update`), 401, 'auth.required');
  const r = await call(`${relais.url}/api/system/update`, { headers: { authorization: auth } });
  assert.equal(r.status, 200, JSON.stringify(r.json));
  assert.equal(r.json.state, 'idle');
  assert.equal(r.json.currentVersion, '1.0.0');
  assert.equal(r.json.compatible, 'relais-test');
  assert.equal((r.json.slots as unknown[]).length, 2);
});

test('bad bundles are refused with a clear error: another key, empty body, JSON instead of a bundle', { skip: missing }, async () => {
  const foreign = makeBundle(work, '2.0.0', foreignKey(work));
  const res = await upload(foreign);
  const body = (await res.json()) as { error: { code: string; message: string; field: string } };
  assert.equal(res.status, 400, JSON.stringify(body));
  assert.equal(body.error.code, 'update.signature_invalid');
  assert.equal(body.error.field, 'bundle');
  assert.match(body.error.message, /not signed by a key this box trusts/);
  assertError(await call(`${relais.url}/api/system/update`, { method: 'POST', body: Buffer.alloc(0), headers: { authorization: auth, 'content-type': 'application/octet-stream' } }), 400, 'update.bundle_missing', 'bundle');
  assertError(await call(`${relais.url}/api/system/update`, { method: 'POST', body: '{}', headers: { authorization: auth, 'content-type': 'application/json' } }), 415, 'api.content_type');
  assertError(await call(`${relais.url}/api/system/update?force=1`, { method: 'POST', body: 'x', headers: { authorization: auth, 'content-type': 'application/octet-stream' } }), 400, 'api.param_unknown', 'force');
  const older = await upload(makeBundle(work, '0.5.0'));
  assert.equal(older.status, 409);
  assert.equal(((await older.json()) as { error: { code: string } }).error.code, 'update.not_newer');
  assert.equal(relais.child.exitCode, null);
});

test('upload a signed bundle: NDJSON progress (upload, then RAUC), installed into the other slot, reboot command run', { skip: missing }, async () => {
  const bundle = makeBundle(work, '2.1.0', { size: 480 * 1024 });
  const ws = new WebSocket(`ws://127.0.0.1:${relais.httpPort}/api/events`, { headers: { authorization: auth } });
  const live: { type: string; data?: Record<string, unknown> }[] = [];
  ws.on('message', (d) => live.push(JSON.parse(d.toString()) as never));
  await new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject)));
  const res = await upload(bundle, '?follow=true');
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /application\/x-ndjson/);
  const events = (await res.text())
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { event: string; phase?: string; percent?: number; version?: string; slot?: string; error?: unknown });
  const uploads = events.filter((e) => e.event === 'update.progress' && e.phase === 'upload');
  const installs = events.filter((e) => e.event === 'update.progress' && e.phase === 'install');
  assert.ok(uploads.length >= 2 && uploads.at(-1)!.percent === 100, `upload progress: ${JSON.stringify(uploads)}`);
  assert.ok(installs.length >= 2 && installs.at(-1)!.percent === 100, `install progress: ${JSON.stringify(installs)}`);
  assert.deepEqual(events.find((e) => e.event === 'update.installed'), { event: 'update.installed', version: '2.1.0', slot: 'rootfs.1' });
  assert.deepEqual(events.at(-1), { event: 'update.done', version: '2.1.0' });
  assert.equal(rauc.status().boot_primary, 'rootfs.1');
  // The same progress reaches the console's event stream.
  assert.ok(live.some((m) => m.type === 'update.progress' && m.data?.phase === 'install'), JSON.stringify(live.map((m) => m.type)));
  assert.ok(live.some((m) => m.type === 'update.state' && m.data?.state === 'installed' && m.data?.version === '2.1.0'));
  ws.close();
  // The agent reboots a moment later (the reboot command here only leaves a file).
  const deadline = Date.now() + 15_000;
  while (!fs.existsSync(path.join(work, 'rebooted'))) {
    if (Date.now() > deadline) assert.fail('the reboot command did not run');
    await new Promise((r) => setTimeout(r, 100));
  }
  const st = await call(`${relais.url}/api/system/update`, { headers: { authorization: auth } });
  assert.equal(st.json.state, 'rebooting');
  // The box's firmware history: refused bundles never got this far.
  const history = st.json.history as { version: string; state: string; slot: string }[];
  assert.deepEqual(history.map((h) => [h.version, h.state, h.slot]), [['2.1.0', 'installed', 'rootfs.1']]);
  // Nothing more is accepted until the box has rebooted.
  assertError(await call(`${relais.url}/api/system/update`, { method: 'POST', body: fs.readFileSync(bundle), headers: { authorization: auth, 'content-type': 'application/octet-stream' } }), 409, 'update.busy');
});

test('a schema migration that fails on a new firmware trial boot rolls back: slot marked bad, the other slot booted', { skip: missing }, async () => {
  // A box on the first boot of a new slot (pending.json from the install before the reboot), whose database
  // cannot be migrated: the table of migration 202612071400 is already there, so that migration fails.
  const trial = await startRauc();
  const dir = tempDir('migration-fail-');
  try {
    const dataDir = path.join(dir, 'data');
    fs.mkdirSync(path.join(dataDir, 'updates'), { recursive: true });
    const store = Store.open(path.join(dataDir, 'relais.db'));
    store.db.prepare("DELETE FROM schema_migrations WHERE version >= '202612071400'").run();
    store.close();
    fs.writeFileSync(path.join(dataDir, 'updates/pending.json'), JSON.stringify({ version: '2.0.0', slot: 'rootfs.0', bootId: 'the boot before', installedAt: new Date().toISOString() }));
    const rebooted = path.join(dir, 'rebooted');
    const started = await startRelais({
      dataDir,
      args: ['--rauc', trial.address, '--firmware-version', '1.0.0', '--reboot-command', `touch ${rebooted}`],
    }).then(
      (r) => r,
      (err: Error) => err,
    );
    assert.ok(started instanceof Error, 'Relais does not start on a database it cannot migrate');
    assert.match(started.message, /rolled back to the previous firmware/);
    assert.ok(fs.existsSync(rebooted), 'the box reboots');
    assert.deepEqual(trial.boot(), { primary: 'B', A: 'bad', B: 'good' }, 'the trial slot is bad, the other one boots next');
  } finally {
    await trial.stop();
  }
});

/** A marker row in the settings table, to see which database a started Relais ended up on. */
function marker(file: string, value?: string): string | undefined {
  const db = new BetterSqlite3(file, { fileMustExist: true });
  try {
    if (value !== undefined) db.prepare("INSERT INTO settings (key, value) VALUES ('test.marker', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value").run(value);
    return (db.prepare("SELECT value FROM settings WHERE key = 'test.marker'").pluck().get() as string | undefined) ?? undefined;
  } finally {
    db.close();
  }
}

test('a trial boot keeps a copy of the database before migrating it, and drops the copy once the new firmware is confirmed', { skip: missing }, async () => {
  const trial = await startRauc();
  const dir = tempDir('trial-copy-');
  let started: RelaisProcess | undefined;
  let notify: NotifySocket | undefined;
  try {
    const dataDir = path.join(dir, 'data');
    fs.mkdirSync(path.join(dataDir, 'updates'), { recursive: true });
    const file = path.join(dataDir, 'relais.db');
    // The database as the previous firmware left it: one migration behind this build.
    Store.open(file, { migrations: MIGRATIONS.slice(0, -1) }).close();
    marker(file, 'before the update');
    fs.writeFileSync(path.join(dataDir, 'updates/pending.json'), JSON.stringify({ version: '2.0.0', slot: 'rootfs.0', bootId: 'the boot before', installedAt: new Date().toISOString() }));
    // Under systemd (a fake NOTIFY_SOCKET here): the start timeout is extended before the copy, READY=1 comes after.
    notify = await startNotifySocket();
    started = await startRelais({ dataDir, env: { NOTIFY_SOCKET: notify.path }, args: ['--rauc', trial.address, '--firmware-version', '2.0.0', '--reboot-command', 'true'] });
    const relais = started;
    await until(() => /database copied before this firmware migrates it/.test(relais.output()), 'the copy is logged', 30_000);
    await notify.next(/READY=1/);
    const at = (re: RegExp): number => notify!.messages.findIndex((m) => re.test(m));
    assert.ok(at(/EXTEND_TIMEOUT_USEC=600000000/) >= 0 && at(/EXTEND_TIMEOUT_USEC/) < at(/READY=1/), JSON.stringify(notify.messages));
    // The first passing health check confirms the slot, and the copy has served its purpose.
    await until(() => trial.boot().A === 'good' && !fs.existsSync(`${file}${PRE_UPDATE_SUFFIX}`), 'slot confirmed and copy dropped', 30_000);
  } finally {
    await started?.stop();
    notify?.close();
    await trial.stop();
  }
});

test('a firmware that finds its database migrated by a newer firmware whose trial failed goes back to the copy, keeping the newer one aside', async () => {
  const dir = tempDir('go-back-');
  const dataDir = path.join(dir, 'data');
  fs.mkdirSync(dataDir, { recursive: true });
  const file = path.join(dataDir, 'relais.db');
  Store.open(file).close();
  marker(file, 'before the update');
  fs.copyFileSync(file, `${file}${PRE_UPDATE_SUFFIX}`);
  // What the newer firmware's trial did: one migration this build does not know, then more writes.
  const newer = Store.open(file, { migrations: [...MIGRATIONS, { version: '299901010000', name: 'newer', up: (db) => db.exec('CREATE TABLE newer_things (a INTEGER)') }] });
  newer.close();
  marker(file, 'written by the newer firmware');
  const relais = await startRelais({ dataDir });
  try {
    assert.match(relais.output(), /the data is back as it was before that update/);
    const health = await call(`${relais.url}/healthz`);
    assert.equal(health.status, 200);
  } finally {
    await relais.stop();
  }
  assert.equal(marker(file), 'before the update');
  assert.equal(marker(path.join(`${file}.newer-299901010000`, 'relais.db')), 'written by the newer firmware');
  assert.equal(fs.existsSync(`${file}${PRE_UPDATE_SUFFIX}`), false);
});
