// Desk phones known by MAC address, for provisioning: vendor, model, the extension they carry.
import { prepared, readCache } from './prepared.js';
import { TableRepository } from './table-repository.js';
import type { Database } from '../storage/index.js';
import { RelaisError } from '../shared/index.js';

export const PHONE_VENDORS = ['yealink', 'polycom', 'grandstream', 'snom', 'fanvil', 'cisco'] as const;
export type PhoneVendor = (typeof PHONE_VENDORS)[number];

export interface Phone {
  id: number;
  /** 12 lower-case hex digits, no separators. */
  mac: string;
  vendor: PhoneVendor;
  model: string | null;
  extensionId: number | null;
  label: string | null;
  /** Vendor-specific provisioning settings (keys as the provisioning module documents them). */
  settings: Record<string, string | number | boolean>;
}

export type PhoneInput = Partial<Omit<Phone, 'id' | 'mac' | 'vendor'>> & { mac: string; vendor: PhoneVendor };

interface Row {
  id: number;
  mac: string;
  vendor: PhoneVendor;
  model: string | null;
  extension_id: number | null;
  label: string | null;
  settings: string;
}

/** Accepts 00:15:65:aa:bb:cc, 00-15-65-AA-BB-CC or 001565aabbcc; undefined when it is not a MAC. */
export function normaliseMac(mac: string): string | undefined {
  const hex = mac.replace(/[:.-]/g, '').toLowerCase();
  return /^[0-9a-f]{12}$/.test(hex) ? hex : undefined;
}

function toPhone(r: Row): Phone {
  return { id: r.id, mac: r.mac, vendor: r.vendor, model: r.model, extensionId: r.extension_id, label: r.label, settings: JSON.parse(r.settings) as Phone['settings'] };
}

export class PhoneRepository extends TableRepository<Row, Phone> {
  constructor(db: Database) {
    super(db, { table: 'phones', what: 'phone' });
  }

  protected toEntity(r: Row): Phone {
    return toPhone(r);
  }




  findByMac(mac: string): Phone | undefined {
    const m = normaliseMac(mac);
    if (!m) return undefined;
    const r = readCache(this.db).get('SELECT * FROM phones WHERE mac = ?', m) as Row | undefined;
    return r && toPhone(r);
  }

  private check(p: Omit<Phone, 'id'>): string {
    const mac = normaliseMac(p.mac);
    if (!mac) throw new RelaisError('phone.mac_invalid', `"${p.mac}" is not a MAC address (12 hex digits)`, { field: 'mac' });
    if (!PHONE_VENDORS.includes(p.vendor)) throw new RelaisError('phone.vendor_invalid', `vendor "${p.vendor}" is not one of ${PHONE_VENDORS.join(', ')}`, { field: 'vendor' });
    return mac;
  }

  create(input: PhoneInput): Phone {
    const p = { mac: input.mac, vendor: input.vendor, model: input.model ?? null, extensionId: input.extensionId ?? null, label: input.label ?? null, settings: input.settings ?? {} };
    const mac = this.check(p);
    if (this.findByMac(mac)) throw new RelaisError('phone.exists', `phone ${mac} already exists`, { field: 'mac', status: 409 });
    const info = prepared(this.db, 'INSERT INTO phones (mac, vendor, model, extension_id, label, settings) VALUES (?, ?, ?, ?, ?, ?)')
      .run(mac, p.vendor, p.model, p.extensionId, p.label, JSON.stringify(p.settings));
    return this.require(Number(info.lastInsertRowid));
  }

  update(id: number, patch: Partial<Omit<Phone, 'id'>>): Phone {
    const p = { ...this.require(id), ...patch };
    const mac = this.check(p);
    const other = this.findByMac(mac);
    if (other && other.id !== id) throw new RelaisError('phone.exists', `phone ${mac} already exists`, { field: 'mac', status: 409 });
    prepared(this.db, 'UPDATE phones SET mac = ?, vendor = ?, model = ?, extension_id = ?, label = ?, settings = ? WHERE id = ?')
      .run(mac, p.vendor, p.model, p.extensionId, p.label, JSON.stringify(p.settings), id);
    return this.require(id);
  }

}
