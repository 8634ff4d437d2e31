// The relais command end to end: first-run admin, import/export, users, backup/restore through dist/services/cli.js.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Store } from '../../services/storage/index.js';
import { UserRepository, ExtensionRepository, computeHa1 } from '../../services/directory/index.js';
import { CLI, PROJECT_ROOT, startRelais, tempDir } from '../helpers/relais-process.js';

const EXAMPLE = path.join(PROJECT_ROOT, 'examples/small-office.yaml');

function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('RELAIS_')) env[k] = v;
  return { ...env, ...extra };
}

function relais(args: string[], opts: { input?: string; env?: Record<string, string> } = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: cleanEnv(opts.env), input: opts.input ?? '', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function ok(args: string[], opts: { input?: string; env?: Record<string, string> } = {}): string {
  const r = relais(args, opts);
  assert.equal(r.status, 0, `relais ${args.join(' ')} failed:\n${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** Every file under dir (relative path → content), skipping the database files. */
function files(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string): void => {
    for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const r = path.join(rel, e.name);
      if (e.isDirectory()) walk(r);
      else if (!e.name.startsWith('relais.db')) out[r] = fs.readFileSync(path.join(dir, r), 'latin1');
    }
  };
  walk('');
  return out;
}

function mediaFiles(dir: string): Record<string, string> {
  return Object.fromEntries(Object.entries(files(dir)).filter(([k]) => /^(sounds|recordings|voicemail)\//.test(k)));
}

test('serve on an empty data dir prints the generated admin password and the console address, once', async () => {
  const dataDir = tempDir('cli-first-');
  const r = await startRelais({ dataDir, env: { RELAIS_ADMIN_PASSWORD: '' } });
  let out = '';
  try {
    const deadline = Date.now() + 10_000;
    while (!/Console: http:\/\/127\.0\.0\.1:\d+\//.test(r.output()) && Date.now() < deadline) await new Promise((res) => setTimeout(res, 50));
    out = r.output();
  } finally {
    assert.equal(await r.stop(), 0, r.output());
  }
  const m = /^First-run admin password for user "admin": (\S+)$/m.exec(out);
  assert.ok(m, out);
  assert.match(out, new RegExp(`^Console: http://127\\.0\\.0\\.1:${r.httpPort}/$`, 'm'));
  const store = Store.open(path.join(dataDir, 'relais.db'));
  try {
    assert.ok(new UserRepository(store.db).verify('admin', m[1]!));
  } finally {
    store.close();
  }
  assert.ok(!fs.existsSync(path.join(dataDir, 'relais.pid')), 'pid file removed on stop');
  // Second start: nothing printed about the password.
  const again = await startRelais({ dataDir, env: { RELAIS_ADMIN_PASSWORD: '' } });
  assert.equal(await again.stop(), 0);
  assert.doesNotMatch(again.output(), /First-run admin password/);
});

test('serve --site FILE starts an empty data dir with that site instead of the default one', async () => {
  const dataDir = tempDir('cli-site-flag-');
  const r = await startRelais({ dataDir, args: ['--site', EXAMPLE] });
  assert.equal(await r.stop(), 0, r.output());
  const site = ok(['export', '--data-dir', dataDir]);
  assert.match(site, /did: "\+33142000001"/);
  assert.doesNotMatch(site, /smart-answering/);
});

test('import, export round trip and a broken file refused with path and line, data unchanged', () => {
  const dataDir = tempDir('cli-site-');
  const dd = ['--data-dir', dataDir];
  const imported = ok(['import', EXAMPLE, ...dd], { env: { RELAIS_ADMIN_PASSWORD: 'admin-password-1' } });
  assert.match(imported, /imported .*small-office\.yaml: 6 users, 6 extensions, 2 numbers, 1 trunks, 2 queues, 4 scenarios, 4 sounds, 3 phones/);
  assert.match(imported, /generated SIP secrets for extensions 100, 101, 102, 103, 104, 105/);
  assert.match(imported, /note: sound "welcome" has no audio yet: upload it in the console or copy it to .*sounds\/durand\/welcome-fr\.wav/);
  const exported = path.join(dataDir, 'site.yaml');
  ok(['export', exported, ...dd]);
  assert.equal((fs.statSync(exported).mode & 0o777).toString(8), '600', 'the export holds secrets: private');
  const first = fs.readFileSync(exported, 'utf8');
  assert.equal(ok(['export', ...dd]), first, 'export to stdout = export to a file');
  ok(['import', exported, ...dd]);
  assert.equal(ok(['export', ...dd]), first, 'export → import → export is identical');

  const broken = path.join(dataDir, 'broken.yaml');
  fs.writeFileSync(broken, fs.readFileSync(EXAMPLE, 'utf8').replace('strategy: longest_idle', 'strategy: roundrobbin').replace('members: [luc, julien]', 'members: [luc, juliette]'));
  const r = relais(['import', broken, ...dd]);
  assert.equal(r.status, 1);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 2, r.stderr);
  assert.match(lines[0]!, /^relais: .*broken\.yaml: queues\[1\]\.strategy: unknown value "roundrobbin" \(line \d+\); expected one of as_listed, simultaneous, longest_idle, random, round_robin, fewest_calls$/);
  assert.match(lines[1]!, /broken\.yaml: queues\[1\]\.members\[1\]: user "juliette" is not defined in users \(line \d+\)$/);
  assert.equal(ok(['export', ...dd]), first, 'the failed import changed nothing');

  const check = relais(['import', broken, '--check', ...dd]);
  assert.equal(check.status, 1);
  assert.equal(check.stderr, r.stderr, '--check reports exactly what import would');
  assert.match(ok(['import', '--check', EXAMPLE, ...dd]), /small-office\.yaml is valid: 6 users, .* \(nothing applied\)/);
  assert.equal(ok(['export', ...dd]), first, '--check changed nothing');

  const missing = relais(['import', path.join(dataDir, 'nope.yaml'), ...dd]);
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /^relais: cannot read .*nope\.yaml: ENOENT\n$/);
  const usage = relais(['import', ...dd]);
  assert.equal(usage.status, 2);
  assert.match(usage.stderr, /usage: relais import FILE/);
});

test('commands without --domain keep the realm the service uses; an explicit --domain rehashes', () => {
  const dataDir = tempDir('cli-realm-');
  const dd = ['--data-dir', dataDir];
  const env = { RELAIS_ADMIN_PASSWORD: 'admin-password-1' };
  ok(['import', EXAMPLE, '--domain', 'office.example', ...dd], { env });
  /** The realm extension 100's HA1 was computed for. */
  const ha1 = (): string => {
    const store = Store.open(path.join(dataDir, 'relais.db'));
    try {
      const e = new ExtensionRepository(store.db, 'unused').findByNumber('100')!;
      const realm = ['office.example', 'other.example', 'relais.local'].find((r) => computeHa1('MD5', e.sipUsername, r, e.secret) === e.ha1Md5);
      assert.ok(realm, 'HA1 matches one of the realms');
      return realm;
    } finally {
      store.close();
    }
  };
  assert.equal(ha1(), 'office.example');
  ok(['user', 'list', ...dd], { env });
  ok(['export', ...dd], { env });
  ok(['import', EXAMPLE, ...dd], { env });
  assert.equal(ha1(), 'office.example', 'no --domain: realm kept');
  ok(['user', 'list', '--domain', 'other.example', ...dd], { env });
  assert.equal(ha1(), 'other.example', 'explicit --domain: credentials recomputed');
});

test('user add, passwd and list', () => {
  const dataDir = tempDir('cli-user-');
  const dd = ['--data-dir', dataDir];
  const env = { RELAIS_ADMIN_PASSWORD: 'admin-password-1' };
  const added = ok(['user', 'add', 'tech', '--admin', ...dd], { env });
  assert.match(added, /user "tech" added \(admin\)/);
  const pw = /password for user "tech": (\S+)/.exec(added)![1]!;
  ok(['user', 'add', 'zoe', '--password', 'zoe-password', '--name', 'Zoé Martin', ...dd], { env });
  const dup = relais(['user', 'add', 'zoe', ...dd], { env });
  assert.equal(dup.status, 1);
  assert.equal(dup.stderr, 'relais: user "zoe" already exists\n');
  ok(['user', 'passwd', 'zoe', '--password', '-', ...dd], { env, input: 'new-zoe-password\n' });
  const bad = relais(['user', 'passwd', 'nobody', '--password', 'whatever-pw', ...dd], { env });
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /user "nobody" does not exist/);
  const short = relais(['user', 'passwd', 'zoe', '--password', 'short', ...dd], { env });
  assert.equal(short.status, 1);
  assert.match(short.stderr, /at least 8 characters/);
  const list = ok(['user', 'list', ...dd], { env });
  assert.match(list, /^USER\s+ROLE\s+PASSWORD\s+EXTENSIONS\s+RIGHTS\s+NAME$/m);
  assert.match(list, /^tech\s+admin\s+yes\s+-\s+-$/m);
  assert.match(list, /^zoe\s+user\s+yes\s+-\s+-\s+Zoé Martin$/m);
  assert.match(list, /^reception\s+user\s+no\s+100\s+-\s+Reception$/m);
  const store = Store.open(path.join(dataDir, 'relais.db'));
  try {
    const users = new UserRepository(store.db);
    assert.ok(users.verify('tech', pw));
    assert.ok(users.verify('zoe', 'new-zoe-password'));
    assert.ok(users.verify('admin', 'admin-password-1'));
  } finally {
    store.close();
  }
});

test('backup → change → restore brings back database and media; a truncated archive is refused and changes nothing', async () => {
  const dataDir = tempDir('cli-backup-');
  const dd = ['--data-dir', dataDir];
  const env = { RELAIS_ADMIN_PASSWORD: 'admin-password-1' };
  ok(['import', EXAMPLE, ...dd], { env });
  fs.mkdirSync(path.join(dataDir, 'sounds/durand'), { recursive: true });
  fs.writeFileSync(path.join(dataDir, 'sounds/durand/welcome-fr.wav'), Buffer.from('RIFF....WAVEfmt welcome'));
  fs.mkdirSync(path.join(dataDir, 'recordings/2026/11'), { recursive: true });
  fs.writeFileSync(path.join(dataDir, 'recordings/2026/11/call-1.wav'), Buffer.alloc(100_000, 7));
  fs.mkdirSync(path.join(dataDir, 'voicemail/100'), { recursive: true });
  fs.writeFileSync(path.join(dataDir, 'voicemail/100/msg-1.wav'), Buffer.from('voicemail'));
  const site = ok(['export', ...dd]);
  const media = mediaFiles(dataDir);

  const archive = path.join(tempDir('cli-archive-'), 'office.tar.gz');
  const b = ok(['backup', archive, ...dd]);
  assert.match(b, /backup written to .*office\.tar\.gz: 4 files, \d+ bytes, schema \d{12}/);

  // Change everything the backup holds.
  ok(['import', path.join(PROJECT_ROOT, 'services/site/default-site.yaml'), ...dd]);
  fs.rmSync(path.join(dataDir, 'sounds/durand/welcome-fr.wav'));
  fs.writeFileSync(path.join(dataDir, 'recordings/2026/11/call-2.wav'), 'later');
  assert.notEqual(ok(['export', ...dd]), site);

  const restored = ok(['restore', archive, ...dd]);
  assert.match(restored, /^restored .*office\.tar\.gz from \S+ into /);
  assert.equal(ok(['export', ...dd]), site);
  assert.deepEqual(mediaFiles(dataDir), media);
  assert.deepEqual(fs.readdirSync(dataDir).filter((f) => f.startsWith('.')), [], 'no staging left behind');

  // A truncated archive: refused, nothing changed.
  const changed = ok(['import', path.join(PROJECT_ROOT, 'services/site/default-site.yaml'), ...dd]);
  assert.ok(changed);
  const before = { site: ok(['export', ...dd]), files: files(dataDir) };
  const whole = fs.readFileSync(archive);
  const truncated = path.join(path.dirname(archive), 'truncated.tar.gz');
  fs.writeFileSync(truncated, whole.subarray(0, Math.floor(whole.length * 0.6)));
  const r = relais(['restore', truncated, ...dd]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^relais: backup (archive is damaged or truncated|is incomplete|is damaged).*\n$/);
  assert.equal(r.stderr.split('\n').length, 2, 'one line');
  assert.equal(ok(['export', ...dd]), before.site);
  assert.deepEqual(files(dataDir), before.files);

  const notThere = relais(['restore', path.join(path.dirname(archive), 'none.tar.gz'), ...dd]);
  assert.equal(notThere.status, 1);
  assert.match(notThere.stderr, /does not exist/);

  // Restore under a running Relais is refused.
  const running = await startRelais({ dataDir });
  try {
    const busy = relais(['restore', archive, ...dd]);
    assert.equal(busy.status, 1);
    assert.match(busy.stderr, /Relais is running on .* \(pid \d+\); stop it before restoring/);
    // Backup while it runs: SQLite's online backup.
    assert.match(ok(['backup', path.join(path.dirname(archive), 'live.tar.gz'), ...dd]), /backup written to .*live\.tar\.gz: 4 files/);
  } finally {
    assert.equal(await running.stop(), 0);
  }
});
