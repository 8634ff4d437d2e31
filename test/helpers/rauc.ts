// A real RAUC service on a private D-Bus daemon, with file-backed A/B slots and a custom bootloader backend whose
// state lives in files; "rebooting" restarts the service with the booted slot the backend made primary.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT, tempDir } from './relais-process.js';

export const DEV_KEYS = path.join(PROJECT_ROOT, 'firmware/keys/dev');
export const BUNDLE_SCRIPT = path.join(PROJECT_ROOT, 'scripts/bundle');
export const COMPATIBLE = 'relais-test';

// The backend RAUC calls as `backend get-primary | set-primary B | get-state B | set-state B good|bad`.
const BACKEND = `#!/bin/sh
S="$(dirname "$0")/boot"
case "$1" in
  get-primary) cat "$S/primary" ;;
  set-primary) echo "$2" > "$S/primary" ;;
  get-state) cat "$S/state.$2" 2>/dev/null || echo good ;;
  set-state) echo "$3" > "$S/state.$2" ;;
  *) echo "unknown command $1" >&2; exit 1 ;;
esac
`;

export interface RaucFixture {
  dir: string;
  /** D-Bus address of the private bus (RELAIS_RAUC / --rauc). */
  address: string;
  /** The slot RAUC believes is booted (A or B). */
  booted: string;
  /** `rauc status --output-format=json` */
  status(): RaucStatusJson;
  /** The bootloader's state: primary slot and good/bad per bootname. */
  boot(): { primary: string; A: string; B: string };
  /** Simulated reboot: the service restarts on the slot the bootloader would boot (its primary). */
  reboot(): Promise<string>;
  stop(): Promise<void>;
}

export interface RaucStatusJson {
  compatible: string;
  booted: string;
  boot_primary: string;
  slots: Record<string, { state: string; bootname: string; boot_status: string; slot_status?: { bundle?: { version?: string } } }>[];
}

function waitFor(check: () => boolean, what: string, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const t = setInterval(() => {
      if (check()) (clearInterval(t), resolve());
      else if (Date.now() > deadline) (clearInterval(t), reject(new Error(`${what} within ${ms} ms`)));
    }, 50);
  });
}

export function raucAvailable(): string | undefined {
  if (spawnSync('rauc', ['--version']).error) return 'rauc is not installed (scripts/install-peers installs it)';
  if (spawnSync('dbus-daemon', ['--version']).error) return 'dbus-daemon is not installed';
  if (process.getuid?.() !== 0) return 'RAUC mounts bundles through loop devices: the RAUC tests need root';
  return undefined;
}

/** Builds a signed bundle with scripts/bundle (development keys unless key/cert are given). */
export function makeBundle(dir: string, version: string, opts: { compatible?: string; key?: string; cert?: string; size?: number } = {}): string {
  const rootfs = path.join(dir, `rootfs-${version}-${Math.random().toString(16).slice(2, 8)}.img`);
  // The version first (tests read it back from the slot), then random bytes: squashfs cannot shrink them.
  const size = opts.size ?? 256 * 1024;
  fs.writeFileSync(rootfs, Buffer.concat([Buffer.from(version), crypto.randomBytes(size - version.length)]));
  const out = rootfs.replace(/\.img$/, '.raucb');
  const args = ['--rootfs', rootfs, '--version', version, '--out', out, '--compatible', opts.compatible ?? COMPATIBLE];
  if (opts.key) args.push('--key', opts.key, '--cert', opts.cert!);
  const r = spawnSync(BUNDLE_SCRIPT, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`scripts/bundle failed: ${r.stderr}`);
  return out;
}

/** A signing key and certificate from a CA the box does not trust. */
export function foreignKey(dir: string): { key: string; cert: string } {
  const key = path.join(dir, 'foreign.key.pem');
  const cert = path.join(dir, 'foreign.cert.pem');
  const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '30', '-subj', '/O=Somebody Else/CN=Foreign Signing'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl failed: ${r.stderr}`);
  return { key, cert };
}

export async function startRauc(): Promise<RaucFixture> {
  const dir = tempDir('rauc-');
  for (const d of ['slots', 'boot', 'data', 'mnt']) fs.mkdirSync(path.join(dir, d));
  for (const s of ['A', 'B']) fs.writeFileSync(path.join(dir, `slots/rootfs.${s}.img`), Buffer.alloc(512 * 1024));
  fs.writeFileSync(path.join(dir, 'boot/primary'), 'A\n');
  fs.writeFileSync(path.join(dir, 'backend.sh'), BACKEND, { mode: 0o755 });
  fs.writeFileSync(
    path.join(dir, 'system.conf'),
    [
      '[system]',
      `compatible=${COMPATIBLE}`,
      'bootloader=custom',
      `data-directory=${dir}/data`,
      'bundle-formats=plain verity',
      '',
      '[handlers]',
      `bootloader-custom-backend=${dir}/backend.sh`,
      '',
      '[keyring]',
      `path=${DEV_KEYS}/ca.cert.pem`,
      '',
      '[slot.rootfs.0]',
      `device=${dir}/slots/rootfs.A.img`,
      'type=raw',
      'bootname=A',
      '',
      '[slot.rootfs.1]',
      `device=${dir}/slots/rootfs.B.img`,
      'type=raw',
      'bootname=B',
      '',
    ].join('\n'),
  );
  const socket = path.join(dir, 'bus');
  fs.writeFileSync(
    path.join(dir, 'bus.conf'),
    `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN" "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=${socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`,
  );
  const address = `unix:path=${socket}`;
  const bus = spawn('dbus-daemon', ['--nofork', `--config-file=${dir}/bus.conf`], { stdio: 'ignore' });
  await waitFor(() => fs.existsSync(socket), 'the private D-Bus daemon listens');
  // rauc uses the session bus when DBUS_STARTER_BUS_TYPE=session, at DBUS_SESSION_BUS_ADDRESS.
  const env = { ...process.env, DBUS_STARTER_BUS_TYPE: 'session', DBUS_SESSION_BUS_ADDRESS: address };
  let service: ChildProcess | undefined;
  let log = '';
  const rauc = (args: string[]) => spawnSync('rauc', [`--conf=${dir}/system.conf`, ...args], { env, encoding: 'utf8' });
  const fixture: RaucFixture = {
    dir,
    address,
    booted: 'A',
    status() {
      const r = rauc(['status', '--detailed', '--output-format=json']);
      if (r.status !== 0) throw new Error(`rauc status failed: ${r.stderr}\nservice log:\n${log}`);
      return JSON.parse(r.stdout) as RaucStatusJson;
    },
    boot() {
      const read = (f: string, d: string) => (fs.existsSync(path.join(dir, 'boot', f)) ? fs.readFileSync(path.join(dir, 'boot', f), 'utf8').trim() : d);
      return { primary: read('primary', 'A'), A: read('state.A', 'good'), B: read('state.B', 'good') };
    },
    async reboot() {
      await stopService();
      fixture.booted = fixture.boot().primary;
      await startService();
      return fixture.booted;
    },
    async stop() {
      await stopService();
      bus.kill();
    },
  };
  const startService = async (): Promise<void> => {
    log = '';
    service = spawn('rauc', [`--conf=${dir}/system.conf`, `--mount=${dir}/mnt`, 'service', `--override-boot-slot=${fixture.booted}`], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    service.stdout!.on('data', (d: Buffer) => (log += d.toString()));
    service.stderr!.on('data', (d: Buffer) => (log += d.toString()));
    await waitFor(() => rauc(['status']).status === 0 || service!.exitCode !== null, 'the RAUC service answers on the private bus');
    if (service.exitCode !== null) throw new Error(`rauc service exited: ${log}`);
  };
  const stopService = async (): Promise<void> => {
    const s = service;
    service = undefined;
    if (!s || s.exitCode !== null) return;
    const exited = new Promise((r) => s.once('exit', r));
    s.kill('SIGTERM');
    await exited;
  };
  await startService();
  return fixture;
}
