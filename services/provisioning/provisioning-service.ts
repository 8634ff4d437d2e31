// Desk-phone provisioning: which file a phone gets (vendor template, secrets or not), the inventory of phones seen
// and their status, assignment (by hand or the next free extension), per-device credentials, the firmware cache.
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Directory, Extension, Phone, PhoneVendor } from '../directory/index.js';
import { PHONE_VENDORS, generateSecret, normaliseMac } from '../directory/index.js';
import { RelaisError, TypedEmitter, type Clock, type Logger } from '../shared/index.js';
import type { Database } from '../storage/index.js';
import { InventoryRepository, type FetchLogEntry, type FirmwareRecord, type InventoryRecord, type SeenVia } from './inventory-repository.js';
import type { LineKey, PhoneView } from './phone-view.js';
import { renderTemplate } from './template.js';
import { TemplateStore } from './template-store.js';
import { zoneOffsets } from './time-zone.js';
import { VENDORS, vendorFromMac, vendorFromUserAgent, type VendorProfile } from './vendors/index.js';

export type PhoneStatus = 'unassigned' | 'provisioned' | 'registered' | 'failing';

/** Live settings (site file `settings:` or PUT /api/phones/settings), read at every use. */
export interface ProvisioningSettings {
  /** Answer SIP plug-and-play (ua-profile SUBSCRIBE) and listen on the multicast group. */
  pnp: boolean;
  /** A phone seen for the first time gets the next free extension at once. */
  autoAssign: boolean;
  /** Feature code of the day/night override key; null: no such key. */
  overrideCode: string | null;
  ntpServer: string;
  /** Add a BLF key per other extension when a phone has no keys of its own. */
  blfExtensions: boolean;
  /** Secrets only with the phone's device credentials, HTTPS alone is not enough (a LAN host may know a MAC). */
  requireCredentials: boolean;
  /** Every assigned phone on SIP over TLS with SRTP offered (when the box serves TLS); docs/provisioning.md. */
  tls: boolean;
}

export const SETTING_KEYS = {
  pnp: 'phones_pnp',
  autoAssign: 'phones_auto_assign',
  overrideCode: 'phones_override_code',
  ntpServer: 'phones_ntp_server',
  blfExtensions: 'phones_blf_extensions',
  requireCredentials: 'phones_require_credentials',
  tls: 'phones_tls',
} as const;

/** Documented default of the day/night override key (docs/provisioning.md). */
export const DEFAULT_OVERRIDE_CODE = '*30';
const DEFAULT_NTP = 'pool.ntp.org';
/** Where the box's certificate is served beside the phone files. */
export const CA_FILE = 'relais-ca.pem';
const DEFAULT_SIP_TLS_PORT = 5061;

/** A phone that fetched its secrets and shows no registration after this long is "failing". */
const REGISTER_GRACE_MS = 120_000;

export interface RegistrationInfo {
  address: string;
  port: number;
  userAgent: string | undefined;
  expiresAt: number;
}

export interface ProvisioningOptions {
  db: Database;
  directory: Directory;
  clock: Clock;
  logger: Logger;
  /** SIP domain (digest realm of phones and of the device credentials). */
  domain: string;
  dataDir: string;
  sipPort: number;
  /** The SIP over TLS port phones on TLS are given (the one bound; undefined = 5061). */
  sipTlsPort?: () => number | undefined;
  /** The box's certificate (PEM), given to phones on TLS to trust; undefined when there is none yet. */
  certificatePem?: () => string | undefined;
  /** The box's address as phones reach it, when the request does not tell (TFTP, PnP). */
  advertisedHost: () => string;
  /** Console HTTP port and, when serving, the HTTPS port (read at use: HTTPS may start later or not at all). */
  ports: () => { http: number; https: number | undefined };
  /** Live registrations of an extension (the registrar). */
  registrations?: (extensionId: number) => RegistrationInfo[];
  /** Voicemail access code (the call module's, *97). */
  voicemailNumber?: string;
  templates?: TemplateStore;
}

export interface FileRequest {
  /** The requested file name, already without the /provisioning/ prefix. */
  name: string;
  via: 'http' | 'https' | 'tftp';
  ip: string;
  userAgent?: string | undefined;
  /** Host name the phone used to reach the box (HTTP Host), so the file names the same address. */
  host?: string | undefined;
  /** The request passed the device's digest credentials (HTTP under /provisioning/auth/). */
  authenticated?: boolean;
}

export type FileResult =
  | { status: 200; body: Buffer; contentType: string; mac: string | undefined; secrets: boolean; file: string }
  | { status: 403 | 404; code: string; message: string; mac: string | undefined };

export interface PhoneInventoryEntry {
  mac: string;
  vendor: string | null;
  model: string | null;
  firmware: string | null;
  ip: string | null;
  label: string | null;
  extension: string | null;
  /** Assigned in the directory (site file phones[] or the API). */
  known: boolean;
  status: PhoneStatus;
  reason: string;
  keys: LineKey[];
  keysDropped: number;
  configFile: string | null;
  firstSeenAt: number | null;
  lastSeenAt: number | null;
  seenVia: SeenVia | null;
  lastFetch: { at: number; file: string | null; via: SeenVia | null; secrets: boolean } | null;
  lastRegistration: { at: number | null; status: number | null; detail: string | null } | null;
  registrations: RegistrationInfo[];
  checkSync: { at: number; result: string | null } | null;
}

export interface ProvisioningEvents {
  [event: string]: unknown[];
  /** A MAC the box had never seen (PnP, a file request, a REGISTER). */
  seen: [{ mac: string; via: SeenVia; vendor: string | undefined }];
  /** A phone got the next free extension automatically. */
  assigned: [{ mac: string; extension: string }];
  /** Every file request, served or not. */
  fetched: [FetchLogEntry];
}

/** MAC in a User-Agent ("Yealink SIP-T46S 66.86.0.15 00:15:65:aa:bb:cc", "… DevId 000b82aabbcc"). */
export function macFromText(text: string | undefined): string | undefined {
  if (!text) return undefined;
  const m = /\b([0-9a-f]{2}(?:[:-][0-9a-f]{2}){5})\b/i.exec(text) ?? /(?:devid|mac)[\s:=]*([0-9a-f]{12})\b/i.exec(text);
  return m ? normaliseMac(m[1]!) : undefined;
}

/** MAC in a +sip.instance URN (RFC 5626): phones put it last in "urn:uuid:00000000-0000-1000-8000-001565aabbcc". */
export function macFromInstance(instance: string | undefined): string | undefined {
  const m = instance ? /urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-([0-9a-f]{12})/i.exec(instance) : null;
  const mac = m ? normaliseMac(m[1]!) : undefined;
  return mac && mac !== '000000000000' ? mac : undefined;
}

/** Model and firmware from a vendor User-Agent ("Yealink SIP-T46S 66.86.0.15", "snomD785/10.1.54.13"). */
export function modelFromUserAgent(userAgent: string | undefined): { model?: string; firmware?: string } {
  if (!userAgent) return {};
  const m =
    /(?:yealink|fanvil)\s+(?:sip-)?([A-Za-z0-9_-]+)\s+([\d.]+)/i.exec(userAgent) ??
    /grandstream\s+(?:model\s+hw\s+)?([A-Za-z0-9_-]+)\s+(?:sw\s+)?([\d.]+)/i.exec(userAgent) ??
    /snom([A-Za-z0-9]+)[-/ ]+(?:sip\s+)?([\d.]+)/i.exec(userAgent) ??
    /polycom[A-Za-z]*-([A-Za-z0-9_]+)-UA\/([\d.]+)/i.exec(userAgent) ??
    /cisco\/(spa[0-9a-z]+)-([\d.a-z()]+)/i.exec(userAgent);
  return m ? { model: m[1]!, firmware: m[2]! } : {};
}

export class ProvisioningService extends TypedEmitter<ProvisioningEvents> {
  readonly inventory: InventoryRepository;
  readonly templates: TemplateStore;
  readonly firmwareDir: string;
  private readonly log: Logger;

  constructor(private readonly opts: ProvisioningOptions) {
    super();
    this.inventory = new InventoryRepository(opts.db);
    this.templates = opts.templates ?? new TemplateStore(path.join(opts.dataDir, 'provisioning', 'templates'));
    this.firmwareDir = path.join(opts.dataDir, 'provisioning', 'firmware');
    this.log = opts.logger.child({ module: 'provisioning' });
  }

  // ---------------------------------------------------------------- settings

  settings(): ProvisioningSettings {
    const s = this.opts.directory.settings;
    const bool = (key: string, def: boolean): boolean => {
      const v = s.site<string | number | boolean>(key);
      return v === undefined ? def : v === true || v === 1 || v === 'true' || v === 'on' || v === 'yes';
    };
    const override = s.site<string | number | boolean>(SETTING_KEYS.overrideCode);
    return {
      pnp: bool(SETTING_KEYS.pnp, true),
      autoAssign: bool(SETTING_KEYS.autoAssign, false),
      overrideCode: override === undefined ? DEFAULT_OVERRIDE_CODE : override === false || override === '' || override === 'off' ? null : String(override),
      ntpServer: String(s.site<string>(SETTING_KEYS.ntpServer) ?? DEFAULT_NTP),
      blfExtensions: bool(SETTING_KEYS.blfExtensions, true),
      requireCredentials: bool(SETTING_KEYS.requireCredentials, false),
      tls: bool(SETTING_KEYS.tls, false),
    };
  }

  updateSettings(patch: Partial<ProvisioningSettings>): ProvisioningSettings {
    const s = this.opts.directory.settings;
    if (patch.overrideCode !== undefined && patch.overrideCode !== null && !/^[*#0-9]{1,16}$/.test(patch.overrideCode)) {
      throw new RelaisError('provisioning.override_code_invalid', `override code "${patch.overrideCode}" must be digits, * and # (e.g. ${DEFAULT_OVERRIDE_CODE})`, { field: 'overrideCode' });
    }
    if (patch.ntpServer !== undefined && !/^[A-Za-z0-9.-]{1,253}$/.test(patch.ntpServer)) {
      throw new RelaisError('provisioning.ntp_invalid', `NTP server "${patch.ntpServer}" is not a host name or address`, { field: 'ntpServer' });
    }
    for (const [k, key] of Object.entries(SETTING_KEYS) as Array<[keyof ProvisioningSettings, string]>) {
      const v = patch[k];
      if (v === undefined) continue;
      s.setJson(`site.${key}`, v === null ? 'off' : v);
    }
    return this.settings();
  }

  // ---------------------------------------------------------------- URLs

  /** Base URL phones fetch from later: HTTPS when the box serves it, else the credentialed HTTP path. */
  provisioningUrl(host?: string): string {
    const h = host ?? this.opts.advertisedHost();
    const ports = this.opts.ports();
    return ports.https !== undefined ? `https://${h}:${ports.https}/provisioning/` : `http://${h}:${ports.http}/provisioning/auth/`;
  }

  /** Plain HTTP base URL: what SIP plug-and-play hands out and DHCP option 66 names (no secrets there). */
  bootstrapUrl(host?: string): string {
    return `http://${host ?? this.opts.advertisedHost()}:${this.opts.ports().http}/provisioning/`;
  }

  // ---------------------------------------------------------------- sightings

  /** Records that a phone showed itself; assigns the next free extension when that setting is on. */
  saw(mac: string, via: SeenVia, facts: { ip?: string | undefined; userAgent?: string | undefined; vendor?: string | undefined; model?: string | undefined; firmware?: string | undefined } = {}): void {
    const ua = modelFromUserAgent(facts.userAgent);
    const vendor = facts.vendor ?? vendorFromUserAgent(facts.userAgent) ?? this.opts.directory.phones.findByMac(mac)?.vendor ?? vendorFromMac(mac);
    const isNew = this.inventory.saw({
      mac,
      via,
      at: this.opts.clock.now(),
      vendor,
      model: facts.model ?? ua.model,
      firmware: facts.firmware ?? ua.firmware,
      ip: facts.ip,
      userAgent: facts.userAgent,
    });
    if (isNew) {
      this.log.info('phone seen for the first time', { mac, via, vendor, ip: facts.ip });
      this.emit('seen', { mac, via, vendor });
    }
    if (!this.opts.directory.phones.findByMac(mac) && this.settings().autoAssign) this.autoAssign(mac);
  }

  private autoAssign(mac: string): void {
    const rec = this.inventory.get(mac);
    const vendor = (rec?.vendor ?? vendorFromMac(mac)) as PhoneVendor | undefined;
    if (!vendor || !PHONE_VENDORS.includes(vendor)) {
      this.log.info('phone not assigned automatically: vendor unknown', { mac });
      return;
    }
    const ext = this.nextFreeExtension();
    if (!ext) {
      this.log.warn('phone not assigned automatically: every extension has a phone', { mac });
      return;
    }
    this.opts.directory.phones.create({ mac, vendor, model: rec?.model ?? null, extensionId: ext.id });
    this.log.info('phone assigned automatically', { mac, extension: ext.number });
    this.emit('assigned', { mac, extension: ext.number });
  }

  /** The vendor of a MAC: as assigned, else as seen, else from its OUI. */
  vendorOf(mac: string): PhoneVendor | undefined {
    const v = this.opts.directory.phones.findByMac(mac)?.vendor ?? this.inventory.get(mac)?.vendor ?? vendorFromMac(mac);
    return v && PHONE_VENDORS.includes(v as PhoneVendor) ? (v as PhoneVendor) : undefined;
  }

  /** The lowest-numbered extension that no phone carries. */
  nextFreeExtension(): Extension | undefined {
    const taken = new Set(this.opts.directory.phones.list().map((p) => p.extensionId));
    return this.opts.directory.extensions.list().find((e) => !taken.has(e.id));
  }

  /** A REGISTER (seen by the registrar's observer): a vendor phone becomes known; a known phone's result is kept. */
  observeRegister(e: { address: string; userAgent: string | undefined; instance: string | undefined; username: string | undefined; status: number; cause: string }): void {
    // Half of all REGISTERs are the first, unauthenticated try: nothing to learn from them (and this runs per REGISTER).
    if (e.cause === 'challenge') return;
    const vendor = vendorFromUserAgent(e.userAgent);
    let mac = macFromInstance(e.instance) ?? macFromText(e.userAgent);
    if (!mac && e.username) {
      // No MAC on the wire: the only phone of the account, else the phone that fetched its file from this address.
      const macs = this.inventory.macsOfSipUser(e.username);
      mac = macs.length === 1 ? macs[0] : macs.length > 1 ? macs.find((m) => this.inventory.get(m)?.ip === e.address) : undefined;
    }
    if (!mac && vendor) mac = this.inventory.findByIp(e.address)?.mac;
    if (!mac) return;
    const known = this.opts.directory.phones.findByMac(mac) !== undefined || this.inventory.get(mac) !== undefined;
    if (!known && !vendor) return;
    this.saw(mac, 'register', { ip: e.address, userAgent: e.userAgent, vendor });
    this.inventory.recordRegistration(mac, this.opts.clock.now(), e.status, e.cause);
  }

  // ---------------------------------------------------------------- files

  /** Finds and renders the file a phone asks for; logs the fetch (inventory "last config fetch"). */
  serve(req: FileRequest): FileResult {
    const result = this.resolve(req);
    const entry: FetchLogEntry = {
      at: this.opts.clock.now(),
      mac: result.mac ?? null,
      ip: req.ip,
      via: req.via,
      file: req.name.slice(0, 200),
      status: result.status,
      secrets: result.status === 200 && result.secrets,
      userAgent: req.userAgent?.slice(0, 200) ?? null,
    };
    try {
      this.inventory.recordFetch(entry);
    } catch (err) {
      this.log.warn('fetch not logged', { error: (err as Error).message });
    }
    this.log.info('provisioning fetch', { file: entry.file, via: req.via, ip: req.ip, mac: entry.mac, status: entry.status, secrets: entry.secrets });
    this.emit('fetched', entry);
    return result;
  }

  private resolve(req: FileRequest): FileResult {
    const name = req.name;
    if (name.length === 0 || name.length > 200 || name.includes('/') || name.includes('\\') || name.includes('..') || name.includes('\0')) {
      return { status: 403, code: 'provisioning.path_refused', message: `"${name.slice(0, 80)}" is not a file name this server serves`, mac: undefined };
    }
    if (name.startsWith('firmware-')) return this.firmwareFile(name);
    if (name === CA_FILE) return this.caFile();
    const matches: Array<{ profile: VendorProfile; template: string; perPhone: boolean; mac: string | undefined }> = [];
    for (const profile of Object.values(VENDORS)) {
      for (const f of profile.files) {
        const m = f.pattern.exec(name);
        if (m) matches.push({ profile, template: f.template, perPhone: f.perPhone, mac: m[1] ? normaliseMac(m[1]) : undefined });
      }
    }
    const mac = matches.find((m) => m.mac)?.mac ?? (/([0-9a-f]{12})/i.exec(name) ? normaliseMac(/([0-9a-f]{12})/i.exec(name)![1]!) : undefined);
    if (mac && mac !== '000000000000') this.saw(mac, req.via, { ip: req.ip, userAgent: req.userAgent });
    if (matches.length === 0) return { status: 404, code: 'provisioning.not_found', message: `no such file: ${name}`, mac };

    const common = matches.find((m) => !m.perPhone);
    if (common) return this.render(common.profile, common.template, undefined, req, name);

    const phone = this.opts.directory.phones.findByMac(mac!);
    if (!phone) return { status: 404, code: 'provisioning.unknown_phone', message: `phone ${mac} is not known; it is listed as seen for an administrator to assign`, mac };
    // Several vendors share a file name (<mac>.cfg: Yealink, Polycom, Fanvil): the phone's recorded vendor decides.
    const match = matches.find((m) => m.profile.vendor === phone.vendor);
    if (!match) return { status: 404, code: 'provisioning.wrong_vendor', message: `phone ${mac} is a ${phone.vendor}; ${name} is not one of its files`, mac };
    return this.render(match.profile, match.template, phone, req, name);
  }

  /** The box's certificate (public, no secret): phones on TLS install it as trusted (Yealink fetches it by URL). */
  private caFile(): FileResult {
    const pem = this.opts.certificatePem?.();
    if (!pem) return { status: 404, code: 'provisioning.no_certificate', message: 'the box has no certificate yet (it is made at the first start with TLS)', mac: undefined };
    return { status: 200, body: Buffer.from(pem, 'utf8'), contentType: 'application/x-pem-file', mac: undefined, secrets: false, file: CA_FILE };
  }

  private firmwareFile(name: string): FileResult {
    const f = this.inventory.firmwareList().find((r) => r.fileName === name);
    if (!f) return { status: 404, code: 'provisioning.firmware_missing', message: `no firmware file ${name}`, mac: undefined };
    try {
      return { status: 200, body: fs.readFileSync(path.join(this.firmwareDir, f.fileName)), contentType: 'application/octet-stream', mac: undefined, secrets: false, file: name };
    } catch {
      return { status: 404, code: 'provisioning.firmware_missing', message: `firmware file ${name} is listed but missing on disk; upload it again`, mac: undefined };
    }
  }

  private render(profile: VendorProfile, template: string, phone: Phone | undefined, req: FileRequest, name: string): FileResult {
    const secretsAllowed = req.authenticated === true || (req.via === 'https' && !this.settings().requireCredentials);
    const view = this.view(profile, phone, { secrets: secretsAllowed, host: req.host });
    const source = this.templates.get(profile.vendor, template);
    const body = renderTemplate(source.compiled, profile.view(view.view), profile.escape);
    return { status: 200, body: Buffer.from(body, 'utf8'), contentType: profile.contentType, mac: phone?.mac, secrets: view.view.secrets, file: name };
  }

  /** The generated per-phone file with secrets (what GET /api/phones/:mac/config gives an administrator). */
  configFor(mac: string): { file: string; contentType: string; body: string } {
    const phone = this.requirePhone(mac);
    const profile = VENDORS[phone.vendor];
    const file = profile.configFile(phone.mac);
    const tpl = profile.files.find((f) => f.perPhone && f.pattern.test(file))!.template;
    const source = this.templates.get(profile.vendor, tpl);
    const { view } = this.view(profile, phone, { secrets: true, host: undefined });
    return { file, contentType: profile.contentType, body: renderTemplate(source.compiled, profile.view(view), profile.escape) };
  }

  private view(profile: VendorProfile, phone: Phone | undefined, o: { secrets: boolean; host: string | undefined }): { view: PhoneView; dropped: number } {
    const dir = this.opts.directory;
    const settings = this.settings();
    const ext = phone?.extensionId != null ? dir.extensions.get(phone.extensionId) : undefined;
    const tzName = dir.settings.site<string>('timezone') ?? Intl.DateTimeFormat().resolvedOptions().timeZone ?? 'UTC';
    const lang = dir.settings.site<string>('language');
    const { keys, dropped } = ext ? this.lineKeys(phone!, ext, profile.maxKeys, settings) : { keys: [], dropped: 0 };
    // An extension that requires TLS + SRTP (or a phone set to transport: tls) gets SIP over TLS and mandatory SRTP:
    // the registrar refuses that extension's REGISTER over anything else.
    const required = ext?.requireTlsSrtp === true || phone?.settings['transport'] === 'tls';
    // The site's phones_tls moves every assigned phone to TLS with SRTP offered, when the box serves TLS at all.
    const tlsPort = this.opts.sipTlsPort?.();
    const secure = required || (settings.tls && ext !== undefined && tlsPort !== undefined);
    const transport = secure ? 'tls' : phone?.settings['transport'] === 'tcp' ? 'tcp' : 'udp';
    const firmware = phone?.model ? this.inventory.firmware(phone.model) : undefined;
    const host = o.host ?? this.opts.advertisedHost();
    const view: PhoneView = {
      mac: phone?.mac ?? '000000000000',
      vendor: profile.vendor,
      model: phone?.model ?? '',
      assigned: ext !== undefined,
      secrets: ext !== undefined && o.secrets,
      account: ext
        ? {
            number: ext.number,
            displayName: ext.displayName || ext.number,
            label: phone?.label ?? (ext.displayName || ext.number),
            username: ext.sipUsername,
            password: o.secrets ? ext.secret : '',
          }
        : { number: '', displayName: '', label: '', username: '', password: '' },
      server: { host, port: secure ? (tlsPort ?? DEFAULT_SIP_TLS_PORT) : this.opts.sipPort, transport },
      srtp: secure,
      srtpRequired: required,
      tls: secure ? { certificatePem: this.opts.certificatePem?.() ?? '', certificateUrl: `${this.bootstrapUrl(host)}${CA_FILE}` } : undefined,
      domain: this.opts.domain,
      timezone: { name: tzName, ...zoneOffsets(tzName, this.opts.clock.now()) },
      ntpServer: settings.ntpServer,
      language: lang === 'fr' || lang === 'es' ? lang : 'en',
      voicemail: { enabled: ext?.voicemailEnabled ?? false, number: this.opts.voicemailNumber ?? '*97' },
      keys,
      provisioningUrl: this.provisioningUrl(host),
      firmwareUrl: firmware ? `${this.bootstrapUrl(host)}${firmware.fileName}` : undefined,
    };
    return { view, dropped };
  }

  /**
   * Line keys: the phone's own (settings blfN / speedN, N = key order), else queue login/logout (*41/*42 + the
   * queue's short number) for the queues of its user, the day/night override key, then a BLF per other extension.
   */
  lineKeys(phone: Phone, ext: Extension, max: number, settings = this.settings()): { keys: LineKey[]; dropped: number } {
    const dir = this.opts.directory;
    const own = Object.entries(phone.settings)
      .map(([k, v]) => ({ m: /^(blf|speed)(\d{1,2})$/.exec(k), v: String(v) }))
      .filter((e) => e.m !== null)
      .sort((a, b) => Number(a.m![2]) - Number(b.m![2]))
      .map((e): LineKey => {
        const target = dir.extensions.findByNumber(e.v);
        return { kind: e.m![1] === 'blf' ? 'blf' : 'speeddial', value: e.v, label: target?.displayName || e.v };
      });
    let keys: LineKey[] = own;
    if (own.length === 0) {
      keys = [];
      const memberOf = ext.userId !== null ? new Set(dir.queues.queuesOf(ext.userId).map((m) => m.queueId)) : new Set<number>();
      for (const q of dir.queues.list()) {
        if (!memberOf.has(q.id)) continue;
        keys.push({ kind: 'blf', value: `*41${q.shortNumber}`, label: `${q.name} in` });
        keys.push({ kind: 'speeddial', value: `*42${q.shortNumber}`, label: `${q.name} out` });
      }
      if (settings.overrideCode) keys.push({ kind: 'blf', value: settings.overrideCode, label: 'Day/Night' });
      if (settings.blfExtensions) {
        for (const other of dir.extensions.list()) {
          if (other.id !== ext.id) keys.push({ kind: 'blf', value: other.number, label: other.displayName || other.number });
        }
      }
    }
    return { keys: keys.slice(0, max), dropped: Math.max(0, keys.length - max) };
  }

  // ---------------------------------------------------------------- device credentials

  /** The per-device digest credentials of a phone (user name = MAC); made on first use. */
  deviceCredentials(mac: string): { username: string; password: string } {
    const m = this.requireMac(mac);
    const password = this.inventory.devicePassword(m, () => generateSecret(20), this.opts.clock.now())!;
    return { username: m, password };
  }

  /** HA1 of a device's credentials in `realm`, for the HTTP digest check; undefined for a MAC without a phone. */
  deviceHa1(username: string, realm: string): string | undefined {
    const mac = normaliseMac(username);
    if (!mac || mac !== username.toLowerCase() || !this.opts.directory.phones.findByMac(mac)) return undefined;
    const password = this.inventory.devicePassword(mac, () => generateSecret(20), this.opts.clock.now())!;
    return createHash('md5').update(`${mac}:${realm}:${password}`).digest('hex');
  }

  // ---------------------------------------------------------------- inventory

  requireMac(mac: string): string {
    const m = /^[0-9a-fA-F]{12}$/.test(mac) ? mac.toLowerCase() : undefined;
    if (!m) throw new RelaisError('phone.mac_invalid', `"${mac.slice(0, 40)}" is not a MAC address: give 12 hex digits without separators`, { field: 'mac' });
    return m;
  }

  requirePhone(mac: string): Phone {
    const m = this.requireMac(mac);
    const p = this.opts.directory.phones.findByMac(m);
    if (!p) throw new RelaisError('phone.not_found', `phone ${m} is not assigned (see GET /api/phones for phones seen)`, { status: 404 });
    return p;
  }

  /** Phones assigned in the directory and MACs seen on the network (cheap: for /healthz). */
  counts(): { assigned: number; seen: number } {
    return { assigned: this.opts.directory.phones.list().filter((p) => p.extensionId !== null).length, seen: this.inventory.count() };
  }

  list(): PhoneInventoryEntry[] {
    const phones = new Map(this.opts.directory.phones.list().map((p) => [p.mac, p]));
    const seen = new Map(this.inventory.list().map((r) => [r.mac, r]));
    const macs = [...new Set([...phones.keys(), ...seen.keys()])].sort();
    return macs.map((mac) => this.entry(mac, phones.get(mac), seen.get(mac)));
  }

  get(mac: string): PhoneInventoryEntry {
    const m = this.requireMac(mac);
    const phone = this.opts.directory.phones.findByMac(m);
    const rec = this.inventory.get(m);
    if (!phone && !rec) throw new RelaisError('phone.not_found', `phone ${m} was never seen and is not assigned`, { status: 404 });
    return this.entry(m, phone, rec);
  }

  private entry(mac: string, phone: Phone | undefined, rec: InventoryRecord | undefined): PhoneInventoryEntry {
    const ext = phone?.extensionId != null ? this.opts.directory.extensions.get(phone.extensionId) : undefined;
    const regs = ext && this.opts.registrations ? this.opts.registrations(ext.id) : [];
    const keyInfo = phone && ext ? this.lineKeys(phone, ext, VENDORS[phone.vendor].maxKeys) : { keys: [], dropped: 0 };
    const { status, reason } = this.status(phone, ext, rec, regs);
    return {
      mac,
      vendor: phone?.vendor ?? rec?.vendor ?? null,
      model: phone?.model ?? rec?.model ?? null,
      firmware: rec?.firmware ?? null,
      ip: rec?.ip ?? null,
      label: phone?.label ?? null,
      extension: ext?.number ?? null,
      known: phone !== undefined,
      status,
      reason,
      keys: keyInfo.keys,
      keysDropped: keyInfo.dropped,
      configFile: phone ? VENDORS[phone.vendor].configFile(mac) : null,
      firstSeenAt: rec?.firstSeenAt ?? null,
      lastSeenAt: rec?.lastSeenAt ?? null,
      seenVia: rec?.seenVia ?? null,
      lastFetch: rec?.lastFetchAt != null ? { at: rec.lastFetchAt, file: rec.lastFetchFile, via: rec.lastFetchVia, secrets: rec.lastFetchSecrets } : null,
      lastRegistration: rec?.lastRegisterAt != null ? { at: rec.lastRegisterAt, status: rec.lastRegisterStatus, detail: rec.lastRegisterDetail } : null,
      registrations: regs,
      checkSync: rec?.checkSyncAt != null ? { at: rec.checkSyncAt, result: rec.checkSyncResult } : null,
    };
  }

  private status(phone: Phone | undefined, ext: Extension | undefined, rec: InventoryRecord | undefined, regs: RegistrationInfo[]): { status: PhoneStatus; reason: string } {
    const when = (ms: number): string => new Date(ms).toISOString();
    if (!phone) return { status: 'unassigned', reason: `seen ${rec ? `via ${rec.seenVia} at ${when(rec.firstSeenAt)}` : ''}; assign it an extension` };
    if (phone.extensionId === null) return { status: 'unassigned', reason: 'known, but no extension is assigned to it' };
    if (!ext) return { status: 'failing', reason: `its extension (id ${phone.extensionId}) no longer exists` };
    const mine = rec?.ip ? regs.filter((r) => r.address === rec.ip) : [];
    if (mine.length > 0 || regs.length > 0) {
      const r = mine[0] ?? regs[0]!;
      return { status: 'registered', reason: `extension ${ext.number} registered from ${r.address}:${r.port}${r.userAgent ? ` (${r.userAgent})` : ''}` };
    }
    const now = this.opts.clock.now();
    if (rec?.lastRegisterAt != null && rec.lastRegisterStatus !== null && rec.lastRegisterStatus >= 300 && (rec.lastFetchAt === null || rec.lastRegisterAt >= rec.lastFetchAt)) {
      return { status: 'failing', reason: `its REGISTER for ${ext.number} was refused (${rec.lastRegisterStatus} ${rec.lastRegisterDetail ?? ''}) at ${when(rec.lastRegisterAt)}`.trim() };
    }
    if (rec?.lastFetchAt == null) return { status: 'provisioned', reason: `extension ${ext.number} is assigned; waiting for the phone to fetch its configuration` };
    if (!rec.lastFetchSecrets) {
      return {
        status: 'failing',
        reason: `it fetched ${rec.lastFetchFile} over ${rec.lastFetchVia} at ${when(rec.lastFetchAt)} without device credentials, so the file had no SIP password: let it fetch over HTTPS or give it its device credentials`,
      };
    }
    if (now - rec.lastFetchAt > REGISTER_GRACE_MS) {
      return { status: 'failing', reason: `it fetched its configuration at ${when(rec.lastFetchAt)} but has not registered since` };
    }
    return { status: 'provisioned', reason: `fetched its configuration at ${when(rec.lastFetchAt)}; waiting for it to register` };
  }

  /** Assigns (or moves) a phone to an extension, creating it in the directory when it was only seen. */
  assign(mac: string, input: { extension: string | null; vendor?: string | undefined; model?: string | undefined; label?: string | undefined }): PhoneInventoryEntry {
    const m = this.requireMac(mac);
    let extensionId: number | null = null;
    if (input.extension !== null) {
      const ext = this.opts.directory.extensions.findByNumber(input.extension);
      if (!ext) throw new RelaisError('phone.extension_unknown', `extension "${input.extension}" does not exist`, { field: 'extension' });
      extensionId = ext.id;
    }
    const existing = this.opts.directory.phones.findByMac(m);
    const rec = this.inventory.get(m);
    const vendor = (input.vendor ?? existing?.vendor ?? rec?.vendor ?? vendorFromMac(m)) as PhoneVendor | undefined;
    if (!vendor || !PHONE_VENDORS.includes(vendor)) {
      throw new RelaisError('phone.vendor_invalid', `the vendor of ${m} is not known: give "vendor" (one of ${PHONE_VENDORS.join(', ')})`, { field: 'vendor' });
    }
    const fields = { vendor, extensionId, model: input.model ?? existing?.model ?? rec?.model ?? null, label: input.label ?? existing?.label ?? null };
    if (existing) this.opts.directory.phones.update(existing.id, fields);
    else this.opts.directory.phones.create({ mac: m, ...fields });
    if (input.extension !== null && existing?.extensionId !== extensionId) this.emit('assigned', { mac: m, extension: input.extension });
    return this.get(m);
  }

  /** Removes a phone from the directory and the inventory (it shows up again as seen if it asks again). */
  remove(mac: string): void {
    const m = this.requireMac(mac);
    const p = this.opts.directory.phones.findByMac(m);
    const forgot = this.inventory.forget(m);
    if (p) this.opts.directory.phones.delete(p.id);
    if (!p && !forgot) throw new RelaisError('phone.not_found', `phone ${m} was never seen and is not assigned`, { status: 404 });
  }

  // ---------------------------------------------------------------- firmware cache

  /** Stores a phone firmware file for a model; phones of that model get its URL in their file. */
  /** Stores a phone model's firmware: `data` in memory, or `file`, a temporary file of the upload that is moved in. */
  putFirmware(input: { vendor: string; model: string; fileName: string; data?: Buffer; file?: string }): FirmwareRecord {
    if (!PHONE_VENDORS.includes(input.vendor as PhoneVendor)) {
      throw new RelaisError('firmware.vendor_invalid', `vendor "${input.vendor}" is not one of ${PHONE_VENDORS.join(', ')}`, { field: 'vendor' });
    }
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$/.test(input.model)) {
      throw new RelaisError('firmware.model_invalid', `model "${input.model.slice(0, 60)}" must be letters, digits, ".", "_" or "-" (e.g. T46U)`, { field: 'model' });
    }
    const ext = /\.([A-Za-z0-9]{1,8})$/.exec(input.fileName)?.[1] ?? 'bin';
    const size = input.file !== undefined ? fs.statSync(input.file).size : (input.data?.length ?? 0);
    if (size === 0) throw new RelaisError('firmware.empty', 'the firmware file is empty', { field: 'file' });
    const fileName = `firmware-${input.vendor}-${input.model}.${ext.toLowerCase()}`;
    fs.mkdirSync(this.firmwareDir, { recursive: true });
    const tmp = path.join(this.firmwareDir, `.${fileName}.${randomBytes(4).toString('hex')}`);
    if (input.file !== undefined) fs.renameSync(input.file, tmp);
    else fs.writeFileSync(tmp, input.data!);
    const sha256 = fileSha256(tmp);
    const previous = this.inventory.firmware(input.model);
    fs.renameSync(tmp, path.join(this.firmwareDir, fileName));
    if (previous && previous.fileName !== fileName) fs.rmSync(path.join(this.firmwareDir, previous.fileName), { force: true });
    const rec: FirmwareRecord = {
      model: input.model,
      vendor: input.vendor,
      fileName,
      size,
      sha256,
      uploadedAt: this.opts.clock.now(),
    };
    this.inventory.putFirmware(rec);
    return rec;
  }

  deleteFirmware(model: string): void {
    const f = this.inventory.deleteFirmware(model);
    if (!f) throw new RelaisError('firmware.not_found', `no firmware stored for model "${model.slice(0, 40)}"`, { status: 404 });
    fs.rmSync(path.join(this.firmwareDir, f.fileName), { force: true });
  }
}

/** SHA-256 of a file, read in 1 MB pieces (a firmware image is never held whole in memory). */
function fileSha256(file: string): string {
  const hash = createHash('sha256');
  const buf = Buffer.alloc(1024 * 1024);
  const fd = fs.openSync(file, 'r');
  try {
    for (let n; (n = fs.readSync(fd, buf, 0, buf.length, null)) > 0; ) hash.update(buf.subarray(0, n));
  } finally {
    fs.closeSync(fd);
  }
  return hash.digest('hex');
}
