// The Yocto layer cannot be built here (bitbake fetches from the internet): its files are syntax-checked instead,
// together with the RAUC system.conf, the systemd unit and scripts/bundle (docs/firmware.md).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { PROJECT_ROOT } from '../../helpers/relais-process.js';

const LAYER = path.join(PROJECT_ROOT, 'yocto/meta-relais');

function files(dir: string, re: RegExp): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...files(p, re));
    else if (re.test(e.name)) out.push(p);
  }
  return out;
}

/** BitBake metadata: assignments (with continuation lines), functions, inherit/include lines, comments. */
function parseBitbake(file: string): Map<string, string> {
  const vars = new Map<string, string>();
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!;
    const where = `${path.relative(PROJECT_ROOT, file)}:${i + 1}`;
    if (!line.trim() || line.trimStart().startsWith('#')) continue;
    while (line.endsWith('\\')) line = line.slice(0, -1) + (lines[++i] ?? '');
    if (/^(inherit|require|include)\s+\S/.test(line)) continue;
    const fn = /^(?:python\s+)?([\w:${}.-]+)\s*\(\)\s*\{\s*$/.exec(line);
    if (fn) {
      // A shell function body runs to a line holding only "}"; its braces must balance.
      let depth = 1;
      while (depth > 0) {
        const body = lines[++i];
        assert.ok(body !== undefined, `${where}: function ${fn[1]} is not closed`);
        if (body === '}') depth--;
        else if (!body.trimStart().startsWith('#')) depth += (body.match(/\{/g) ?? []).length - (body.match(/\}/g) ?? []).length;
      }
      vars.set(`${fn[1]}()`, '');
      continue;
    }
    const m = /^([A-Za-z_][\w${}:\-+.]*(?:\[[\w-]+\])?)\s*(\?\?=|\?=|:=|\+=|=\+|\.=|=\.|=)\s*"(.*)"\s*$/.exec(line);
    assert.ok(m, `${where}: not a BitBake assignment, function or directive: ${line}`);
    const value = m[3]!;
    assert.equal((value.match(/"/g) ?? []).length % 2, 0, `${where}: unbalanced quotes`);
    let open = 0;
    for (const ch of value.replace(/\\./g, '')) {
      if (ch === '{') open++;
      if (ch === '}') open--;
      assert.ok(open >= 0, `${where}: "}" without "{"`);
    }
    assert.equal(open, 0, `${where}: unbalanced \${...}`);
    vars.set(m[1]!, value);
  }
  return vars;
}

test('every recipe, append and layer.conf parses as BitBake metadata; recipes have SUMMARY and LICENSE', () => {
  const all = files(LAYER, /\.(bb|bbappend|conf)$/);
  assert.ok(all.length >= 7, all.join(', '));
  for (const f of all) {
    const vars = parseBitbake(f);
    if (f.endsWith('.bb')) {
      assert.ok(vars.get('SUMMARY'), `${f}: SUMMARY`);
      assert.ok(vars.get('LICENSE'), `${f}: LICENSE`);
    }
  }
});

test('layer.conf declares the collection and depends on core, raspberrypi and rauc', () => {
  const v = parseBitbake(path.join(LAYER, 'conf/layer.conf'));
  for (const k of ['BBPATH', 'BBFILES', 'BBFILE_COLLECTIONS', 'BBFILE_PATTERN_relais', 'BBFILE_PRIORITY_relais', 'LAYERSERIES_COMPAT_relais']) assert.ok(v.has(k), k);
  assert.deepEqual(v.get('LAYERDEPENDS_relais')!.split(/\s+/), ['core', 'raspberrypi', 'rauc']);
});

test('the relais recipe ships the built JS, production node_modules, the unit, the env file, the D-Bus and polkit rules', () => {
  const file = path.join(LAYER, 'recipes-relais/relais/relais_git.bb');
  const v = parseBitbake(file);
  const text = fs.readFileSync(file, 'utf8');
  assert.match(text, /npm prune --omit=dev/);
  assert.match(text, /cp -RL[^\n]*\$\{S\}\/dist \$\{S\}\/node_modules/);
  assert.equal(v.get('SYSTEMD_SERVICE:${PN}'), 'relais.service');
  for (const src of ['firmware/systemd/relais.service', 'firmware/systemd/relais.env', 'firmware/dbus/relais-rauc.conf', 'firmware/polkit/50-relais-reboot.rules']) {
    assert.ok(text.includes(`\${S}/${src}`), `installs ${src}`);
    assert.ok(fs.existsSync(path.join(PROJECT_ROOT, src)), `${src} exists`);
  }
  assert.ok(v.get('RDEPENDS:${PN}')!.split(/\s+/).includes('rauc'));
});

test('the image has RAUC and the A/B + /data layout; the wks file has boot, two root slots and data', () => {
  const v = parseBitbake(path.join(LAYER, 'recipes-core/images/relais-image.bb'));
  const install = v.get('IMAGE_INSTALL:append')!.split(/\s+/);
  for (const p of ['relais', 'rauc', 'rauc-conf', 'nodejs']) assert.ok(install.includes(p), p);
  assert.ok(v.get('IMAGE_FEATURES')!.includes('read-only-rootfs'));
  assert.equal(v.get('WKS_FILE'), 'relais-dual.wks');
  const wks = fs.readFileSync(path.join(LAYER, 'wic/relais-dual.wks'), 'utf8');
  const labels = [...wks.matchAll(/--label (\S+)/g)].map((m) => m[1]);
  assert.deepEqual(labels, ['boot', 'rootfsA', 'rootfsB', 'data']);
  const bundle = parseBitbake(path.join(LAYER, 'recipes-core/bundles/relais-bundle.bb'));
  assert.equal(bundle.get('RAUC_SLOT_rootfs'), 'relais-image');
});

test('firmware/rauc/system.conf: compatible, keyring, two rootfs slots on partitions 2 and 3 with bootnames A and B', () => {
  const text = fs.readFileSync(path.join(PROJECT_ROOT, 'firmware/rauc/system.conf'), 'utf8');
  const sections = new Map<string, Map<string, string>>();
  let current: Map<string, string> | undefined;
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const sec = /^\[([\w.-]+)\]$/.exec(line);
    if (sec) {
      current = new Map();
      sections.set(sec[1]!, current);
      continue;
    }
    const kv = /^([\w.-]+)=(.*)$/.exec(line);
    assert.ok(kv && current, `system.conf:${i + 1}: ${line}`);
    current.set(kv[1]!, kv[2]!);
  }
  assert.equal(sections.get('system')?.get('compatible'), 'relais-rpi4');
  assert.equal(sections.get('system')?.get('bootloader'), 'uboot');
  assert.ok(sections.get('keyring')?.get('path'));
  assert.deepEqual([sections.get('slot.rootfs.0')?.get('device'), sections.get('slot.rootfs.1')?.get('device')], ['/dev/mmcblk0p2', '/dev/mmcblk0p3']);
  assert.deepEqual([sections.get('slot.rootfs.0')?.get('bootname'), sections.get('slot.rootfs.1')?.get('bootname')], ['A', 'B']);
  assert.ok(![...sections.keys()].some((s) => s.includes('data')), '/data is never a slot');
});

test('the systemd unit is Type=notify with a watchdog; scripts/bundle is valid bash and refuses a missing rootfs', () => {
  const unit = fs.readFileSync(path.join(PROJECT_ROOT, 'firmware/systemd/relais.service'), 'utf8');
  assert.match(unit, /^Type=notify$/m);
  assert.match(unit, /^NotifyAccess=all$/m);
  assert.match(unit, /^WatchdogSec=\d+$/m);
  // The media priorities the service asks for (DEFAULT_WORKER_NICE, --media-realtime's default) without root.
  assert.match(unit, /^LimitNICE=-10$/m);
  assert.match(unit, /^LimitRTPRIO=10$/m);
  const script = path.join(PROJECT_ROOT, 'scripts/bundle');
  assert.equal(spawnSync('bash', ['-n', script]).status, 0);
  const r = spawnSync(script, ['--version', '1.0.0', '--out', '/tmp/x.raucb'], { encoding: 'utf8' });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /--rootfs FILE is required/);
  assert.ok(fs.readFileSync(path.join(PROJECT_ROOT, 'firmware/keys/dev/README.md'), 'utf8').includes('DEVELOPMENT ONLY'));
});
