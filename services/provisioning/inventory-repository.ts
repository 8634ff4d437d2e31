// SQL of the phone inventory: what was seen of each MAC, the config-fetch log, the firmware cache index.
import type { Database, Statement } from 'better-sqlite3';
import { readCache } from '../directory/index.js';

/** How a phone made itself known (or fetched a file). */
export type SeenVia = 'pnp' | 'http' | 'https' | 'tftp' | 'register';

export interface InventoryRecord {
  mac: string;
  vendor: string | null;
  model: string | null;
  firmware: string | null;
  ip: string | null;
  userAgent: string | null;
  seenVia: SeenVia;
  firstSeenAt: number;
  lastSeenAt: number;
  lastFetchAt: number | null;
  lastFetchFile: string | null;
  lastFetchVia: SeenVia | null;
  /** Whether the last fetched file carried the SIP password. */
  lastFetchSecrets: boolean;
  lastRegisterAt: number | null;
  lastRegisterStatus: number | null;
  lastRegisterDetail: string | null;
  checkSyncAt: number | null;
  checkSyncResult: string | null;
}

export interface Sighting {
  mac: string;
  via: SeenVia;
  at: number;
  vendor?: string | undefined;
  model?: string | undefined;
  firmware?: string | undefined;
  ip?: string | undefined;
  userAgent?: string | undefined;
}

export interface FetchLogEntry {
  at: number;
  mac: string | null;
  ip: string;
  via: SeenVia;
  file: string;
  status: number;
  secrets: boolean;
  userAgent: string | null;
}

export interface FirmwareRecord {
  model: string;
  vendor: string;
  fileName: string;
  size: number;
  sha256: string;
  uploadedAt: number;
}

interface Row {
  mac: string;
  vendor: string | null;
  model: string | null;
  firmware: string | null;
  ip: string | null;
  user_agent: string | null;
  seen_via: SeenVia;
  first_seen_at: number;
  last_seen_at: number;
  last_fetch_at: number | null;
  last_fetch_file: string | null;
  last_fetch_via: SeenVia | null;
  last_fetch_secrets: number;
  last_register_at: number | null;
  last_register_status: number | null;
  last_register_detail: string | null;
  check_sync_at: number | null;
  check_sync_result: string | null;
}

function toRecord(r: Row): InventoryRecord {
  return {
    mac: r.mac,
    vendor: r.vendor,
    model: r.model,
    firmware: r.firmware,
    ip: r.ip,
    userAgent: r.user_agent,
    seenVia: r.seen_via,
    firstSeenAt: r.first_seen_at,
    lastSeenAt: r.last_seen_at,
    lastFetchAt: r.last_fetch_at,
    lastFetchFile: r.last_fetch_file,
    lastFetchVia: r.last_fetch_via,
    lastFetchSecrets: r.last_fetch_secrets === 1,
    lastRegisterAt: r.last_register_at,
    lastRegisterStatus: r.last_register_status,
    lastRegisterDetail: r.last_register_detail,
    checkSyncAt: r.check_sync_at,
    checkSyncResult: r.check_sync_result,
  };
}

/** The fetch log keeps this many rows (a Pi's SD card is small; the log is for diagnosis, not history). */
const FETCH_LOG_ROWS = 2000;

export class InventoryRepository {
  private readonly statements = new Map<string, Statement>();

  constructor(private readonly db: Database) {}

  private sql(text: string): Statement {
    let s = this.statements.get(text);
    if (!s) {
      s = this.db.prepare(text);
      this.statements.set(text, s);
    }
    return s;
  }

  get(mac: string): InventoryRecord | undefined {
    const r = this.sql('SELECT * FROM phone_inventory WHERE mac = ?').get(mac) as Row | undefined;
    return r && toRecord(r);
  }

  count(): number {
    return (this.sql('SELECT count(*) AS n FROM phone_inventory').get() as { n: number }).n;
  }

  list(): InventoryRecord[] {
    return (this.sql('SELECT * FROM phone_inventory ORDER BY mac').all() as Row[]).map(toRecord);
  }

  /** Most recent sighting from an address (a REGISTER without a MAC is matched to the phone seen there). */
  findByIp(ip: string): InventoryRecord | undefined {
    const r = this.sql('SELECT * FROM phone_inventory WHERE ip = ? ORDER BY last_seen_at DESC LIMIT 1').get(ip) as Row | undefined;
    return r && toRecord(r);
  }

  /** MACs of the phones assigned to the extension with this SIP user name (one indexed query: REGISTER path). */
  macsOfSipUser(username: string): string[] {
    // Through the directory's read cache (phones and extensions change through the directory, which drops it).
    return (
      readCache(this.db).all('SELECT p.mac AS mac FROM phones p JOIN extensions e ON e.id = p.extension_id WHERE e.sip_username = ?', username) as { mac: string }[]
    ).map((r) => r.mac);
  }

  /** Records a sighting; returns true when the MAC was new. Known facts are kept when the sighting lacks them. */
  saw(s: Sighting): boolean {
    const existed = this.sql('SELECT 1 FROM phone_inventory WHERE mac = ?').get(s.mac) !== undefined;
    this.sql(
      `INSERT INTO phone_inventory (mac, vendor, model, firmware, ip, user_agent, seen_via, first_seen_at, last_seen_at)
       VALUES (@mac, @vendor, @model, @firmware, @ip, @userAgent, @via, @at, @at)
       ON CONFLICT (mac) DO UPDATE SET
         vendor = coalesce(excluded.vendor, vendor), model = coalesce(excluded.model, model),
         firmware = coalesce(excluded.firmware, firmware), ip = coalesce(excluded.ip, ip),
         user_agent = coalesce(excluded.user_agent, user_agent), last_seen_at = excluded.last_seen_at`,
    ).run({
      mac: s.mac,
      vendor: s.vendor ?? null,
      model: s.model ?? null,
      firmware: s.firmware ?? null,
      ip: s.ip ?? null,
      userAgent: s.userAgent ?? null,
      via: s.via,
      at: s.at,
    });
    return !existed;
  }

  recordFetch(e: FetchLogEntry): void {
    this.db.transaction(() => {
      this.sql('INSERT INTO phone_fetches (at, mac, ip, via, file, status, secrets, user_agent) VALUES (?, ?, ?, ?, ?, ?, ?, ?)').run(
        e.at,
        e.mac,
        e.ip,
        e.via,
        e.file,
        e.status,
        e.secrets ? 1 : 0,
        e.userAgent,
      );
      if (e.mac && e.status >= 200 && e.status < 300) {
        this.sql('UPDATE phone_inventory SET last_fetch_at = ?, last_fetch_file = ?, last_fetch_via = ?, last_fetch_secrets = ? WHERE mac = ?').run(
          e.at,
          e.file,
          e.via,
          e.secrets ? 1 : 0,
          e.mac,
        );
      }
      this.sql('DELETE FROM phone_fetches WHERE id <= (SELECT max(id) FROM phone_fetches) - ?').run(FETCH_LOG_ROWS);
    })();
  }

  fetches(mac: string | undefined, limit: number): FetchLogEntry[] {
    const rows = (
      mac === undefined
        ? this.sql('SELECT * FROM phone_fetches ORDER BY id DESC LIMIT ?').all(limit)
        : this.sql('SELECT * FROM phone_fetches WHERE mac = ? ORDER BY id DESC LIMIT ?').all(mac, limit)
    ) as Array<{ at: number; mac: string | null; ip: string; via: SeenVia; file: string; status: number; secrets: number; user_agent: string | null }>;
    return rows.map((r) => ({ at: r.at, mac: r.mac, ip: r.ip, via: r.via, file: r.file, status: r.status, secrets: r.secrets === 1, userAgent: r.user_agent }));
  }

  recordRegistration(mac: string, at: number, status: number, detail: string): void {
    this.sql('UPDATE phone_inventory SET last_register_at = ?, last_register_status = ?, last_register_detail = ? WHERE mac = ?').run(at, status, detail, mac);
  }

  recordCheckSync(mac: string, at: number, result: string): void {
    this.sql('UPDATE phone_inventory SET check_sync_at = ?, check_sync_result = ? WHERE mac = ?').run(at, result, mac);
  }

  /** The per-device digest password of a MAC (user name: the MAC), made by `create` on first use. */
  devicePassword(mac: string, create?: () => string, at = 0): string | undefined {
    const r = this.sql('SELECT password FROM phone_credentials WHERE mac = ?').get(mac) as { password: string } | undefined;
    if (r || !create) return r?.password;
    const password = create();
    this.sql('INSERT INTO phone_credentials (mac, password, created_at) VALUES (?, ?, ?)').run(mac, password, at);
    return password;
  }

  resetDevicePassword(mac: string): void {
    this.sql('DELETE FROM phone_credentials WHERE mac = ?').run(mac);
  }

  forget(mac: string): boolean {
    return this.sql('DELETE FROM phone_inventory WHERE mac = ?').run(mac).changes > 0;
  }

  // ---- firmware cache index (files live in <dataDir>/provisioning/firmware/)

  firmware(model: string): FirmwareRecord | undefined {
    const r = this.sql('SELECT * FROM phone_firmware WHERE model = ? COLLATE NOCASE').get(model) as
      | { model: string; vendor: string; file_name: string; size: number; sha256: string; uploaded_at: number }
      | undefined;
    return r && { model: r.model, vendor: r.vendor, fileName: r.file_name, size: r.size, sha256: r.sha256, uploadedAt: r.uploaded_at };
  }

  firmwareList(): FirmwareRecord[] {
    const rows = this.sql('SELECT * FROM phone_firmware ORDER BY vendor, model').all() as Array<{ model: string; vendor: string; file_name: string; size: number; sha256: string; uploaded_at: number }>;
    return rows.map((r) => ({ model: r.model, vendor: r.vendor, fileName: r.file_name, size: r.size, sha256: r.sha256, uploadedAt: r.uploaded_at }));
  }

  putFirmware(f: FirmwareRecord): void {
    this.sql(
      `INSERT INTO phone_firmware (model, vendor, file_name, size, sha256, uploaded_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (model) DO UPDATE SET vendor = excluded.vendor, file_name = excluded.file_name, size = excluded.size,
         sha256 = excluded.sha256, uploaded_at = excluded.uploaded_at`,
    ).run(f.model, f.vendor, f.fileName, f.size, f.sha256, f.uploadedAt);
  }

  deleteFirmware(model: string): FirmwareRecord | undefined {
    const f = this.firmware(model);
    if (f) this.sql('DELETE FROM phone_firmware WHERE model = ?').run(f.model);
    return f;
  }
}
