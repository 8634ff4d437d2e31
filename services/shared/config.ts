// Runtime configuration: flags override environment variables override defaults; every value validated.
import { parseArgs } from 'node:util';
import path from 'node:path';
import { ConfigError } from './errors.js';
import { LOG_LEVELS, type LogLevel } from './logger.js';
import { parseNetwork } from './network.js';

export type MediaBackend = 'builtin' | 'rtpengine';

export interface Config {
  bind: string;
  sipPort: number;
  httpPort: number;
  /** Console and phone provisioning over HTTPS with the box's certificate; undefined = off, 0 = any free port. */
  httpsPort: number | undefined;
  /** SIP over TLS with the box's certificate (default 5061); undefined = off, 0 = any free port. */
  sipTlsPort: number | undefined;
  /** Read-only TFTP for phones' config files; undefined = off, 0 = any free port. */
  tftpPort: number | undefined;
  rtpPortMin: number;
  rtpPortMax: number;
  dataDir: string;
  logLevel: LogLevel;
  media: MediaBackend;
  rtpengine: { host: string; port: number };
  domain: string;
  adminPassword: string | undefined;
  /** Site file applied on first start when the store is empty (undefined = embedded default site). */
  siteFile: string | undefined;
  /** Call-control timeouts and recording (tests make them short). */
  calls: CallSettings;
  /** rtpengine backend settings beyond its ng address (used with --media rtpengine). */
  rtpengineMedia: RtpengineMediaSettings;
  /** Password-guessing protection: --sip-ban-after failures within a minute ban an address (0 = off) for --sip-ban-minutes. */
  sipBan: SipBanSettings;
  /** SIP messages per second a source may send before parsing (registered phones 10x); 0 = no flood control. */
  sipFloodRate: number;
  /** UDP sends from a second thread when a turn has many datagrams (--sip-send-thread on|off, default off). */
  udpSendThread: boolean;
  /** The built-in media engine hands bridged legs that only relay to its native forwarder (--media-fast-path on|off, default on). */
  mediaFastPath: boolean;
  /** SCHED_FIFO priority of the fast path's forwarding threads when allowed (--media-realtime 0-99, default 10; 0 = none). */
  mediaRealtime: number;
  /** The board and its firmware updates (docs/appliance.md, docs/firmware.md). */
  appliance: ApplianceSettings;
  /** Host names the console answers to besides addresses, localhost, the box's name and the domain (DNS rebinding). */
  httpHosts: string[];
}

/** Password-guessing and scanner protection (docs/security.md). */
export interface SipBanSettings {
  /** Failures within a minute that ban an outside address (0 = protection off). */
  maxFailures: number;
  /** First ban length; each repeat doubles it. */
  banMinutes: number;
  /** Addresses/networks with the higher threshold; undefined = the box's LAN subnets. */
  allowList: string[] | undefined;
  /** Their threshold (default 5 × maxFailures). */
  allowedMaxFailures: number | undefined;
}

/** --board, --rauc, --reboot-command, --update-confirm-seconds, --firmware-version. */
export interface ApplianceSettings {
  /** Which board definition drives the LEDs and the button; auto reads the device tree, else the simulated board. */
  board: 'auto' | 'rpi4' | 'cm4-hat' | 'sim';
  /** Where RAUC's D-Bus service is: off (no update agent), system (the system bus), or a D-Bus address. */
  rauc: 'off' | 'system' | { address: string };
  /** Command that reboots the box into the other slot (split on spaces; no shell). */
  rebootCommand: string[];
  /** After an update, the health check must pass within this long or the slot is marked bad and the box reboots back. */
  updateConfirmMs: number;
  /** The running firmware's version when RAUC does not know it (a factory-flashed slot); default: package version. */
  firmwareVersion: string | undefined;
}

/** Call-control knobs: --ring-timeout, --rtp-timeout, --record-calls, --vm-silence, --vm-max. */
export interface CallSettings {
  /** How long contacts ring before voicemail / 480 (default 20 000 ms). */
  ringTimeoutMs: number;
  /** No RTP for this long ends a call (undefined: the media engine's default, 30 s). */
  rtpTimeoutMs: number | undefined;
  /** 'all' records every answered call; 'numbers' (default) only numbers with record on. */
  record: 'all' | 'numbers';
  /** Voicemail recording stops after this much silence (default 5000 ms). */
  voicemailSilenceMs: number;
  /** Longest voicemail message (default 120 000 ms). */
  voicemailMaxMs: number;
}

/** --rtpengine-dtmf, --rtpengine-recording-dir, --rtpengine-inject-dtmf. */
export interface RtpengineMediaSettings {
  /** Where Relais listens for rtpengine's DTMF log (--dtmf-log-dest); false = off. Default: ng port + 1 on 127.0.0.1. */
  dtmfListen: { host: string; port: number } | false;
  /** rtpengine's --recording-dir (pcap method); undefined = recording unsupported. */
  recordingDir: string | undefined;
  /** RFC 4733 sending through rtpengine (costs rtpengine CPU on every call). */
  injectDtmf: boolean;
}

interface OptionSpec {
  flag: string;
  env: string;
  key: string;
}

const OPTIONS: OptionSpec[] = [
  { flag: '--bind', env: 'RELAIS_BIND', key: 'bind' },
  { flag: '--sip-port', env: 'RELAIS_SIP_PORT', key: 'sipPort' },
  { flag: '--http-port', env: 'RELAIS_HTTP_PORT', key: 'httpPort' },
  { flag: '--https-port', env: 'RELAIS_HTTPS_PORT', key: 'httpsPort' },
  { flag: '--sip-tls-port', env: 'RELAIS_SIP_TLS_PORT', key: 'sipTlsPort' },
  { flag: '--tftp-port', env: 'RELAIS_TFTP_PORT', key: 'tftpPort' },
  { flag: '--rtp-ports', env: 'RELAIS_RTP_PORTS', key: 'rtpPorts' },
  { flag: '--data-dir', env: 'RELAIS_DATA_DIR', key: 'dataDir' },
  { flag: '--log-level', env: 'RELAIS_LOG_LEVEL', key: 'logLevel' },
  { flag: '--media', env: 'RELAIS_MEDIA', key: 'media' },
  { flag: '--rtpengine', env: 'RELAIS_RTPENGINE', key: 'rtpengine' },
  { flag: '--domain', env: 'RELAIS_DOMAIN', key: 'domain' },
  { flag: '--site', env: 'RELAIS_SITE', key: 'site' },
  { flag: '--ring-timeout', env: 'RELAIS_RING_TIMEOUT_MS', key: 'ringTimeout' },
  { flag: '--rtp-timeout', env: 'RELAIS_RTP_TIMEOUT_MS', key: 'rtpTimeout' },
  { flag: '--record-calls', env: 'RELAIS_RECORD_CALLS', key: 'recordCalls' },
  { flag: '--vm-silence', env: 'RELAIS_VM_SILENCE_MS', key: 'vmSilence' },
  { flag: '--vm-max', env: 'RELAIS_VM_MAX_MS', key: 'vmMax' },
  { flag: '--rtpengine-dtmf', env: 'RELAIS_RTPENGINE_DTMF', key: 'rtpengineDtmf' },
  { flag: '--rtpengine-recording-dir', env: 'RELAIS_RTPENGINE_RECORDING_DIR', key: 'rtpengineRecordingDir' },
  { flag: '--rtpengine-inject-dtmf', env: 'RELAIS_RTPENGINE_INJECT_DTMF', key: 'rtpengineInjectDtmf' },
  { flag: '--sip-ban-after', env: 'RELAIS_SIP_BAN_AFTER', key: 'sipBanAfter' },
  { flag: '--sip-ban-minutes', env: 'RELAIS_SIP_BAN_MINUTES', key: 'sipBanMinutes' },
  { flag: '--sip-allow', env: 'RELAIS_SIP_ALLOW', key: 'sipAllow' },
  { flag: '--sip-flood-rate', env: 'RELAIS_SIP_FLOOD_RATE', key: 'sipFloodRate' },
  { flag: '--sip-send-thread', env: 'RELAIS_SIP_SEND_THREAD', key: 'sipSendThread' },
  { flag: '--media-fast-path', env: 'RELAIS_MEDIA_FAST_PATH', key: 'mediaFastPath' },
  { flag: '--media-realtime', env: 'RELAIS_MEDIA_REALTIME', key: 'mediaRealtime' },
  { flag: '--http-hosts', env: 'RELAIS_HTTP_HOSTS', key: 'httpHosts' },
  { flag: '--sip-allow-ban-after', env: 'RELAIS_SIP_ALLOW_BAN_AFTER', key: 'sipAllowBanAfter' },
  { flag: '--board', env: 'RELAIS_BOARD', key: 'board' },
  { flag: '--rauc', env: 'RELAIS_RAUC', key: 'rauc' },
  { flag: '--reboot-command', env: 'RELAIS_REBOOT_COMMAND', key: 'rebootCommand' },
  { flag: '--update-confirm-seconds', env: 'RELAIS_UPDATE_CONFIRM_SECONDS', key: 'updateConfirmSeconds' },
  { flag: '--firmware-version', env: 'RELAIS_FIRMWARE_VERSION', key: 'firmwareVersion' },
];

/** The configuration's command-line flags ('--sip-port', …): every `relais` command accepts them. */
export const CONFIG_FLAGS: readonly string[] = OPTIONS.map((o) => o.flag);

/** A command's own flags: 'value' takes an argument (`--name X` or `--name=X`), 'switch' takes none. */
export type CommandFlags = Record<string, 'value' | 'switch'>;

/**
 * node:util parseArgs (strict) over the configuration flags plus `commandFlags`, with this project's errors
 * (ConfigError naming the flag, exit status 2). Values are keyed by flag ('--sip-port'). A flag's value may start
 * with a dash (`--password -` reads stdin, `--rtp-timeout -1` is refused by its check, not by the parser).
 */
export function parseCommandLine(
  argv: readonly string[],
  commandFlags: CommandFlags,
  opts: { positionals: boolean },
): { values: Record<string, string | boolean | undefined>; positionals: string[] } {
  const kinds = new Map<string, 'value' | 'switch'>([...CONFIG_FLAGS.map((f) => [f, 'value'] as const), ...Object.entries(commandFlags)]);
  // parseArgs refuses `--flag -x` as ambiguous: join a value flag and its argument first (`--flag=-x`).
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (kinds.get(arg) === 'value') {
      const v = argv[i + 1];
      // A command's own flag may be given empty (`simulate --online ''`: nobody); a configuration flag may not.
      if (v === undefined || (v === '' && !(arg in commandFlags))) throw new ConfigError(`${arg} needs a value`, arg);
      args.push(`${arg}=${v}`);
      i++;
    } else args.push(arg);
  }
  const options = Object.fromEntries([...kinds].map(([flag, kind]) => [flag.slice(2), { type: kind === 'value' ? ('string' as const) : ('boolean' as const) }]));
  let parsed: { values: Record<string, string | boolean | undefined>; positionals: string[] };
  try {
    parsed = parseArgs({ args, options, strict: true, allowPositionals: opts.positionals }) as typeof parsed;
  } catch (err) {
    const code = (err as { code?: string }).code;
    const flag = /'(-[^' ]+)/.exec(err instanceof Error ? err.message : '')?.[1] ?? '';
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') throw new ConfigError(`unknown option "${flag}"; known options:\n${CONFIG_HELP}`, flag);
    if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') throw new ConfigError(`unexpected argument "${/'([^']*)'/.exec((err as Error).message)?.[1] ?? ''}"`);
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      throw new ConfigError(kinds.get(flag) === 'switch' ? `${flag} takes no value` : `${flag} needs a value`, flag);
    }
    throw new ConfigError(err instanceof Error ? err.message : String(err));
  }
  const values: Record<string, string | boolean | undefined> = {};
  for (const [name, v] of Object.entries(parsed.values)) {
    if (v === '' && !(`--${name}` in commandFlags)) throw new ConfigError(`--${name} needs a value`, `--${name}`);
    values[`--${name}`] = v;
  }
  return { values, positionals: parsed.positionals };
}

export const CONFIG_HELP = OPTIONS.map((o) => `  ${o.flag.padEnd(26)} (env ${o.env})`).join('\n');

function parseMs(value: string, name: string, min: number): number {
  if (!/^\d+$/.test(value) || Number(value) < min) throw new ConfigError(`${name}: "${value}" must be a number of milliseconds, at least ${min}`, name);
  return Number(value);
}

const TRUE_WORDS = ['1', 'true', 'yes', 'on'];
const FALSE_WORDS = ['0', 'false', 'no', 'off'];

function parseBoolean(value: string, name: string): boolean {
  if (TRUE_WORDS.includes(value)) return true;
  if (FALSE_WORDS.includes(value)) return false;
  throw new ConfigError(`${name}: "${value}" must be 1 or 0 (also true/false, yes/no, on/off)`, name);
}

function parsePort(value: string, name: string): number {
  if (!/^\d+$/.test(value)) throw new ConfigError(`${name}: "${value}" is not a port number (1-65535)`, name);
  const n = Number(value);
  if (n < 1 || n > 65535) throw new ConfigError(`${name}: ${n} is out of range (1-65535)`, name);
  return n;
}

/** A port, 0 for any free port, or "off". */
function parseOptionalPort(value: string, name: string): number | undefined {
  if (value === 'off') return undefined;
  if (value === '0') return 0;
  if (!/^\d+$/.test(value)) throw new ConfigError(`${name}: "${value}" is not a port number (1-65535, 0 for any free port, or off)`, name);
  return parsePort(value, name);
}

function parseHostPort(value: string, name: string): { host: string; port: number } {
  const m = /^(.+):(\d+)$/.exec(value);
  if (!m) throw new ConfigError(`${name}: "${value}" must be HOST:PORT, e.g. 127.0.0.1:22222`, name);
  return { host: m[1]!, port: parsePort(m[2]!, name) };
}

function parseIPv4(value: string, name: string): string {
  const parts = value.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) {
    throw new ConfigError(`${name}: "${value}" is not an IPv4 address (e.g. 0.0.0.0 or 127.0.0.1)`, name);
  }
  return value;
}

/**
 * SCHED_FIFO priority of the media fast path's forwarding thread: 10 by default, so a packet is forwarded at once
 * instead of after whatever else holds the core (half the added p50 latency, and a third to a tenth of the p99 on a
 * busy box; docs/media.md, "Thread priorities"; docs/performance.md, "Session 8").
 */
export const DEFAULT_MEDIA_REALTIME = 10;

/**
 * Reads configuration from command-line arguments (`--flag value` or `--flag=value`) and the environment.
 * Unknown flags and wrong values throw ConfigError naming the flag and what is wrong.
 */
export function loadConfig(argv: readonly string[], env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Config {
  const raw = new Map<string, { value: string; name: string }>();
  for (const o of OPTIONS) {
    const v = env[o.env];
    if (v !== undefined && v !== '') raw.set(o.key, { value: v, name: o.env });
  }
  const { values } = parseCommandLine(argv, {}, { positionals: false });
  for (const o of OPTIONS) {
    const v = values[o.flag];
    if (typeof v === 'string') raw.set(o.key, { value: v, name: o.flag });
  }

  const get = (key: string): { value: string; name: string } | undefined => raw.get(key);

  const bind = get('bind') ? parseIPv4(get('bind')!.value, get('bind')!.name) : '0.0.0.0';
  const sipPort = get('sipPort') ? parsePort(get('sipPort')!.value, get('sipPort')!.name) : 5060;
  const httpPort = get('httpPort') ? parsePort(get('httpPort')!.value, get('httpPort')!.name) : 8080;

  let rtpPortMin = 10000;
  let rtpPortMax = 20000;
  const rtp = get('rtpPorts');
  if (rtp) {
    const m = /^(\d+)-(\d+)$/.exec(rtp.value);
    if (!m) throw new ConfigError(`${rtp.name}: "${rtp.value}" must be a range MIN-MAX, e.g. 10000-20000`, rtp.name);
    rtpPortMin = parsePort(m[1]!, rtp.name);
    rtpPortMax = parsePort(m[2]!, rtp.name);
    if (rtpPortMin >= rtpPortMax) throw new ConfigError(`${rtp.name}: minimum ${rtpPortMin} must be below maximum ${rtpPortMax}`, rtp.name);
    if (rtpPortMax - rtpPortMin < 3) throw new ConfigError(`${rtp.name}: range ${rtp.value} holds no RTP/RTCP port pair`, rtp.name);
  }
  if (rtpPortMin <= sipPort && sipPort <= rtpPortMax) {
    throw new ConfigError(`SIP port ${sipPort} lies inside the RTP range ${rtpPortMin}-${rtpPortMax}`, '--rtp-ports');
  }
  if (httpPort === sipPort) throw new ConfigError(`HTTP port and SIP port are both ${sipPort}`, '--http-port');
  const hs = get('httpsPort');
  const httpsPort = hs ? parseOptionalPort(hs.value, hs.name) : 8443;
  if (httpsPort !== undefined && httpsPort !== 0 && (httpsPort === httpPort || httpsPort === sipPort)) {
    throw new ConfigError(`HTTPS port ${httpsPort} is already the ${httpsPort === httpPort ? 'HTTP' : 'SIP'} port`, '--https-port');
  }
  const st = get('sipTlsPort');
  const sipTlsPort = st ? parseOptionalPort(st.value, st.name) : 5061;
  if (sipTlsPort !== undefined && sipTlsPort !== 0 && [sipPort, httpPort, httpsPort].includes(sipTlsPort)) {
    throw new ConfigError(`SIP TLS port ${sipTlsPort} is already the ${sipTlsPort === sipPort ? 'SIP' : sipTlsPort === httpPort ? 'HTTP' : 'HTTPS'} port`, st?.name ?? '--sip-tls-port');
  }
  const tf = get('tftpPort');
  const tftpPort = tf ? parseOptionalPort(tf.value, tf.name) : 69;

  const dd = get('dataDir');
  const dataDir = path.resolve(cwd, dd ? dd.value : 'var');

  const ll = get('logLevel');
  let logLevel: LogLevel = 'info';
  if (ll) {
    if (!(LOG_LEVELS as string[]).includes(ll.value)) {
      throw new ConfigError(`${ll.name}: unknown level "${ll.value}" (one of ${LOG_LEVELS.join(', ')})`, ll.name);
    }
    logLevel = ll.value as LogLevel;
  }

  /** An on|off switch; anything else is refused naming the flag or variable it came from. */
  const onOff = (key: string, fallback: 'on' | 'off'): boolean => {
    const o = get(key);
    const v = o?.value ?? fallback;
    if (v !== 'on' && v !== 'off') throw new ConfigError(`${o!.name}: "${v}" is not on or off`, o!.name);
    return v === 'on';
  };
  // Off by default: measured on two cores, it extends the REGISTER rate at saturation a little and costs calls more
  // CPU and latency than it saves (docs/performance.md, "SIP sends on the second core").
  const udpSendThread = onOff('sipSendThread', 'off');
  // On by default: the relay's CPU per call falls by about half (docs/media.md, "The relay's fast path"); off makes
  // the worker relay every packet in JavaScript, as a build without the native module does.
  const mediaFastPath = onOff('mediaFastPath', 'on');

  const md = get('media');
  let media: MediaBackend = 'builtin';
  if (md) {
    if (md.value !== 'builtin' && md.value !== 'rtpengine') {
      throw new ConfigError(`${md.name}: unknown media engine "${md.value}" (builtin or rtpengine)`, md.name);
    }
    media = md.value;
  }
  const re = get('rtpengine');
  const rtpengine = re ? parseHostPort(re.value, re.name) : { host: '127.0.0.1', port: 22222 };

  const dm = get('domain');
  const domain = dm ? dm.value : 'relais.local';
  if (!/^[A-Za-z0-9.-]+$/.test(domain)) throw new ConfigError(`${dm?.name ?? '--domain'}: "${domain}" is not a host name`, '--domain');

  const site = get('site');
  const siteFile = site ? path.resolve(cwd, site.value) : undefined;

  const ms = (key: string, def: number, min: number): number => {
    const v = get(key);
    return v ? parseMs(v.value, v.name, min) : def;
  };
  const rec = get('recordCalls');
  if (rec && rec.value !== 'all' && rec.value !== 'numbers') {
    throw new ConfigError(`${rec.name}: "${rec.value}" must be "all" or "numbers"`, rec.name);
  }
  const rtpTimeout = get('rtpTimeout');
  const calls: CallSettings = {
    ringTimeoutMs: ms('ringTimeout', 20_000, 500),
    rtpTimeoutMs: rtpTimeout ? parseMs(rtpTimeout.value, rtpTimeout.name, 500) : undefined,
    record: rec?.value === 'all' ? 'all' : 'numbers',
    voicemailSilenceMs: ms('vmSilence', 5000, 500),
    voicemailMaxMs: ms('vmMax', 120_000, 1000),
  };

  const dtmf = get('rtpengineDtmf');
  let dtmfListen: RtpengineMediaSettings['dtmfListen'] = { host: '127.0.0.1', port: rtpengine.port + 1 };
  if (dtmf?.value === 'off') dtmfListen = false;
  else if (dtmf) {
    const m = /^(.+):(\d+)$/.exec(dtmf.value);
    if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) throw new ConfigError(`${dtmf.name}: "${dtmf.value}" must be HOST:PORT or off`, dtmf.name);
    dtmfListen = { host: m[1]!, port: Number(m[2]) };
  }
  const recDir = get('rtpengineRecordingDir');
  const inject = get('rtpengineInjectDtmf');
  const rtpengineMedia: RtpengineMediaSettings = {
    dtmfListen,
    recordingDir: recDir ? path.resolve(cwd, recDir.value) : undefined,
    injectDtmf: inject ? parseBoolean(inject.value, inject.name) : false,
  };

  const count = (key: string, def: number, min: number, max: number, what: string): number => {
    const v = get(key);
    if (!v) return def;
    if (!/^\d+$/.test(v.value) || Number(v.value) < min || Number(v.value) > max) {
      throw new ConfigError(`${v.name}: "${v.value}" must be ${what} from ${min} to ${max}`, v.name);
    }
    return Number(v.value);
  };
  const allow = get('sipAllow');
  let allowList: string[] | undefined;
  if (allow && allow.value !== 'lan') {
    allowList = allow.value === 'none' ? [] : allow.value.split(',').map((e) => e.trim()).filter((e) => e !== '');
    for (const entry of allowList) {
      if (!parseNetwork(entry)) throw new ConfigError(`${allow.name}: "${entry}" is not an IP address or a CIDR network (or say lan / none)`, allow.name);
    }
  }
  const sipBan: SipBanSettings = {
    maxFailures: count('sipBanAfter', 10, 0, 10_000, 'a number of failed authentications (0 = off)'),
    banMinutes: count('sipBanMinutes', 10, 1, 10_080, 'a number of minutes'),
    allowList,
    allowedMaxFailures: get('sipAllowBanAfter') ? count('sipAllowBanAfter', 50, 1, 100_000, 'a number of failed authentications') : undefined,
  };

  const sipFloodRate = count('sipFloodRate', 200, 0, 1_000_000, 'a number of SIP messages per second (0 = off)');
  const mediaRealtime = count('mediaRealtime', DEFAULT_MEDIA_REALTIME, 0, 99, 'a SCHED_FIFO priority (0 = none)');
  const bd = get('board');
  const boards = ['auto', 'rpi4', 'cm4-hat', 'sim'] as const;
  if (bd && !(boards as readonly string[]).includes(bd.value)) throw new ConfigError(`${bd.name}: unknown board "${bd.value}" (one of ${boards.join(', ')})`, bd.name);
  const ra = get('rauc');
  let rauc: ApplianceSettings['rauc'] = 'off';
  if (ra) {
    if (ra.value === 'off' || ra.value === 'system') rauc = ra.value;
    else if (/^(unix|tcp):[a-z]+=/.test(ra.value)) rauc = { address: ra.value };
    else throw new ConfigError(`${ra.name}: "${ra.value}" must be off, system or a D-Bus address such as unix:path=/run/rauc-bus`, ra.name);
  }
  const rb = get('rebootCommand');
  const fv = get('firmwareVersion');
  if (fv && !/^\d+(\.\d+){0,2}([-+][0-9A-Za-z.-]+)?$/.test(fv.value)) throw new ConfigError(`${fv.name}: "${fv.value}" is not a version such as 1.4.2`, fv.name);
  const appliance: ApplianceSettings = {
    board: (bd?.value ?? 'auto') as ApplianceSettings['board'],
    rauc,
    rebootCommand: (rb?.value ?? 'systemctl reboot').split(/\s+/).filter(Boolean),
    updateConfirmMs: count('updateConfirmSeconds', 300, 1, 86_400, 'a number of seconds') * 1000,
    firmwareVersion: fv?.value,
  };

  const hostsOpt = get('httpHosts');
  const httpHosts = hostsOpt ? hostsOpt.value.split(',').map((h) => h.trim().toLowerCase()).filter((h) => h !== '') : [];
  for (const h of httpHosts) {
    if (!/^[a-z0-9]([a-z0-9-]{0,62})(\.[a-z0-9]([a-z0-9-]{0,62}))*$/.test(h)) throw new ConfigError(`${hostsOpt!.name}: "${h}" is not a host name`, hostsOpt!.name);
  }

  return {
    appliance,
    sipBan,
    sipFloodRate,
    mediaRealtime,
    udpSendThread,
    mediaFastPath,
    httpHosts,
    bind,
    sipPort,
    httpPort,
    httpsPort,
    sipTlsPort,
    tftpPort,
    rtpPortMin,
    rtpPortMax,
    dataDir,
    logLevel,
    media,
    rtpengine,
    domain,
    adminPassword: env.RELAIS_ADMIN_PASSWORD || undefined,
    siteFile,
    calls,
    rtpengineMedia,
  };
}
