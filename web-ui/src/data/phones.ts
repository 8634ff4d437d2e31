// /api/phones: desk phones seen and assigned, their status, assignment, check-sync and provisioning settings.
import { get, request } from './api.js';

export type PhoneStatus = 'unassigned' | 'provisioned' | 'registered' | 'failing';

export interface LineKey {
  kind: 'blf' | 'speeddial';
  value: string;
  label: string;
}

export interface PhoneEntry {
  mac: string;
  vendor: string | null;
  model: string | null;
  firmware: string | null;
  ip: string | null;
  label: string | null;
  extension: string | null;
  known: boolean;
  status: PhoneStatus;
  reason: string;
  keys: LineKey[];
  lastFetch: { at: number; file: string | null; via: string | null; secrets: boolean } | null;
}

export interface PhoneSettings {
  pnp: boolean;
  autoAssign: boolean;
  overrideCode: string | null;
  ntpServer: string;
  blfExtensions: boolean;
  requireCredentials: boolean;
  /** Every assigned phone on SIP over TLS with SRTP offered (docs/provisioning.md "TLS and SRTP"). */
  tls: boolean;
}

export interface PhoneList {
  phones: PhoneEntry[];
  settings: PhoneSettings;
  urls: { bootstrap: string; provisioning: string };
}

export const listPhones = (): Promise<PhoneList> => get('/phones');
export const assignPhone = (mac: string, extension: string | null): Promise<PhoneEntry> => request('PUT', `/phones/${mac}`, { extension });
export const assignNext = (mac: string): Promise<PhoneEntry> => request('POST', `/phones/${mac}/assign-next`);
export const forgetPhone = (mac: string): Promise<void> => request('DELETE', `/phones/${mac}`);
export const checkSync = (mac: string, reboot: boolean): Promise<{ status: number; event: string }> => request('POST', `/phones/${mac}/check-sync?reboot=${reboot}`);
export const updatePhoneSettings = (s: Partial<PhoneSettings>): Promise<PhoneSettings> => request('PUT', '/phones/settings', s);
