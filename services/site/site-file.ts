// The site file: a YAML description of an office, parsed and validated with the path and line of every problem.
import { LineCounter, parseDocument, isScalar, visit, type Document } from 'yaml';
import { RelaisError } from '../shared/index.js';
import {
  Checker,
  formatPath,
  isObj,
  emptyRefs,
  checkActions,
  checkCondition,
  findGotoLoops,
  ROLES,
  RIGHTS,
  DIGEST_ALGORITHMS,
  NUMBER_MODES,
  RING_MODES,
  BEHAVIOURS,
  OFFLINE_ACTION_TYPES,
  QUEUE_STRATEGIES,
  CALLBACK_ORDERS,
  type CallbackOrder,
  QUEUE_TIMEOUT_TYPES,
  CLOSURE_TYPES,
  SOUND_KINDS,
  SOUND_FILE_RE,
  PHONE_VENDORS,
  ROUTE_PATTERN_RE,
  DID_RE,
  LANGUAGES,
  isTimeZone,
  normaliseMac,
  type Path,
  type Obj,
  type ActionRefs,
  type Condition,
  type Role,
  type DigestAlgorithm,
  type NumberMode,
  type RingMode,
  type Behaviour,
  type OfflineAction,
  type QueueStrategy,
  type QueueTimeoutAction,
  type ClosureAction,
  type SoundKind,
  type PhoneVendor,
  type ScenarioAction,
} from '../directory/index.js';
import { HOLIDAY_COUNTRIES, isRealDate } from '../scenario/calendar/index.js';
import { checkCatalog, type CatalogCategory } from '../scenario/behaviours/service-catalog.js';


/** `music_on_hold: default` names the box's own music on hold (built at build time), not a sound of the site. */
export const DEFAULT_QUEUE_MUSIC = 'default';
export const SITE_FILE_VERSION = 1;

/** Countries whose tones (ringback, busy, congestion) the media engine plays. */
export const COUNTRIES = ['FR', 'US', 'UK', 'ES'] as const;

export type SettingValue = string | number | boolean;

export interface SiteUser {
  username: string;
  name?: string;
  email?: string;
  role?: Role;
  rights?: string[];
  language?: string;
  dnd?: boolean;
  /** Plain text, hashed on import; never exported. */
  password?: string;
  /** scrypt hash as stored (what export writes). */
  password_hash?: string;
}

export interface SiteExtension {
  number: string;
  user?: string;
  display_name?: string;
  sip_username?: string;
  secret?: string;
  digest_algorithm?: DigestAlgorithm;
  voicemail?: boolean;
  voicemail_pin?: string;
  /** Only SIP over TLS with SRTP (docs/security.md). */
  require_tls_srtp?: boolean;
}

export interface SiteSound {
  name: string;
  file: string;
  kind?: SoundKind;
  language?: string;
  duration_ms?: number;
}

export interface SiteRoute {
  name: string;
  pattern: string;
  strip?: number;
  prepend?: string;
  priority?: number;
}

export interface SiteTrunk {
  name: string;
  host: string;
  port?: number;
  transport?: 'udp' | 'tcp';
  register?: boolean;
  username?: string;
  auth_username?: string;
  secret?: string;
  realm?: string;
  from_domain?: string;
  caller_id?: string;
  allowed_ips?: string[];
  expires?: number;
  enabled?: boolean;
  routes?: SiteRoute[];
}

export interface SiteScenario {
  name: string;
  actions: ScenarioAction[];
}

export interface SiteQueue {
  name: string;
  short_number: string;
  strategy?: QueueStrategy;
  ring_time?: number;
  max_wait?: number;
  wrap_up?: number;
  timeout_action?: QueueTimeoutAction;
  timeout_sound?: string;
  /** A sound name, or `default` for the box's own music on hold. */
  music_on_hold?: string;
  announce_position?: boolean;
  opening_hours?: Condition[];
  closed?: boolean;
  exceptional_closure?: boolean;
  closure_action?: ClosureAction;
  auto_pause_after?: number;
  callback_order?: CallbackOrder;
  service_level?: number;
  lost_call_rules?: SiteLostCallRules;
  members?: string[];
}

/** `queues[].lost_call_rules` (docs/queues.md "Callbacks"). */
export interface SiteLostCallRules {
  after_abandon?: boolean;
  after_timeout?: boolean;
  after_no_agent?: boolean;
  min_wait?: number;
  business_hours_only?: boolean;
  max_attempts?: number;
  retry_delay?: number;
}
export const LOST_CALL_RULE_FIELDS = ['after_abandon', 'after_timeout', 'after_no_agent', 'min_wait', 'business_hours_only', 'max_attempts', 'retry_delay'] as const;

export interface SiteNumber {
  did: string;
  name?: string;
  trunk?: string;
  mode?: NumberMode;
  forward_to?: string;
  record?: boolean;
  ring_mode?: RingMode;
  behaviour?: Behaviour;
  offline_action?: OfflineAction;
  unavailable_action?: OfflineAction;
  welcome_sound?: string;
  /** The sound an agent drops into its outbound call with POST /api/calls/:id/voicedrop. */
  voicedrop_sound?: string;
  scenario?: string;
  /** Assigned users; absent = every user of the site (docs/product.md §4). */
  users?: string[];
}

export interface SitePhone {
  mac: string;
  vendor: PhoneVendor;
  model?: string;
  extension?: string;
  label?: string;
  settings?: Record<string, SettingValue>;
}

/** One of the site's own holidays (added to the public holidays of the `holidays` setting's country). */
export interface SiteHoliday {
  date: string;
  name?: string;
}

export interface SiteFile {
  version: number;
  settings: Record<string, SettingValue>;
  holidays: SiteHoliday[];
  /** Smart answering's services, by category, with names per language (docs/product.md §2). */
  service_categories: CatalogCategory[];
  users: SiteUser[];
  extensions: SiteExtension[];
  sounds: SiteSound[];
  trunks: SiteTrunk[];
  scenarios: SiteScenario[];
  queues: SiteQueue[];
  numbers: SiteNumber[];
  phones: SitePhone[];
}

export const SITE_SECTIONS = ['version', 'settings', 'holidays', 'service_categories', 'users', 'extensions', 'sounds', 'trunks', 'scenarios', 'queues', 'numbers', 'phones'] as const;

/** The fields of each kind of item (docs/site-file.md documents every one; a test checks). */
export const SITE_FIELDS = {
  users: ['username', 'name', 'email', 'role', 'rights', 'language', 'dnd', 'password', 'password_hash'],
  extensions: ['number', 'user', 'display_name', 'sip_username', 'secret', 'digest_algorithm', 'voicemail', 'voicemail_pin', 'require_tls_srtp'],
  sounds: ['name', 'file', 'kind', 'language', 'duration_ms'],
  trunks: ['name', 'host', 'port', 'transport', 'register', 'username', 'auth_username', 'secret', 'realm', 'from_domain', 'caller_id', 'allowed_ips', 'expires', 'enabled', 'routes'],
  routes: ['name', 'pattern', 'strip', 'prepend', 'priority'],
  scenarios: ['name', 'actions'],
  queues: ['name', 'short_number', 'strategy', 'ring_time', 'max_wait', 'wrap_up', 'timeout_action', 'timeout_sound', 'music_on_hold', 'announce_position', 'opening_hours', 'closed', 'exceptional_closure', 'closure_action', 'auto_pause_after', 'callback_order', 'service_level', 'lost_call_rules', 'members'],
  numbers: ['did', 'name', 'trunk', 'mode', 'forward_to', 'record', 'ring_mode', 'behaviour', 'offline_action', 'unavailable_action', 'welcome_sound', 'voicedrop_sound', 'scenario', 'users'],
  phones: ['mac', 'vendor', 'model', 'extension', 'label', 'settings'],
  holidays: ['date', 'name'],
  service_categories: ['name', 'services'],
} as const;

export interface SiteIssue {
  path: string;
  message: string;
  line?: number;
  hint?: string;
}

/** `queues[2].strategy: unknown value "roundrobbin" (line 41); expected one of ...` */
export function formatIssue(i: SiteIssue): string {
  return `${i.path ? `${i.path}: ` : ''}${i.message}${i.line !== undefined ? ` (line ${i.line})` : ''}${i.hint ? `; ${i.hint}` : ''}`;
}

/** A site file that cannot be applied; message lists every problem, one per line. */
export class SiteFileError extends RelaisError {
  constructor(readonly issues: SiteIssue[], source?: string) {
    const shown = issues.slice(0, 30).map(formatIssue);
    if (issues.length > 30) shown.push(`... and ${issues.length - 30} more`);
    const prefix = source ? `${source}: ` : '';
    super('site.invalid', shown.map((l) => prefix + l).join('\n'));
    this.name = 'SiteFileError';
  }
}

const NAME_KEYS = { holidays: 'date', users: 'username', extensions: 'number', sounds: 'name', trunks: 'name', scenarios: 'name', queues: 'name', numbers: 'did', phones: 'mac' } as const;

function lineOf(doc: Document, lc: LineCounter, path: Path): number | undefined {
  for (let n = path.length; n >= 0; n--) {
    const node = doc.getIn(path.slice(0, n), true) as { range?: [number, number, number] } | undefined;
    if (node && typeof node === 'object' && node.range) return lc.linePos(node.range[0]).line;
  }
  return undefined;
}

/**
 * YAML 1.2 reads 0123456789 and +33123456789 as integers, losing the leading 0 or +: such plain scalars stay text,
 * as does any integer too long to be exact.
 */
function keepNumbersAsText(doc: Document, text: string): void {
  visit(doc, {
    Scalar(_key, node) {
      if (typeof node.value !== 'number' || node.type !== 'PLAIN' || !node.range) return;
      const src = text.slice(node.range[0], node.range[1]).trim();
      if (/^(\+|0)[0-9]+$/.test(src) && src !== '0' || /^[0-9]{16,}$/.test(src)) node.value = src;
    },
  });
}

export interface ParseSiteOptions {
  /** Usernames that exist beside the file (administrators kept on import): references to them are valid. */
  extraUsers?: readonly string[];
  /** Shown before each problem (e.g. the file name). */
  source?: string;
}

/** Parses and validates site file text; throws SiteFileError listing every problem with its path and line. */
export function parseSiteFile(text: string, opts: ParseSiteOptions = {}): SiteFile {
  return parseSiteFileLocated(text, opts).site;
}

/** The line of a path like `queues[1].routes[0]` in the parsed text. */
export type LineLocator = (path: Path) => number | undefined;

/** parseSiteFile, also giving a locator for problems found later (while applying). */
export function parseSiteFileLocated(text: string, opts: ParseSiteOptions = {}): { site: SiteFile; lineOf: LineLocator } {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    // Later YAML errors are mostly consequences of the first: report that one.
    const e = doc.errors[0]!;
    const message = e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
    throw new SiteFileError([{ path: '', message: `YAML syntax error: ${message}`, ...(e.linePos ? { line: e.linePos[0].line } : {}) }], opts.source);
  }
  keepNumbersAsText(doc, text);
  const raw: unknown = doc.toJS({ maxAliasCount: 100 });
  const c = new Checker();
  const site = checkSite(c, raw ?? {}, opts.extraUsers ?? []);
  if (!c.ok || !site) {
    throw new SiteFileError(
      c.issues.map((i) => ({ path: formatPath(i.path), message: i.message, line: lineOf(doc, lc, i.path), ...(i.hint ? { hint: i.hint } : {}) })),
      opts.source,
    );
  }
  return { site, lineOf: (path) => lineOf(doc, lc, path) };
}

/** Validates an already-parsed value (JSON from the API); problems carry paths but no lines. */
export function validateSite(value: unknown, extraUsers: readonly string[] = []): SiteFile {
  const c = new Checker();
  const site = checkSite(c, value, extraUsers);
  if (!c.ok || !site) throw new SiteFileError(c.issues.map((i) => ({ path: formatPath(i.path), message: i.message, ...(i.hint ? { hint: i.hint } : {}) })));
  return site;
}

function set<T extends object, K extends keyof T>(o: T, k: K, v: T[K] | undefined): void {
  if (v !== undefined) o[k] = v;
}

function checkOffline(c: Checker, v: unknown, p: Path, allowForward: boolean, sounds: { name: string; path: Path }[]): OfflineAction | undefined {
  const types = allowForward ? OFFLINE_ACTION_TYPES : OFFLINE_ACTION_TYPES.filter((t) => t !== 'forward');
  const o = c.obj(v, p, ['type', 'sound', 'to']);
  if (!o) return undefined;
  const type = c.enm(o, 'type', p, types, true);
  if (type === 'message') {
    for (const k of ['to']) if (o[k] !== undefined) c.fail([...p, k], `field "${k}" does not apply to type ${type}`);
    const sound = c.str(o, 'sound', p, { required: true });
    if (sound === undefined) return undefined;
    sounds.push({ name: sound, path: [...p, 'sound'] });
    return { type, sound };
  }
  if (type === 'forward') {
    if (o.sound !== undefined) c.fail([...p, 'sound'], 'field "sound" does not apply to type forward');
    const to = c.str(o, 'to', p, { required: true, pattern: /^\+?[0-9*#]{1,32}$/, hint: 'a number to dial' });
    return to === undefined ? undefined : { type, to };
  }
  if (type === undefined) return undefined;
  for (const k of ['sound', 'to']) if (o[k] !== undefined) c.fail([...p, k], `field "${k}" does not apply to type ${type}`);
  return { type };
}

function checkSite(c: Checker, raw: unknown, extraUsers: readonly string[]): SiteFile | undefined {
  const top = c.obj(raw, [], SITE_SECTIONS);
  if (!top) return undefined;
  const version = c.int(top, 'version', [], { min: 1 });
  if (version !== undefined && version > SITE_FILE_VERSION) {
    c.fail(['version'], `site file version ${version} is newer than this firmware reads (${SITE_FILE_VERSION})`);
  }
  const site: SiteFile = { version: SITE_FILE_VERSION, settings: {}, holidays: [], service_categories: [], users: [], extensions: [], sounds: [], trunks: [], scenarios: [], queues: [], numbers: [], phones: [] };
  const refs: ActionRefs = emptyRefs();

  // settings: a flat mapping of scalars
  if (top.settings !== undefined && top.settings !== null) {
    if (!isObj(top.settings)) c.fail(['settings'], 'expected a mapping of names to values');
    else {
      for (const [k, v] of Object.entries(top.settings)) {
        if (!/^[a-z][a-z0-9_.]{0,63}$/.test(k)) c.fail(['settings', k], `setting name "${k}" must be lower-case letters, digits, "_" or "."`);
        else if (k === 'language' && !(LANGUAGES as readonly unknown[]).includes(v)) c.fail(['settings', k], `unknown value ${JSON.stringify(v)}`, `expected one of ${LANGUAGES.join(', ')}`);
        else if (k === 'country' && !(COUNTRIES as readonly unknown[]).includes(v)) c.fail(['settings', k], `unknown value ${JSON.stringify(v)}`, `expected one of ${COUNTRIES.join(', ')} (tones)`);
        else if (k === 'timezone' && (typeof v !== 'string' || !isTimeZone(v))) c.fail(['settings', k], `unknown time zone ${JSON.stringify(v)}`, 'an IANA name such as Europe/Paris');
        else if (k === 'holidays' && !([...HOLIDAY_COUNTRIES, 'none'] as readonly unknown[]).includes(v)) c.fail(['settings', k], `unknown value ${JSON.stringify(v)}`, `expected one of ${HOLIDAY_COUNTRIES.join(', ')}, none (public holidays)`);
        else if (typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v))) site.settings[k] = v;
        else c.fail(['settings', k], 'a setting is text, a number, true or false');
      }
    }
  }

  c.list(top, 'holidays', []).forEach((v, i) => {
    const p = ['holidays', i];
    const o = c.obj(v, p, SITE_FIELDS.holidays);
    if (!o) return;
    const date = c.str(o, 'date', p, { required: true, pattern: /^\d{4}-\d{2}-\d{2}$/, hint: 'a date is YYYY-MM-DD' });
    if (date !== undefined && !isRealDate(date)) c.fail([...p, 'date'], `${date} is not a day of the calendar`);
    const h: SiteHoliday = { date: date ?? '' };
    set(h, 'name', c.str(o, 'name', p));
    if (date !== undefined) site.holidays.push(h);
  });

  site.service_categories = checkCatalog(c, top.service_categories, ['service_categories']);

  c.list(top, 'users', []).forEach((v, i) => {
    const p = ['users', i];
    const o = c.obj(v, p, SITE_FIELDS.users);
    if (!o) return;
    const username = c.str(o, 'username', p, { required: true, pattern: /^[a-z0-9][a-z0-9._-]{0,63}$/, hint: 'lower-case letters, digits, ".", "_" or "-"' });
    const u: SiteUser = { username: username ?? '' };
    set(u, 'name', c.str(o, 'name', p));
    set(u, 'email', c.str(o, 'email', p, { pattern: /^[^\s@]+@[^\s@]+$/, hint: 'an e-mail address' }));
    set(u, 'role', c.enm(o, 'role', p, ROLES));
    if (o.rights !== undefined && o.rights !== null) {
      const rights: string[] = [];
      c.list(o, 'rights', p).forEach((r, j) => {
        if (typeof r === 'string' && (RIGHTS as readonly string[]).includes(r)) rights.push(r);
        else c.fail([...p, 'rights', j], `unknown right ${typeof r === 'string' ? `"${r}"` : String(r)}`, `expected one of ${RIGHTS.join(', ')}`);
      });
      u.rights = rights;
    }
    set(u, 'language', c.enm(o, 'language', p, LANGUAGES));
    set(u, 'dnd', c.bool(o, 'dnd', p));
    const pw = c.str(o, 'password', p);
    if (pw !== undefined && pw.length < 8) c.fail([...p, 'password'], 'a password has at least 8 characters');
    set(u, 'password', pw);
    set(u, 'password_hash', c.str(o, 'password_hash', p, { pattern: /^scrypt\$\d+\$\d+\$\d+\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/, hint: 'a hash written by relais export' }));
    if (pw !== undefined && u.password_hash !== undefined) c.fail([...p, 'password'], 'give password or password_hash, not both');
    if (username !== undefined) site.users.push(u);
  });

  c.list(top, 'extensions', []).forEach((v, i) => {
    const p = ['extensions', i];
    const o = c.obj(v, p, SITE_FIELDS.extensions);
    if (!o) return;
    const number = c.str(o, 'number', p, { required: true, pattern: /^[0-9]{2,8}$/, hint: '2 to 8 digits' });
    const e: SiteExtension = { number: number ?? '' };
    set(e, 'user', c.str(o, 'user', p));
    set(e, 'display_name', c.str(o, 'display_name', p));
    set(e, 'sip_username', c.str(o, 'sip_username', p, { pattern: /^[A-Za-z0-9._~!$&'()*+,;=-]{1,64}$/, hint: 'characters allowed in a SIP user part' }));
    const secret = c.str(o, 'secret', p);
    if (secret !== undefined && secret.length < 8) c.fail([...p, 'secret'], 'a SIP secret has at least 8 characters');
    set(e, 'secret', secret);
    set(e, 'digest_algorithm', c.enm(o, 'digest_algorithm', p, DIGEST_ALGORITHMS));
    set(e, 'voicemail', c.bool(o, 'voicemail', p));
    set(e, 'voicemail_pin', c.str(o, 'voicemail_pin', p, { pattern: /^[0-9]{4,10}$/, hint: '4 to 10 digits' }));
    set(e, 'require_tls_srtp', c.bool(o, 'require_tls_srtp', p));
    if (number !== undefined) site.extensions.push(e);
  });

  c.list(top, 'sounds', []).forEach((v, i) => {
    const p = ['sounds', i];
    const o = c.obj(v, p, SITE_FIELDS.sounds);
    if (!o) return;
    const name = c.str(o, 'name', p, { required: true });
    const file = c.str(o, 'file', p, { required: true, pattern: SOUND_FILE_RE, hint: 'a file name inside the data dir\'s sounds/ directory' });
    if (name === undefined || file === undefined) return;
    const s: SiteSound = { name, file };
    set(s, 'kind', c.enm(o, 'kind', p, SOUND_KINDS));
    set(s, 'language', c.enm(o, 'language', p, LANGUAGES));
    set(s, 'duration_ms', c.int(o, 'duration_ms', p, { min: 0 }));
    site.sounds.push(s);
  });

  c.list(top, 'trunks', []).forEach((v, i) => {
    const p = ['trunks', i];
    const o = c.obj(v, p, SITE_FIELDS.trunks);
    if (!o) return;
    const name = c.str(o, 'name', p, { required: true });
    const host = c.str(o, 'host', p, { required: true, pattern: /^[A-Za-z0-9.-]+$|^\[[0-9a-fA-F:]+\]$/, hint: 'a host name or address' });
    const t: SiteTrunk = { name: name ?? '', host: host ?? '' };
    set(t, 'port', c.int(o, 'port', p, { min: 1, max: 65535 }));
    set(t, 'transport', c.enm(o, 'transport', p, ['udp', 'tcp'] as const));
    set(t, 'register', c.bool(o, 'register', p));
    for (const k of ['username', 'auth_username', 'secret', 'realm', 'from_domain', 'caller_id'] as const) set(t, k, c.str(o, k, p));
    set(t, 'allowed_ips', c.strList(o, 'allowed_ips', p, { pattern: /^[0-9.]+(\/\d{1,2}|:\d{1,5})?$|^[0-9a-fA-F:]+(\/\d{1,3})?$/, hint: 'an IP address, CIDR block or address:port' }));
    set(t, 'expires', c.int(o, 'expires', p, { min: 60, max: 86400 }));
    set(t, 'enabled', c.bool(o, 'enabled', p));
    if ((t.register ?? true) && (t.username === undefined || t.secret === undefined)) {
      c.fail(p, `trunk registers (register: true is the default), so it needs username and secret; set register: false for an IP-authenticated peer`);
    }
    const routes: SiteRoute[] = [];
    c.list(o, 'routes', p).forEach((rv, j) => {
      const rp = [...p, 'routes', j];
      const ro = c.obj(rv, rp, SITE_FIELDS.routes);
      if (!ro) return;
      const rname = c.str(ro, 'name', rp, { required: true });
      const pattern = c.str(ro, 'pattern', rp, { required: true, pattern: ROUTE_PATTERN_RE, hint: 'digits, + * #, X (any digit), N (2-9), Z (1-9), and an optional trailing "."' });
      if (rname === undefined || pattern === undefined) return;
      const r: SiteRoute = { name: rname, pattern };
      set(r, 'strip', c.int(ro, 'strip', rp, { min: 0, max: 20 }));
      set(r, 'prepend', c.str(ro, 'prepend', rp, { pattern: /^[0-9+*#]*$/, hint: 'digits, + * #' }));
      set(r, 'priority', c.int(ro, 'priority', rp, { min: -1000, max: 1000 }));
      routes.push(r);
    });
    if (routes.length > 0) t.routes = routes;
    if (name !== undefined && host !== undefined) site.trunks.push(t);
  });

  c.list(top, 'scenarios', []).forEach((v, i) => {
    const p = ['scenarios', i];
    const o = c.obj(v, p, SITE_FIELDS.scenarios);
    if (!o) return;
    const name = c.str(o, 'name', p, { required: true });
    if (o.actions === undefined) c.fail([...p, 'actions'], 'missing (required): the list of actions');
    const actions = checkActions(c, o.actions, [...p, 'actions'], refs);
    if (name !== undefined) site.scenarios.push({ name, actions });
  });

  const queueRefs: { name: string; path: Path }[] = [];
  c.list(top, 'queues', []).forEach((v, i) => {
    const p = ['queues', i];
    const o = c.obj(v, p, SITE_FIELDS.queues);
    if (!o) return;
    const name = c.str(o, 'name', p, { required: true });
    const short = c.str(o, 'short_number', p, { required: true, pattern: /^[0-9]{2,8}$/, hint: '2 to 8 digits' });
    const q: SiteQueue = { name: name ?? '', short_number: short ?? '' };
    set(q, 'strategy', c.enm(o, 'strategy', p, QUEUE_STRATEGIES));
    set(q, 'ring_time', c.int(o, 'ring_time', p, { min: 5, max: 600 }));
    set(q, 'max_wait', c.int(o, 'max_wait', p, { min: 10, max: 86400 }));
    set(q, 'wrap_up', c.int(o, 'wrap_up', p, { min: 0, max: 3600 }));
    if (o.timeout_action !== undefined) {
      const tp = [...p, 'timeout_action'];
      const to = c.obj(o.timeout_action, tp, ['type', 'to', 'queue']);
      if (to) {
        const type = c.enm(to, 'type', tp, QUEUE_TIMEOUT_TYPES, true);
        if (type === 'transfer') {
          const dest = c.str(to, 'to', tp, { required: true, pattern: /^\+?[0-9*#]{1,32}$/, hint: 'a number to dial' });
          if (dest !== undefined) q.timeout_action = { type, to: dest };
        } else if (type === 'queue') {
          const qn = c.str(to, 'queue', tp, { required: true });
          if (qn !== undefined) {
            q.timeout_action = { type, queue: qn };
            queueRefs.push({ name: qn, path: [...tp, 'queue'] });
          }
        } else if (type === 'hangup') q.timeout_action = { type };
        for (const k of ['to', 'queue']) if (to[k] !== undefined && !(type === 'transfer' && k === 'to') && !(type === 'queue' && k === 'queue')) c.fail([...tp, k], `field "${k}" does not apply to type ${String(type)}`);
      }
    }
    const ts = c.str(o, 'timeout_sound', p);
    if (ts !== undefined) {
      q.timeout_sound = ts;
      refs.sounds.push({ name: ts, path: [...p, 'timeout_sound'] });
    }
    const moh = c.str(o, 'music_on_hold', p);
    if (moh !== undefined) {
      q.music_on_hold = moh;
      // `default` is the box's own music on hold (docs/queues.md), not a sound of the site.
      if (moh !== DEFAULT_QUEUE_MUSIC) refs.sounds.push({ name: moh, path: [...p, 'music_on_hold'] });
    }
    set(q, 'announce_position', c.bool(o, 'announce_position', p));
    if (o.opening_hours !== undefined && o.opening_hours !== null) {
      const hours: Condition[] = [];
      c.list(o, 'opening_hours', p).forEach((hv, j) => {
        const cond = checkCondition(c, hv, [...p, 'opening_hours', j]);
        if (cond) hours.push(cond);
      });
      q.opening_hours = hours;
    }
    set(q, 'closed', c.bool(o, 'closed', p));
    set(q, 'exceptional_closure', c.bool(o, 'exceptional_closure', p));
    if (o.closure_action !== undefined) {
      const cp = [...p, 'closure_action'];
      const co = c.obj(o.closure_action, cp, ['type', 'to', 'mailbox', 'sound']);
      if (co) {
        const type = c.enm(co, 'type', cp, CLOSURE_TYPES, true);
        const allowed: Record<string, string[]> = { forward: ['to'], voicemail: ['mailbox'], message: ['sound'] };
        for (const k of ['to', 'mailbox', 'sound']) if (co[k] !== undefined && type && !allowed[type]!.includes(k)) c.fail([...cp, k], `field "${k}" does not apply to type ${type}`);
        if (type === 'forward') {
          const dest = c.str(co, 'to', cp, { required: true, pattern: /^\+?[0-9*#]{1,32}$/, hint: 'a number to dial' });
          if (dest !== undefined) q.closure_action = { type, to: dest };
        } else if (type === 'voicemail') {
          const mb = c.str(co, 'mailbox', cp, { pattern: /^[0-9]{2,8}$/, hint: 'an extension number' });
          q.closure_action = mb === undefined ? { type } : { type, mailbox: mb };
          if (mb !== undefined) refs.extensions.push({ name: mb, path: [...cp, 'mailbox'] });
        } else if (type === 'message') {
          const snd = c.str(co, 'sound', cp, { required: true });
          if (snd !== undefined) {
            q.closure_action = { type, sound: snd };
            refs.sounds.push({ name: snd, path: [...cp, 'sound'] });
          }
        }
      }
    }
    set(q, 'auto_pause_after', c.int(o, 'auto_pause_after', p, { min: 0, max: 100 }));
    set(q, 'callback_order', c.enm(o, 'callback_order', p, CALLBACK_ORDERS));
    set(q, 'service_level', c.int(o, 'service_level', p, { min: 1, max: 3600 }));
    if (o.lost_call_rules !== undefined) {
      const rp = [...p, 'lost_call_rules'];
      const ro = c.obj(o.lost_call_rules, rp, [...LOST_CALL_RULE_FIELDS]);
      if (ro) {
        const r: SiteLostCallRules = {};
        for (const k of ['after_abandon', 'after_timeout', 'after_no_agent', 'business_hours_only'] as const) set(r, k, c.bool(ro, k, rp));
        set(r, 'min_wait', c.int(ro, 'min_wait', rp, { min: 0, max: 3600 }));
        set(r, 'max_attempts', c.int(ro, 'max_attempts', rp, { min: 1, max: 20 }));
        set(r, 'retry_delay', c.int(ro, 'retry_delay', rp, { min: 1, max: 1440 }));
        q.lost_call_rules = r;
      }
    }
    const members = c.strList(o, 'members', p);
    if (members) {
      q.members = members;
      members.forEach((m, j) => refs.users.push({ name: m, path: [...p, 'members', j] }));
    }
    if (name !== undefined && short !== undefined) site.queues.push(q);
  });

  const trunkRefs: { name: string; path: Path }[] = [];
  const scenarioRefs: { name: string; path: Path }[] = [];
  c.list(top, 'numbers', []).forEach((v, i) => {
    const p = ['numbers', i];
    const o = c.obj(v, p, SITE_FIELDS.numbers);
    if (!o) return;
    const did = c.str(o, 'did', p, { required: true, pattern: DID_RE, hint: 'digits with an optional leading + (quote it in YAML)' });
    const n: SiteNumber = { did: did ?? '' };
    set(n, 'name', c.str(o, 'name', p));
    const trunk = c.str(o, 'trunk', p);
    if (trunk !== undefined) {
      n.trunk = trunk;
      trunkRefs.push({ name: trunk, path: [...p, 'trunk'] });
    }
    set(n, 'mode', c.enm(o, 'mode', p, NUMBER_MODES));
    set(n, 'forward_to', c.str(o, 'forward_to', p, { pattern: /^\+?[0-9*#]{1,32}$/, hint: 'a number to dial' }));
    if (n.mode === 'forward' && n.forward_to === undefined) c.fail([...p, 'forward_to'], 'mode forward needs forward_to');
    set(n, 'record', c.bool(o, 'record', p));
    set(n, 'ring_mode', c.enm(o, 'ring_mode', p, RING_MODES));
    set(n, 'behaviour', c.enm(o, 'behaviour', p, BEHAVIOURS));
    if (o.offline_action !== undefined) set(n, 'offline_action', checkOffline(c, o.offline_action, [...p, 'offline_action'], true, refs.sounds));
    if (o.unavailable_action !== undefined) set(n, 'unavailable_action', checkOffline(c, o.unavailable_action, [...p, 'unavailable_action'], false, refs.sounds));
    const ws = c.str(o, 'welcome_sound', p);
    if (ws !== undefined) {
      n.welcome_sound = ws;
      refs.sounds.push({ name: ws, path: [...p, 'welcome_sound'] });
    }
    const vd = c.str(o, 'voicedrop_sound', p);
    if (vd !== undefined) {
      n.voicedrop_sound = vd;
      refs.sounds.push({ name: vd, path: [...p, 'voicedrop_sound'] });
    }
    const sc = c.str(o, 'scenario', p);
    if (sc !== undefined) {
      n.scenario = sc;
      scenarioRefs.push({ name: sc, path: [...p, 'scenario'] });
    }
    const users = c.strList(o, 'users', p);
    if (users) {
      n.users = users;
      users.forEach((u, j) => refs.users.push({ name: u, path: [...p, 'users', j] }));
    }
    if (did !== undefined) site.numbers.push(n);
  });

  const extRefs: { name: string; path: Path }[] = [];
  c.list(top, 'phones', []).forEach((v, i) => {
    const p = ['phones', i];
    const o = c.obj(v, p, SITE_FIELDS.phones);
    if (!o) return;
    const macRaw = c.str(o, 'mac', p, { required: true });
    const mac = macRaw === undefined ? undefined : normaliseMac(macRaw);
    if (macRaw !== undefined && mac === undefined) c.fail([...p, 'mac'], `"${macRaw}" is not a MAC address (12 hex digits, e.g. 00:15:65:aa:bb:cc)`);
    const vendor = c.enm(o, 'vendor', p, PHONE_VENDORS, true);
    if (mac === undefined || vendor === undefined) return;
    const ph: SitePhone = { mac, vendor };
    set(ph, 'model', c.str(o, 'model', p));
    const ext = c.str(o, 'extension', p);
    if (ext !== undefined) {
      ph.extension = ext;
      extRefs.push({ name: ext, path: [...p, 'extension'] });
    }
    set(ph, 'label', c.str(o, 'label', p));
    if (o.settings !== undefined && o.settings !== null) {
      if (!isObj(o.settings)) c.fail([...p, 'settings'], 'expected a mapping of names to values');
      else {
        const s: Record<string, string | number | boolean> = {};
        for (const [k, sv] of Object.entries(o.settings)) {
          if (typeof sv === 'string' || typeof sv === 'boolean' || typeof sv === 'number') s[k] = sv;
          else c.fail([...p, 'settings', k], 'a phone setting is text, a number, true or false');
        }
        ph.settings = s;
      }
    }
    site.phones.push(ph);
  });

  // Duplicates within each list.
  for (const [section, key] of Object.entries(NAME_KEYS)) {
    const seen = new Map<string, number>();
    (site[section as keyof typeof NAME_KEYS] as unknown as Obj[]).forEach((item, idx) => {
      const name = String(item[key]);
      if (seen.has(name)) c.fail([section, idx, key], `"${name}" appears twice (first at ${section}[${seen.get(name)!}])`);
      else seen.set(name, idx);
    });
  }
  const sipUsers = new Map<string, number>();
  site.extensions.forEach((e, i) => {
    const u = e.sip_username ?? e.number;
    if (sipUsers.has(u)) c.fail(['extensions', i, 'sip_username'], `SIP username "${u}" is already used by extensions[${sipUsers.get(u)!}]`);
    else sipUsers.set(u, i);
  });
  const shorts = new Map<string, number>();
  site.queues.forEach((q, i) => {
    if (shorts.has(q.short_number)) c.fail(['queues', i, 'short_number'], `short number ${q.short_number} is already used by queues[${shorts.get(q.short_number)!}]`);
    else shorts.set(q.short_number, i);
    if (site.extensions.some((e) => e.number === q.short_number)) c.fail(['queues', i, 'short_number'], `short number ${q.short_number} is also an extension number`);
  });

  // Cross references.
  const names = {
    users: new Set([...site.users.map((u) => u.username), ...extraUsers]),
    sounds: new Set(site.sounds.map((s) => s.name)),
    queues: new Set(site.queues.map((q) => q.name)),
    scenarios: new Set(site.scenarios.map((s) => s.name)),
    extensions: new Set(site.extensions.map((e) => e.number)),
    trunks: new Set(site.trunks.map((t) => t.name)),
  };
  const check = (list: { name: string; path: Path }[], set: Set<string>, what: string, section: string): void => {
    for (const r of list) if (!set.has(r.name)) c.fail(r.path, `${what} "${r.name}" is not defined in ${section}`);
  };
  site.extensions.forEach((e, i) => {
    if (e.user !== undefined && !names.users.has(e.user)) c.fail(['extensions', i, 'user'], `user "${e.user}" is not defined in users`);
  });
  check(refs.users, names.users, 'user', 'users');
  check(refs.sounds, names.sounds, 'sound', 'sounds');
  check([...refs.queues, ...queueRefs], names.queues, 'queue', 'queues');
  check([...refs.scenarios, ...scenarioRefs], names.scenarios, 'scenario', 'scenarios');
  check([...refs.extensions, ...extRefs], names.extensions, 'extension', 'extensions');
  check(trunkRefs, names.trunks, 'trunk', 'trunks');
  for (const loop of findGotoLoops(site.scenarios, (i) => ['scenarios', i])) c.fail(loop.path, loop.message);
  return site;
}
