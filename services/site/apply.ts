// Applies a validated site file to the store in one transaction (all or nothing), keeping ids of what stays
// so registrations, call history and queue login state survive; and writes the current site back out.
import { stringify } from 'yaml';
import type { Store } from '../storage/index.js';
import { SystemClock, errorMessage, type Clock } from '../shared/index.js';
import { Directory, DEFAULT_LOST_CALL_RULES, queueWithDefaults, trunkWithDefaults, type OfflineAction, type LostCallRules } from '../directory/index.js';
import { CalendarRepository } from '../scenario/calendar/index.js';
import { DEFAULT_QUEUE_MUSIC, parseSiteFileLocated, SiteFileError, SITE_FILE_VERSION, type LineLocator, type SiteFile, type SiteIssue, type SettingValue, type SiteLostCallRules } from './site-file.js';
import { ServiceCatalogRepository } from '../scenario/behaviours/service-catalog.js';

const SETTINGS_PREFIX = 'site.';
/** Set by every import: once a site was applied, an empty directory means the admin emptied it, not a new box. */
export const SITE_APPLIED_KEY = 'relais.site_applied_at';
/** For callers without a clock of their own (tools, tests that do not look at the date). */
const WALL_CLOCK: Clock = new SystemClock();

export interface ImportSummary {
  users: number;
  extensions: number;
  numbers: number;
  trunks: number;
  queues: number;
  scenarios: number;
  sounds: number;
  phones: number;
  /** Extensions that got a generated SIP secret (number → secret), to hand to whoever sets up the phones. */
  generatedSecrets: Record<string, string>;
}

/** `trunks[0].routes[1]` → ['trunks', 0, 'routes', 1] */
function pathOf(text: string): (string | number)[] {
  const out: (string | number)[] = [];
  for (const m of text.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) out.push(m[2] !== undefined ? Number(m[2]) : m[1]!);
  return out;
}

/** Administrators are never removed by an import, so a site file can never lock everyone out of the console. */
export function keptAdmins(dir: Directory): string[] {
  return dir.users.list().filter((u) => u.role === 'admin').map((u) => u.username);
}

/** Parses, validates and applies site file text; nothing changes unless everything applies. */
export function importSiteText(store: Store, realm: string, text: string, source?: string, clock: Clock = WALL_CLOCK): ImportSummary {
  const dir = new Directory(store.db, realm, () => clock.now());
  const { site, lineOf } = parseSiteFileLocated(text, { extraUsers: keptAdmins(dir), ...(source !== undefined ? { source } : {}) });
  return applySite(store, realm, site, source, lineOf, clock);
}

/** `clock` dates the import (SITE_APPLIED_KEY); callers pass Relais' injected clock (tests a manual one). */
export function applySite(store: Store, realm: string, site: SiteFile, source?: string, lineOf?: LineLocator, clock: Clock = WALL_CLOCK): ImportSummary {
  const dir = new Directory(store.db, realm, () => clock.now());
  const summary: ImportSummary = {
    users: site.users.length,
    extensions: site.extensions.length,
    numbers: site.numbers.length,
    trunks: site.trunks.length,
    queues: site.queues.length,
    scenarios: site.scenarios.length,
    sounds: site.sounds.length,
    phones: site.phones.length,
    generatedSecrets: {},
  };
  // A repository refusing a value (a case validation missed) still names the item it came from.
  const at = <T>(path: string, fn: () => T): T => {
    try {
      return fn();
    } catch (err) {
      if (err instanceof SiteFileError) throw err;
      const line = lineOf?.(pathOf(path));
      const issue: SiteIssue = { path, message: errorMessage(err), ...(line !== undefined ? { line } : {}) };
      throw new SiteFileError([issue], source);
    }
  };
  store.transaction(() => {
    // settings
    dir.settings.deletePrefix(SETTINGS_PREFIX);
    for (const [k, v] of Object.entries(site.settings)) dir.settings.setJson(SETTINGS_PREFIX + k, v);
    dir.settings.set(SITE_APPLIED_KEY, new Date(clock.now()).toISOString());
    new ServiceCatalogRepository(store.db).replace(site.service_categories);
    new CalendarRepository(store.db).replaceHolidays(site.holidays.map((h) => ({ date: h.date, name: h.name ?? '' })));

    // sounds
    const soundNames = new Set(site.sounds.map((s) => s.name));
    for (const s of dir.sounds.list()) if (!soundNames.has(s.name)) dir.sounds.delete(s.id);
    site.sounds.forEach((s, i) =>
      at(`sounds[${i}]`, () => {
        const v = { name: s.name, file: s.file, kind: s.kind ?? 'prompt', language: s.language ?? null, durationMs: s.duration_ms ?? 0 };
        const cur = dir.sounds.findByName(s.name);
        if (cur) dir.sounds.update(cur.id, v);
        else dir.sounds.create(v);
      }),
    );
    const soundId = (name: string | undefined): number | null => (name === undefined ? null : dir.sounds.findByName(name)!.id);

    // users (administrators not in the file are kept)
    const userNames = new Set(site.users.map((u) => u.username));
    for (const u of dir.users.list()) if (!userNames.has(u.username) && u.role !== 'admin') dir.users.delete(u.id);
    site.users.forEach((u, i) =>
      at(`users[${i}]`, () => {
        const v = { name: u.name ?? '', email: u.email ?? null, role: u.role ?? 'user', rights: u.rights ?? [], language: u.language ?? 'en', dnd: u.dnd ?? false };
        const cur = dir.users.findByUsername(u.username);
        const id = cur ? dir.users.update(cur.id, v).id : dir.users.create({ username: u.username, ...v }, { assignToAllNumbers: false }).id;
        if (u.password !== undefined) dir.users.setPassword(id, u.password);
        else if (u.password_hash !== undefined) dir.users.setPasswordHash(id, u.password_hash);
      }),
    );
    const userId = (name: string): number => dir.users.findByUsername(name)!.id;

    // extensions (secrets kept when the file gives none; generated for new ones)
    const extNumbers = new Set(site.extensions.map((e) => e.number));
    for (const e of dir.extensions.list()) if (!extNumbers.has(e.number)) dir.extensions.delete(e.id);
    // SIP usernames may move between extensions: free them first (HA1 is recomputed by every update below).
    dir.extensions.releaseSipUsernames();
    site.extensions.forEach((e, i) =>
      at(`extensions[${i}]`, () => {
        const v = {
          number: e.number,
          userId: e.user === undefined ? null : userId(e.user),
          displayName: e.display_name ?? '',
          sipUsername: e.sip_username ?? e.number,
          digestAlgorithm: e.digest_algorithm ?? ('MD5' as const),
          voicemailEnabled: e.voicemail ?? true,
          voicemailPin: e.voicemail_pin ?? null,
          requireTlsSrtp: e.require_tls_srtp ?? false,
          ...(e.secret !== undefined ? { secret: e.secret } : {}),
        };
        const cur = dir.extensions.findByNumber(e.number);
        if (cur) dir.extensions.update(cur.id, v);
        else {
          const created = dir.extensions.create(v);
          if (e.secret === undefined) summary.generatedSecrets[created.number] = created.secret;
        }
      }),
    );

    // trunks and routes
    const trunkNames = new Set(site.trunks.map((t) => t.name));
    for (const t of dir.trunks.list()) if (!trunkNames.has(t.name)) dir.trunks.delete(t.id);
    for (const r of dir.trunks.routes()) dir.trunks.deleteRoute(r.id);
    site.trunks.forEach((t, i) =>
      at(`trunks[${i}]`, () => {
        const v = {
          name: t.name,
          host: t.host,
          port: t.port,
          transport: t.transport,
          register: t.register,
          username: t.username,
          authUsername: t.auth_username,
          secret: t.secret,
          realm: t.realm,
          fromDomain: t.from_domain,
          callerId: t.caller_id,
          allowedIps: t.allowed_ips,
          expires: t.expires,
          enabled: t.enabled,
        };
        const cur = dir.trunks.findByName(t.name);
        // What the file leaves out is the default (trunkWithDefaults), for a new trunk and a kept one alike.
        const id = cur ? dir.trunks.update(cur.id, trunkWithDefaults(v)).id : dir.trunks.create(v).id;
        (t.routes ?? []).forEach((r, j) =>
          at(`trunks[${i}].routes[${j}]`, () =>
            dir.trunks.createRoute({ name: r.name, pattern: r.pattern, strip: r.strip ?? 0, prepend: r.prepend ?? '', priority: r.priority ?? 0, trunkId: id }),
          ),
        );
      }),
    );

    // scenarios (a changed scenario gets a new version; an unchanged one keeps its version)
    const scenarioNames = new Set(site.scenarios.map((s) => s.name));
    for (const s of dir.scenarios.list()) if (!scenarioNames.has(s.name)) dir.scenarios.delete(s.id);
    site.scenarios.forEach((s, i) =>
      at(`scenarios[${i}]`, () => {
        const cur = dir.scenarios.findByName(s.name);
        if (cur) dir.scenarios.save(cur.id, s.actions);
        else dir.scenarios.create(s.name, s.actions);
      }),
    );

    // queues and participants
    const queueNames = new Set(site.queues.map((q) => q.name));
    for (const q of dir.queues.list()) if (!queueNames.has(q.name)) dir.queues.delete(q.id);
    // Short numbers may move between queues (a swap): free them all first; every kept queue gets its own back below.
    dir.queues.releaseShortNumbers();
    site.queues.forEach((q, i) =>
      at(`queues[${i}]`, () => {
        const v = {
          name: q.name,
          shortNumber: q.short_number,
          strategy: q.strategy,
          ringTime: q.ring_time,
          maxWait: q.max_wait,
          wrapUp: q.wrap_up,
          timeoutAction: q.timeout_action,
          timeoutSoundId: soundId(q.timeout_sound),
          mohSoundId: q.music_on_hold === DEFAULT_QUEUE_MUSIC ? null : soundId(q.music_on_hold),
          mohDefault: q.music_on_hold === DEFAULT_QUEUE_MUSIC,
          announcePosition: q.announce_position,
          openingHours: q.opening_hours,
          closed: q.closed,
          exceptionalClosure: q.exceptional_closure,
          closureAction: q.closure_action,
          autoPauseAfter: q.auto_pause_after,
          callbackOrder: q.callback_order,
          serviceLevel: q.service_level,
          lostCallRules: lostCallRulesFromSite(q.lost_call_rules),
        };
        const cur = dir.queues.findByName(q.name);
        // What the file leaves out is the default (queueWithDefaults), for a new queue and a kept one alike.
        const id = cur ? dir.queues.update(cur.id, queueWithDefaults(v)).id : dir.queues.create(v).id;
        dir.queues.setMembers(id, (q.members ?? []).map((m) => ({ userId: userId(m) })));
      }),
    );

    // numbers and their assigned users
    const dids = new Set(site.numbers.map((n) => n.did));
    for (const n of dir.numbers.list()) if (!dids.has(n.did)) dir.numbers.delete(n.id);
    site.numbers.forEach((n, i) =>
      at(`numbers[${i}]`, () => {
        const v = {
          did: n.did,
          name: n.name ?? '',
          trunkId: n.trunk === undefined ? null : dir.trunks.findByName(n.trunk)!.id,
          mode: n.mode ?? ('receive' as const),
          forwardTo: n.forward_to ?? null,
          record: n.record ?? false,
          ringMode: n.ring_mode ?? ('simultaneous' as const),
          behaviour: n.behaviour ?? null,
          offlineAction: n.offline_action ?? ({ type: 'voicemail' } as OfflineAction),
          unavailableAction: n.unavailable_action ?? ({ type: 'busy' } as OfflineAction),
          welcomeSoundId: soundId(n.welcome_sound),
          scenarioId: n.scenario === undefined ? null : dir.scenarios.findByName(n.scenario)!.id,
          userIds: (n.users ?? site.users.map((u) => u.username)).map(userId),
        };
        const cur = dir.numbers.findByDid(n.did);
        const id = cur ? dir.numbers.update(cur.id, v).id : dir.numbers.create(v).id;
        dir.numbers.setVoicedropSound(id, soundId(n.voicedrop_sound));
      }),
    );

    // phones
    const macs = new Set(site.phones.map((p) => p.mac));
    for (const p of dir.phones.list()) if (!macs.has(p.mac)) dir.phones.delete(p.id);
    site.phones.forEach((p, i) =>
      at(`phones[${i}]`, () => {
        const v = {
          mac: p.mac,
          vendor: p.vendor,
          model: p.model ?? null,
          extensionId: p.extension === undefined ? null : dir.extensions.findByNumber(p.extension)!.id,
          label: p.label ?? null,
          settings: p.settings ?? {},
        };
        const cur = dir.phones.findByMac(p.mac);
        if (cur) dir.phones.update(cur.id, v);
        else dir.phones.create(v);
      }),
    );
  });
  return summary;
}

function put<T extends object, K extends keyof T>(o: T, k: K, v: T[K] | null | undefined): void {
  if (v !== null && v !== undefined) o[k] = v;
}

/** The current site as a SiteFile (every list in a stable order; null/empty values left out). */
export function readSite(store: Store, realm: string): SiteFile {
  const dir = new Directory(store.db, realm);
  const users = dir.users.list();
  const userName = new Map(users.map((u) => [u.id, u.username]));
  const sounds = dir.sounds.list();
  const soundName = new Map(sounds.map((s) => [s.id, s.name]));
  const trunks = dir.trunks.list();
  const scenarios = dir.scenarios.list();
  const exts = dir.extensions.list();
  const site: SiteFile = { version: SITE_FILE_VERSION, settings: {}, holidays: [], service_categories: new ServiceCatalogRepository(store.db).list(), users: [], extensions: [], sounds: [], trunks: [], scenarios: [], queues: [], numbers: [], phones: [] };
  for (const { key, value } of dir.settings.list(SETTINGS_PREFIX)) site.settings[key.slice(SETTINGS_PREFIX.length)] = JSON.parse(value) as SettingValue;
  for (const h of new CalendarRepository(store.db).customHolidays()) site.holidays.push(h.name ? { date: h.date, name: h.name } : { date: h.date });
  for (const u of users) {
    const hash = dir.users.passwordHash(u.id);
    const o: SiteFile['users'][number] = { username: u.username };
    if (u.name) o.name = u.name;
    put(o, 'email', u.email);
    o.role = u.role;
    if (u.rights.length) o.rights = u.rights;
    o.language = u.language;
    if (u.dnd) o.dnd = true;
    put(o, 'password_hash', hash);
    site.users.push(o);
  }
  for (const e of exts) {
    const o: SiteFile['extensions'][number] = { number: e.number };
    put(o, 'user', e.userId === null ? null : userName.get(e.userId));
    if (e.displayName) o.display_name = e.displayName;
    o.sip_username = e.sipUsername;
    o.secret = e.secret;
    o.digest_algorithm = e.digestAlgorithm;
    o.voicemail = e.voicemailEnabled;
    put(o, 'voicemail_pin', e.voicemailPin);
    if (e.requireTlsSrtp) o.require_tls_srtp = true;
    site.extensions.push(o);
  }
  for (const s of sounds) {
    const o: SiteFile['sounds'][number] = { name: s.name, file: s.file, kind: s.kind };
    put(o, 'language', s.language);
    if (s.durationMs) o.duration_ms = s.durationMs;
    site.sounds.push(o);
  }
  const routes = dir.trunks.routes();
  for (const t of trunks) {
    const o: SiteFile['trunks'][number] = { name: t.name, host: t.host, port: t.port, transport: t.transport, register: t.register };
    put(o, 'username', t.username);
    put(o, 'auth_username', t.authUsername);
    put(o, 'secret', t.secret);
    put(o, 'realm', t.realm);
    put(o, 'from_domain', t.fromDomain);
    put(o, 'caller_id', t.callerId);
    if (t.allowedIps.length) o.allowed_ips = t.allowedIps;
    o.expires = t.expires;
    o.enabled = t.enabled;
    const rs = routes.filter((r) => r.trunkId === t.id).map((r) => {
      const ro: NonNullable<SiteFile['trunks'][number]['routes']>[number] = { name: r.name, pattern: r.pattern };
      if (r.strip) ro.strip = r.strip;
      if (r.prepend) ro.prepend = r.prepend;
      ro.priority = r.priority;
      return ro;
    });
    if (rs.length) o.routes = rs;
    site.trunks.push(o);
  }
  for (const s of scenarios) site.scenarios.push({ name: s.name, actions: s.actions });
  for (const q of dir.queues.list()) {
    const o: SiteFile['queues'][number] = { name: q.name, short_number: q.shortNumber, strategy: q.strategy, ring_time: q.ringTime, max_wait: q.maxWait, wrap_up: q.wrapUp, timeout_action: q.timeoutAction };
    put(o, 'timeout_sound', q.timeoutSoundId === null ? null : soundName.get(q.timeoutSoundId));
    put(o, 'music_on_hold', q.mohSoundId !== null ? soundName.get(q.mohSoundId) : q.mohDefault ? DEFAULT_QUEUE_MUSIC : null);
    o.announce_position = q.announcePosition;
    put(o, 'opening_hours', q.openingHours);
    if (q.closed) o.closed = true;
    if (q.exceptionalClosure) o.exceptional_closure = true;
    put(o, 'closure_action', q.closureAction);
    if (q.autoPauseAfter !== 0) o.auto_pause_after = q.autoPauseAfter;
    if (q.callbackOrder !== 'agent_first') o.callback_order = q.callbackOrder;
    if (q.serviceLevel !== 20) o.service_level = q.serviceLevel;
    const rules = lostCallRulesToSite(q.lostCallRules);
    if (rules) o.lost_call_rules = rules;
    o.members = dir.queues.members(q.id).map((m) => userName.get(m.userId)!);
    site.queues.push(o);
  }
  const trunkName = new Map(trunks.map((t) => [t.id, t.name]));
  const scenarioName = new Map(scenarios.map((s) => [s.id, s.name]));
  for (const n of dir.numbers.list()) {
    const o: SiteFile['numbers'][number] = { did: n.did };
    if (n.name) o.name = n.name;
    put(o, 'trunk', n.trunkId === null ? null : trunkName.get(n.trunkId));
    o.mode = n.mode;
    put(o, 'forward_to', n.forwardTo);
    o.record = n.record;
    o.ring_mode = n.ringMode;
    put(o, 'behaviour', n.behaviour);
    o.offline_action = n.offlineAction;
    o.unavailable_action = n.unavailableAction;
    put(o, 'welcome_sound', n.welcomeSoundId === null ? null : soundName.get(n.welcomeSoundId));
    const vd = dir.numbers.voicedropSound(n.id);
    put(o, 'voicedrop_sound', vd === null ? null : soundName.get(vd));
    put(o, 'scenario', n.scenarioId === null ? null : scenarioName.get(n.scenarioId));
    // Absent = every user (what import does with no list): keeps big sites' files short.
    if (n.userIds.length !== users.length) o.users = n.userIds.map((id) => userName.get(id)!).filter((x) => x !== undefined);
    site.numbers.push(o);
  }
  const extNumber = new Map(exts.map((e) => [e.id, e.number]));
  for (const p of dir.phones.list()) {
    const o: SiteFile['phones'][number] = { mac: p.mac, vendor: p.vendor };
    put(o, 'model', p.model);
    put(o, 'extension', p.extensionId === null ? null : extNumber.get(p.extensionId));
    put(o, 'label', p.label);
    if (Object.keys(p.settings).length) o.settings = p.settings;
    site.phones.push(o);
  }
  return site;
}

/** The current site as site file text (YAML), the same format import reads. */
export function exportSiteText(store: Store, realm: string): string {
  const site = readSite(store, realm);
  const body: Record<string, unknown> = { version: site.version };
  for (const k of ['settings', 'holidays', 'service_categories', 'users', 'extensions', 'sounds', 'trunks', 'scenarios', 'queues', 'numbers', 'phones'] as const) {
    const v = site[k];
    if (Array.isArray(v) ? v.length > 0 : Object.keys(v).length > 0) body[k] = v;
  }
  return (
    '# Relais site file (docs/site-file.md). It holds SIP secrets and password hashes: keep it private.\n' +
    stringify(body, { lineWidth: 0, aliasDuplicateObjects: false })
  );
}

const RULE_KEYS = [
  ['after_abandon', 'afterAbandon'],
  ['after_timeout', 'afterTimeout'],
  ['after_no_agent', 'afterNoAgent'],
  ['min_wait', 'minWaitSeconds'],
  ['business_hours_only', 'businessHoursOnly'],
  ['max_attempts', 'maxAttempts'],
  ['retry_delay', 'retryDelayMinutes'],
] as const;

function lostCallRulesFromSite(r: SiteLostCallRules | undefined): LostCallRules {
  const out: LostCallRules = { ...DEFAULT_LOST_CALL_RULES };
  if (!r) return out;
  for (const [site, key] of RULE_KEYS) {
    const v = r[site];
    if (v !== undefined) (out as unknown as Record<string, unknown>)[key] = v;
  }
  return out;
}

/** Only the rules that differ from the defaults, or undefined when none does (export stays short). */
function lostCallRulesToSite(r: LostCallRules): SiteLostCallRules | undefined {
  const out: Record<string, unknown> = {};
  for (const [site, key] of RULE_KEYS) if (r[key] !== DEFAULT_LOST_CALL_RULES[key]) out[site] = r[key];
  return Object.keys(out).length ? (out as SiteLostCallRules) : undefined;
}
