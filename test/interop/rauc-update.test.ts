// Firmware updates with a real RAUC: private D-Bus daemon, file-backed A/B slots, custom bootloader backend.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { SystemClock, RelaisError, silentLogger } from '../../services/shared/index.js';
import { RaucDbus, UpdateAgent, type UpdateEvents } from '../../services/update/index.js';
import { DEV_KEYS, foreignKey, makeBundle, raucAvailable, startRauc, type RaucFixture } from '../helpers/rauc.js';
import { tempDir } from '../helpers/relais-process.js';

const missing = raucAvailable();
let rauc: RaucFixture;
let work: string;

before(async () => {
  if (missing) return;
  rauc = await startRauc();
  work = tempDir('bundles-');
});
after(async () => {
  await rauc?.stop();
});

function slot(status: ReturnType<RaucFixture['status']>, name: string) {
  for (const entry of status.slots) if (entry[name]) return entry[name]!;
  throw new Error(`no slot ${name} in ${JSON.stringify(status)}`);
}

interface Agent {
  agent: UpdateAgent;
  reboots: number;
  events: [keyof UpdateEvents, unknown[]][];
  dataDir: string;
}

async function agentOn(dataDir: string, bootId: string, confirmMs = 20_000): Promise<Agent> {
  const a: Agent = { agent: undefined as unknown as UpdateAgent, reboots: 0, events: [], dataDir };
  a.agent = new UpdateAgent({
    rauc: await RaucDbus.connect(rauc.address),
    clock: new SystemClock(),
    logger: silentLogger,
    dataDir,
    reboot: async () => void a.reboots++,
    confirmMs,
    fallbackVersion: '1.0.0',
    bootId: () => bootId,
    rebootDelayMs: 10,
  });
  for (const ev of ['update.progress', 'update.installed', 'update.failed', 'update.confirmed', 'update.rolled-back'] as const) {
    a.agent.observer.on(ev, (...args: unknown[]) => a.events.push([ev, args]));
  }
  await a.agent.start();
  return a;
}

async function install(a: Agent, bundle: string, opts: { allowDowngrade?: boolean } = {}): Promise<void> {
  const file = await a.agent.receive(fs.createReadStream(bundle), fs.statSync(bundle).size);
  const { install } = await a.agent.check(file, opts);
  await install;
}

async function refused(a: Agent, bundle: string, code: string): Promise<RelaisError> {
  const file = await a.agent.receive(fs.createReadStream(bundle), fs.statSync(bundle).size);
  const err = await a.agent.check(file).then(
    () => assert.fail(`${path.basename(bundle)} was accepted`),
    (e: unknown) => e as RelaisError,
  );
  assert.ok(err instanceof RelaisError, String(err));
  assert.equal(err.code, code, err.message);
  assert.equal(fs.existsSync(file), false, 'a refused bundle is deleted');
  return err;
}

test('bundles are signed by scripts/bundle and verifiable with rauc info against the development keyring', { skip: missing }, () => {
  const b = makeBundle(work, '1.1.0');
  const r = spawnSync('rauc', ['info', `--keyring=${DEV_KEYS}/ca.cert.pem`, b], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /Compatible:\s+'relais-test'/);
  assert.match(r.stdout, /Version:\s+'1\.1\.0'/);
});

test('refusals: another key, wrong compatible, truncated, garbage, older; nothing touches a slot', { skip: missing }, async () => {
  const a = await agentOn(tempDir('agent-'), 'boot-1');
  try {
    const before = fs.readFileSync(path.join(rauc.dir, 'slots/rootfs.B.img'));
    const foreign = foreignKey(work);
    const e1 = await refused(a, makeBundle(work, '1.2.0', foreign), 'update.signature_invalid');
    assert.match(e1.message, /not signed by a key this box trusts/);
    await refused(a, makeBundle(work, '1.2.0', { compatible: 'relais-other' }), 'update.incompatible');
    const good = makeBundle(work, '1.2.0');
    const truncated = path.join(work, 'truncated.raucb');
    const bytes = fs.readFileSync(good);
    fs.writeFileSync(truncated, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
    await refused(a, truncated, 'update.bundle_invalid');
    const garbage = path.join(work, 'garbage.raucb');
    fs.writeFileSync(garbage, 'not a bundle at all');
    await refused(a, garbage, 'update.bundle_invalid');
    const older = await refused(a, makeBundle(work, '0.9.0'), 'update.not_newer');
    assert.match(older.message, /allowDowngrade/);
    assert.deepEqual(fs.readFileSync(path.join(rauc.dir, 'slots/rootfs.B.img')), before, 'the inactive slot was not written');
    assert.equal(rauc.boot().primary, 'A');
    assert.equal((await a.agent.status()).error?.code, 'update.not_newer');
  } finally {
    a.agent.stop();
  }
});

test('install into the inactive slot, reboot into it, mark good after a passing health check', { skip: missing }, async () => {
  const dataDir = tempDir('agent-');
  const a = await agentOn(dataDir, 'boot-1');
  const bundle = makeBundle(work, '1.3.0');
  try {
    const running = fs.readFileSync(path.join(rauc.dir, `slots/rootfs.${rauc.booted}.img`));
    await install(a, bundle);
    const progress = a.events.filter(([e]) => e === 'update.progress').map(([, args]) => args as [string, number, string]);
    assert.ok(progress.some(([phase, pct]) => phase === 'upload' && pct === 100), 'upload progress reaches 100 %');
    assert.ok(progress.some(([phase]) => phase === 'install'), 'RAUC progress is followed');
    assert.equal(progress.filter(([phase]) => phase === 'install').at(-1)![1], 100);
    assert.deepEqual(a.events.find(([e]) => e === 'update.installed')?.[1], ['1.3.0', 'rootfs.1']);
    const st = rauc.status();
    assert.equal(st.boot_primary, 'rootfs.1', 'the new slot boots next');
    assert.equal(slot(st, 'rootfs.1').slot_status?.bundle?.version, '1.3.0');
    assert.deepEqual(fs.readFileSync(path.join(rauc.dir, 'slots/rootfs.A.img')), running, 'the running slot is never touched');
    assert.equal(fs.readFileSync(path.join(rauc.dir, 'slots/rootfs.B.img')).subarray(0, 5).toString(), '1.3.0');
    await new Promise<void>((resolve) => a.agent.observer.once('update.state', (s) => s === 'rebooting' && resolve()));
    assert.equal(a.reboots, 1);
  } finally {
    a.agent.stop();
  }

  assert.equal(await rauc.reboot(), 'B');
  const b = await agentOn(dataDir, 'boot-2');
  try {
    assert.equal((await b.agent.status()).state, 'confirming');
    assert.equal(b.agent.onTrial(), true);
    const confirmed = b.agent.observer.waitFor('update.confirmed');
    b.agent.healthReport('down');
    assert.equal(b.agent.onTrial(), true, 'a failing report does not confirm');
    b.agent.healthReport('ok');
    assert.deepEqual(await confirmed, ['1.3.0', 'rootfs.1']);
    const st = rauc.status();
    assert.equal(st.booted, 'B');
    assert.equal(slot(st, 'rootfs.1').boot_status, 'good');
    assert.equal(rauc.boot().B, 'good');
    assert.equal((await b.agent.status()).currentVersion, '1.3.0');
    assert.equal(b.reboots, 0);
  } finally {
    b.agent.stop();
  }
});

test('a failing health check after the update marks the new slot bad and reboots back to the old one', { skip: missing }, async () => {
  const dataDir = tempDir('agent-');
  const from = rauc.booted;
  const a = await agentOn(dataDir, 'boot-3');
  try {
    await install(a, makeBundle(work, '1.4.0'));
  } finally {
    a.agent.stop();
  }
  const to = await rauc.reboot();
  assert.notEqual(to, from);
  const b = await agentOn(dataDir, 'boot-4', 1500);
  try {
    const [version, , reason] = await b.agent.observer.waitFor('update.rolled-back');
    assert.equal(version, '1.4.0');
    assert.match(String(reason), /did not pass within 2 s/);
    assert.equal(rauc.boot()[to as 'A' | 'B'], 'bad', 'the new slot is marked bad');
    assert.equal(rauc.boot().primary, from, 'the old slot boots next');
    assert.equal(b.reboots, 1);
    assert.equal((await b.agent.status()).error?.code, 'update.rolled_back');
  } finally {
    b.agent.stop();
  }
  assert.equal(await rauc.reboot(), from, 'back on the old firmware');
  const c = await agentOn(dataDir, 'boot-5');
  try {
    assert.equal((await c.agent.status()).state, 'idle', 'nothing left to confirm');
  } finally {
    c.agent.stop();
  }
});

test('a failed start on a slot on trial (schema migration) rolls back at once', { skip: missing }, async () => {
  const dataDir = tempDir('agent-');
  const from = rauc.booted;
  const a = await agentOn(dataDir, 'boot-6');
  try {
    await install(a, makeBundle(work, '1.5.0'));
  } finally {
    a.agent.stop();
  }
  await rauc.reboot();
  const b = await agentOn(dataDir, 'boot-7');
  try {
    assert.equal(await b.agent.startupFailed('schema migration 209901010000 failed'), true);
    assert.equal(rauc.boot().primary, from);
    assert.equal(b.reboots, 1);
  } finally {
    b.agent.stop();
  }
  await rauc.reboot();
});
