#!/usr/bin/env node
// The `relais` command: serve (default), and the site / user / backup commands.
import fs from 'node:fs';
import path from 'node:path';
import { loadConfig, parseCommandLine, CONFIG_HELP, ConfigError, RelaisError, SystemClock, errorMessage, parseNetwork, silentLogger, type Clock, type CommandFlags, type Config } from './shared/index.js';
import { Store } from './storage/index.js';
import { Directory, SettingsRepository, generateSecret } from './directory/index.js';
import { importSiteText, exportSiteText, bootstrapSite, parseSiteFile, keptAdmins, REALM_SETTING } from './site/index.js';
import { createBackup, restoreBackup } from './backup/index.js';
import { BanRepository } from './sip/auth/ban-repository.js';
import { BindingStore } from './sip/registrar/binding-store.js';
import { CalendarRepository, NoQueues, ScenarioInterpreter, SiteCalendar, directorySource, onlineCheck, simulate, type SimulateResult } from './scenario/index.js';
import { BlocklistRepository } from './scenario/inbox/index.js';

/**
 * The one time source of every command (STYLE: injected clock): ban times, the simulator's "now", import and backup
 * dates. Commands are short processes on the real box, so it is the system clock.
 */
const cliClock: Clock = new SystemClock();

const USAGE = `usage: relais <command> [arguments] [options]

commands:
  serve                         run the appliance in the foreground (default)
  import FILE [--check]         apply a site file (YAML) in one transaction: all or nothing
                                (--check: validate only, change nothing)
  export [FILE]                 write the current site as a site file (stdout without FILE)
  user add NAME [--admin] [--password P]
                                add a user (a generated password is printed when none is given)
  user passwd NAME [--password P]
                                set a user's password (generated and printed when none is given;
                                --password - reads it from the first line of stdin)
  user list                     list users, roles, rights and extensions
  bans list                     SIP address bans and extension locks in force (reason, time left)
  bans lift ADDRESS [--user NAME]
                                lift the ban of ADDRESS and the extension locks there
                                (--user: only that extension's lock); a running Relais applies it
                                within 2 s
  simulate --number DID [--from CALLER] [--at TIME] [--digits 1,2] [--online USER,... | --nobody-online] [--no-answer] [--json]
                                run a pretend call to a number through the scenario interpreter and
                                print the path it takes (TIME: YYYY-MM-DDTHH:MM site time, or ISO with Z)
  backup FILE                   write database, sounds, recordings and voicemail to FILE (tar.gz)
  restore FILE                  verify FILE completely, then replace the data with it (stop Relais first)
  help                          this text

options (every command; each also an environment variable):
${CONFIG_HELP}
`;

/** A command's positional arguments, its own flags, and the configuration from the other flags and the environment. */
interface Parsed {
  positional: string[];
  flags: Map<string, string | true>;
  config: Config;
}

/** util.parseArgs (strict) through parseCommandLine: the command's flags plus every configuration flag. */
function parse(argv: readonly string[], commandFlags: CommandFlags): Parsed {
  const { values, positionals } = parseCommandLine(argv, commandFlags, { positionals: true });
  const flags = new Map<string, string | true>();
  const rest: string[] = [];
  for (const [name, v] of Object.entries(values)) {
    if (v === undefined || v === false) continue;
    if (name in commandFlags) flags.set(name, v);
    else if (typeof v === 'string') rest.push(name, v);
  }
  const config = loadConfig(rest);
  // A shell on the box has no RELAIS_DOMAIN: keep the realm the service uses rather than rehash every
  // SIP credential to the default domain (bootstrapSite recomputes HA1 when the domain changes).
  const explicitDomain = values['--domain'] !== undefined || Boolean(process.env.RELAIS_DOMAIN);
  if (!explicitDomain) config.domain = storedRealm(config.dataDir) ?? config.domain;
  return { positional: positionals, flags, config };
}

function storedRealm(dataDir: string): string | undefined {
  const file = path.join(dataDir, 'relais.db');
  if (!fs.existsSync(file)) return undefined;
  try {
    return withStore({ dataDir }, (store) => new SettingsRepository(store.db).get(REALM_SETTING), { readonly: true });
  } catch {
    return undefined;
  }
}

function expectArgs(p: Parsed, n: { min: number; max: number }, usage: string): void {
  if (p.positional.length < n.min || p.positional.length > n.max) throw new ConfigError(`usage: relais ${usage}`);
}

function out(line: string): void {
  process.stdout.write(`${line}\n`);
}

const PID_FILE = 'relais.pid';

/** The pid of a Relais serving this data dir, if one is running. */
function runningPid(dataDir: string): number | undefined {
  try {
    const pid = Number(fs.readFileSync(path.join(dataDir, PID_FILE), 'utf8').trim());
    if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return undefined;
    process.kill(pid, 0);
    return pid;
  } catch {
    return undefined;
  }
}

/** Opens the store of the data dir (migrating it) with the directory, as serve would, without starting anything. */
function openData(config: Config, opts: { applyDefaultSite?: boolean; print?: (line: string) => void } = {}): { store: Store; dir: Directory } {
  const store = Store.open(path.join(config.dataDir, 'relais.db'));
  try {
    // Same first-start rules as serve (default site, first admin, realm), printing what serve would print.
    const { directory } = bootstrapSite(store, config, { log: silentLogger, print: opts.print ?? out, applySite: opts.applyDefaultSite ?? true, clock: cliClock });
    return { store, dir: directory };
  } catch (err) {
    store.close();
    throw err;
  }
}

function withStore<T>(config: Pick<Config, 'dataDir'>, fn: (store: Store) => T, opts: { readonly?: boolean } = {}): T {
  const store = Store.open(path.join(config.dataDir, 'relais.db'), opts);
  try {
    return fn(store);
  } finally {
    store.close();
  }
}

async function serve(argv: string[]): Promise<void> {
  const config = loadConfig(argv);
  // Loaded only to serve: the data commands start fast and need none of the SIP/media stack.
  const { Relais } = await import('./main.js');
  let stopping = false;
  const pidFile = path.join(config.dataDir, PID_FILE);
  // A factory reset (board button) restarts Relais inside this process: stop, then start anew on the same settings.
  const restart = (reason: string): void => {
    if (stopping) return;
    relais.log.warn('restarting', { reason });
    const old = relais;
    void old
      .stop()
      .then(async () => {
        relais = new Relais(config, { restart });
        await relais.start();
        fs.writeFileSync(pidFile, `${process.pid}\n`);
      })
      .catch((err: unknown) => {
        old.log.error('restart failed', { error: errorMessage(err) });
        process.exit(1);
      });
  };
  let relais = new Relais(config, { restart });
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    relais.log.info('stopping', { signal });
    const force = setTimeout(() => {
      relais.log.error('stop took longer than 5 s; exiting');
      process.exit(1);
    }, 5000);
    force.unref();
    void relais.stop().then(() => {
      fs.rmSync(pidFile, { force: true });
      process.exit(0);
    });
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  await relais.start();
  fs.writeFileSync(pidFile, `${process.pid}\n`);
}

function importCmd(argv: string[]): void {
  const p = parse(argv, { '--check': 'switch' });
  expectArgs(p, { min: 1, max: 1 }, 'import FILE [--check] [options]');
  const file = p.positional[0]!;
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new RelaisError('site.unreadable', `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? errorMessage(err)}`);
  }
  if (p.flags.has('--check')) {
    // Validation only: the same checks as an import (administrators of this data dir count as defined users).
    const admins = fs.existsSync(path.join(p.config.dataDir, 'relais.db')) ? withStore(p.config, (store) => keptAdmins(new Directory(store.db, p.config.domain))) : [];
    const site = parseSiteFile(text, { source: file, extraUsers: admins });
    out(`${file} is valid: ${site.users.length} users, ${site.extensions.length} extensions, ${site.numbers.length} numbers, ${site.trunks.length} trunks, ${site.queues.length} queues, ${site.scenarios.length} scenarios, ${site.sounds.length} sounds, ${site.phones.length} phones (nothing applied)`);
    return;
  }
  // The file replaces the site: no point applying the default site to an empty store first.
  const { store } = openData(p.config, { applyDefaultSite: false });
  try {
    const s = importSiteText(store, p.config.domain, text, file, cliClock);
    out(`imported ${file}: ${s.users} users, ${s.extensions} extensions, ${s.numbers} numbers, ${s.trunks} trunks, ${s.queues} queues, ${s.scenarios} scenarios, ${s.sounds} sounds, ${s.phones} phones`);
    const gen = Object.keys(s.generatedSecrets);
    if (gen.length) out(`generated SIP secrets for extensions ${gen.join(', ')} (see them with relais export)`);
    // A site file names sounds; the audio is uploaded separately. Say which are still missing.
    for (const snd of new Directory(store.db, p.config.domain).sounds.list()) {
      if (!fs.existsSync(path.join(p.config.dataDir, 'sounds', snd.file))) out(`note: sound "${snd.name}" has no audio yet: upload it in the console or copy it to ${path.join(p.config.dataDir, 'sounds', snd.file)}`);
    }
    if (runningPid(p.config.dataDir)) out('note: Relais is running on this data dir: it applies the new site to its next calls (no restart needed)');
  } finally {
    store.close();
  }
}

function exportCmd(argv: string[]): void {
  const p = parse(argv, {});
  expectArgs(p, { min: 0, max: 1 }, 'export [FILE] [options]');
  // stdout may be the site file itself: one-time lines go to stderr.
  const { store } = openData(p.config, { print: (line) => process.stderr.write(`${line}\n`) });
  try {
    const text = exportSiteText(store, p.config.domain);
    const file = p.positional[0];
    if (file === undefined || file === '-') process.stdout.write(text);
    else {
      fs.writeFileSync(`${file}.partial`, text, { mode: 0o600 });
      fs.renameSync(`${file}.partial`, file);
      process.stderr.write(`exported the site to ${file}\n`);
    }
  } finally {
    store.close();
  }
}

function readPassword(p: Parsed): { password: string; generated: boolean } {
  const given = p.flags.get('--password');
  if (given === undefined || given === true) return { password: generateSecret(16), generated: true };
  if (given === '-') {
    const line = fs.readFileSync(0, 'utf8').split(/\r?\n/)[0] ?? '';
    return { password: line, generated: false };
  }
  return { password: given, generated: false };
}

function userCmd(argv: string[]): void {
  const [sub, ...rest] = argv;
  if (sub === 'add') {
    const p = parse(rest, { '--admin': 'switch', '--password': 'value', '--name': 'value' });
    expectArgs(p, { min: 1, max: 1 }, 'user add NAME [--admin] [--password P] [--name "Full Name"]');
    const { password, generated } = readPassword(p);
    const { store, dir } = openData(p.config);
    try {
      const name = p.flags.get('--name');
      const u = dir.users.create({ username: p.positional[0]!, role: p.flags.has('--admin') ? 'admin' : 'user', password, ...(typeof name === 'string' ? { name } : {}) });
      out(`user "${u.username}" added (${u.role})`);
      if (generated) out(`password for user "${u.username}": ${password}`);
    } finally {
      store.close();
    }
  } else if (sub === 'passwd') {
    const p = parse(rest, { '--password': 'value' });
    expectArgs(p, { min: 1, max: 1 }, 'user passwd NAME [--password P|-]');
    const { password, generated } = readPassword(p);
    const { store, dir } = openData(p.config);
    try {
      const u = dir.users.findByUsername(p.positional[0]!);
      if (!u) throw new RelaisError('user.not_found', `user "${p.positional[0]!}" does not exist (relais user list shows who does)`);
      dir.users.setPassword(u.id, password);
      out(`password of user "${u.username}" changed`);
      if (generated) out(`password for user "${u.username}": ${password}`);
    } finally {
      store.close();
    }
  } else if (sub === 'list') {
    const p = parse(rest, {});
    expectArgs(p, { min: 0, max: 0 }, 'user list [options]');
    const { store, dir } = openData(p.config);
    try {
      const rows = dir.users.list().map((u) => [
        u.username,
        u.role,
        u.hasPassword ? 'yes' : 'no',
        dir.extensions.listByUser(u.id).map((e) => e.number).join(',') || '-',
        u.rights.join(',') || '-',
        u.name,
      ]);
      const head = ['USER', 'ROLE', 'PASSWORD', 'EXTENSIONS', 'RIGHTS', 'NAME'];
      const width = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
      for (const r of [head, ...rows]) out(r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(width[i]!))).join('  ').trimEnd());
    } finally {
      store.close();
    }
  } else {
    throw new ConfigError(`usage: relais user add|passwd|list ... (unknown "${sub ?? ''}")`);
  }
}

function bansCmd(argv: string[]): void {
  const [sub, ...rest] = argv;
  if (sub === 'list') {
    const p = parse(rest, {});
    expectArgs(p, { min: 0, max: 0 }, 'bans list [options]');
    withStore(p.config, (store) => {
      const now = cliClock.now();
      const rows = new BanRepository(store.db).active(now).map((b) => [
        b.address,
        b.kind === 'extension' ? `extension ${b.user ?? ''}` : 'address',
        b.reason,
        String(b.offence),
        `${Math.ceil((b.until - now) / 1000)} s`,
      ]);
      if (rows.length === 0) return out('no bans');
      const head = ['ADDRESS', 'WHAT', 'REASON', 'OFFENCE', 'LEFT'];
      const width = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
      for (const r of [head, ...rows]) out(r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(width[i]!))).join('  ').trimEnd());
    });
  } else if (sub === 'lift') {
    const p = parse(rest, { '--user': 'value' });
    expectArgs(p, { min: 1, max: 1 }, 'bans lift ADDRESS [--user NAME] [options]');
    const net = parseNetwork(p.positional[0]!);
    if (!net || net.prefix !== (net.family === 'ipv4' ? 32 : 128)) throw new ConfigError(`"${p.positional[0]!}" is not an IP address`);
    const user = p.flags.get('--user');
    withStore(p.config, (store) => {
      const repo = new BanRepository(store.db);
      const n = repo.remove(net.address, typeof user === 'string' ? user : undefined);
      if (n === 0) throw new RelaisError('ban.not_found', `${net.address}${typeof user === 'string' ? ` (extension ${user})` : ''} is not banned`);
      repo.addEvent({ at: cliClock.now(), type: 'sip.lifted', address: net.address, user: typeof user === 'string' ? user : undefined, detail: { by: 'cli' } });
      out(`lifted ${n} ban${n === 1 ? '' : 's'} of ${net.address}${runningPid(p.config.dataDir) ? ' (the running Relais applies it within 2 s)' : ''}`);
    });
  } else {
    throw new ConfigError(`usage: relais bans list|lift ADDRESS ... (unknown "${sub ?? ''}")`);
  }
}

async function backupCmd(argv: string[]): Promise<void> {
  const p = parse(argv, {});
  expectArgs(p, { min: 1, max: 1 }, 'backup FILE [options]');
  const r = await createBackup(p.config.dataDir, p.positional[0]!, cliClock);
  const n = Object.keys(r.manifest.files).length;
  out(`backup written to ${r.file}: ${n} files, ${r.bytes} bytes, schema ${r.manifest.schemaVersion}`);
}

async function restoreCmd(argv: string[]): Promise<void> {
  const p = parse(argv, {});
  expectArgs(p, { min: 1, max: 1 }, 'restore FILE [options]');
  const pid = runningPid(p.config.dataDir);
  if (pid) throw new RelaisError('backup.running', `Relais is running on ${p.config.dataDir} (pid ${pid}); stop it before restoring`);
  const r = await restoreBackup(p.config.dataDir, p.positional[0]!);
  const upgraded = r.schemaVersion !== r.manifest.schemaVersion ? ` (schema upgraded from ${r.manifest.schemaVersion} to ${r.schemaVersion})` : '';
  out(`restored ${p.positional[0]!} from ${r.manifest.createdAt} into ${p.config.dataDir}${upgraded}`);
}

/** How one step reads in the terminal: its type, its own fields, then what happened. */
function describeStep(st: Record<string, unknown>): string {
  const { type, skipped, reason, result, ...rest } = st;
  const fields = Object.entries(rest)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
  const tail = skipped ? ` — skipped (${String(reason)})` : `${result !== undefined ? ` → ${String(result)}` : ''}${reason !== undefined ? ` (${String(reason)})` : ''}`;
  return `${String(type)}${fields ? ` ${fields}` : ''}${tail}`;
}

async function simulateCmd(argv: string[]): Promise<void> {
  const p = parse(argv, { '--number': 'value', '--from': 'value', '--at': 'value', '--digits': 'value', '--online': 'value', '--nobody-online': 'switch', '--no-answer': 'switch', '--json': 'switch' });
  expectArgs(p, { min: 0, max: 0 }, 'simulate --number DID [--from CALLER] [--at TIME] [--digits 1,2] [--online USER,... | --nobody-online] [--no-answer] [--json]');
  const flag = (name: string): string | undefined => {
    const v = p.flags.get(name);
    return typeof v === 'string' ? v : undefined;
  };
  const number = flag('--number');
  if (!number) throw new ConfigError('simulate needs --number DID', '--number');
  if (p.flags.has('--nobody-online') && flag('--online') !== undefined) throw new ConfigError('give --online USER,... or --nobody-online, not both', '--nobody-online');
  const listOf = (v: string | undefined): string[] | undefined => (v === undefined ? undefined : v.split(',').map((x) => x.trim()).filter((x) => x !== ''));
  const digits = listOf(flag('--digits'));
  for (const d of digits ?? []) if (!/^[0-9*#]{1,32}$/.test(d)) throw new ConfigError(`--digits: "${d}" is not 1-32 of 0-9 * #`, '--digits');
  // The same interpreter as live calls, on the box's data; "online now" is what the registrar last stored.
  // The store stays open across the awaits of the run (withStore closes at once).
  const store = Store.open(path.join(p.config.dataDir, 'relais.db'), { readonly: true });
  let result: SimulateResult;
  try {
    result = await (async (): Promise<SimulateResult> => {
      const dir = new Directory(store.db, p.config.domain, () => cliClock.now());
      const calendar = new SiteCalendar(new CalendarRepository(store.db), cliClock);
      const registered = BindingStore.registeredNumbers(store.db, cliClock.now());
      const interpreter = new ScenarioInterpreter({
        source: directorySource(dir),
        conditions: calendar,
        queues: new NoQueues(),
        isOnline: onlineCheck(dir, (n) => registered.has(n)),
        screen: new BlocklistRepository(store.db, () => cliClock.now()),
        logger: silentLogger,
      });
      return simulate(
        { dir, interpreter, onlineNow: onlineCheck(dir, (n) => registered.has(n)), timeZone: () => calendar.timeZone(), now: () => cliClock.now() },
        { number, from: flag('--from'), at: flag('--at'), digits, online: p.flags.has('--nobody-online') ? [] : listOf(flag('--online')), noAnswer: p.flags.has('--no-answer') },
      );
    })();
  } finally {
    store.close();
  }
  if (p.flags.has('--json')) {
    out(JSON.stringify(result, null, 2));
    return;
  }
  out(`call to ${result.number} from ${result.from} at ${result.at} (online: ${result.online.join(', ') || 'nobody'})`);
  result.path.forEach((st, i) => out(`${String(i + 1).padStart(2)}. ${describeStep(st)}`));
  if (Object.keys(result.variables).length > 0) out(`collected: ${Object.entries(result.variables).map(([k, v]) => `${k}=${v}`).join(' ')}`);
  out(`outcome: ${result.outcome}`);
}

async function main(): Promise<void> {
  const [command = 'serve', ...rest] = process.argv.slice(2);
  switch (command) {
    case 'serve':
      return serve(rest);
    case 'import':
      return importCmd(rest);
    case 'export':
      return exportCmd(rest);
    case 'user':
      return userCmd(rest);
    case 'bans':
      return bansCmd(rest);
    case 'simulate':
      return simulateCmd(rest);
    case 'backup':
      return backupCmd(rest);
    case 'restore':
      return restoreCmd(rest);
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return;
    default:
      if (command.startsWith('--')) return serve([command, ...rest]);
      throw new ConfigError(`unknown command "${command}"\n${USAGE}`);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`relais: ${errorMessage(err)}\n`);
  process.exit(err instanceof ConfigError ? 2 : 1);
});
