// The values every vendor template is rendered from (account, server, time, language, keys, URLs), vendor-neutral.
import type { TemplateView } from './template.js';

export type LineKeyKind = 'blf' | 'speeddial';

/** One programmable key: a BLF lamp on an extension or a feature code, or a plain speed dial. */
export interface LineKey {
  kind: LineKeyKind;
  /** What the key dials (and, for BLF, watches): an extension number or a feature code such as *4199900. */
  value: string;
  label: string;
}

export interface PhoneView {
  mac: string;
  vendor: string;
  model: string;
  /** False for a phone that is known but has no extension yet: its file is a bootstrap file. */
  assigned: boolean;
  /** False when the file must not carry the SIP password (plain HTTP without device credentials, TFTP). */
  secrets: boolean;
  account: {
    number: string;
    displayName: string;
    label: string;
    username: string;
    /** Empty when secrets is false. */
    password: string;
  };
  /** SIP over TLS (port 5061 by default) when the extension requires TLS + SRTP or the phone is set to tls. */
  server: { host: string; port: number; transport: 'udp' | 'tcp' | 'tls' };
  /** SRTP (SDES, RFC 4568) offered: set together with TLS (docs/provisioning.md "TLS and SRTP"). */
  srtp: boolean;
  /**
   * SRTP required, not only offered: the extension requires TLS + SRTP (or the phone is set to tls). With the site's
   * phones_tls alone SRTP stays optional: calls to extensions without the requirement are offered plain RTP.
   */
  srtpRequired: boolean;
  /**
   * The box's certificate for phones on TLS: its PEM (self-signed, so it is its own CA) and the URL it is served
   * at (`relais-ca.pem` beside the phone files). Undefined for phones on UDP/TCP.
   */
  tls: { certificatePem: string; certificateUrl: string } | undefined;
  /** SIP domain (the digest realm). */
  domain: string;
  timezone: { name: string; offsetMinutes: number; dst: boolean };
  ntpServer: string;
  language: 'en' | 'fr' | 'es';
  voicemail: { enabled: boolean; number: string };
  keys: LineKey[];
  /** Where the phone fetches its files later (HTTPS when the box serves it). */
  provisioningUrl: string;
  /** URL of this model's cached firmware, when one was uploaded. */
  firmwareUrl: string | undefined;
}

/** Values shared by every vendor view: the MAC in its spellings, the view itself under `phone`. */
export function commonView(v: PhoneView): TemplateView {
  const colons = v.mac.match(/../g)!.join(':');
  return {
    mac: v.mac,
    MAC: v.mac.toUpperCase(),
    macColons: colons,
    vendor: v.vendor,
    model: v.model,
    assigned: v.assigned,
    secrets: v.secrets,
    account: v.account,
    server: v.server,
    domain: v.domain,
    ntpServer: v.ntpServer,
    voicemail: v.voicemail,
    provisioningUrl: v.provisioningUrl,
    firmwareUrl: v.firmwareUrl,
    timezoneName: v.timezone.name,
    srtp: v.srtp,
    srtpRequired: v.srtpRequired,
    caCertUrl: v.tls?.certificateUrl,
  };
}

/** "+01:00" style offset. */
export function formatOffset(minutes: number, sep = ':'): string {
  const sign = minutes < 0 ? '-' : '+';
  const m = Math.abs(minutes);
  return `${sign}${String(Math.floor(m / 60)).padStart(2, '0')}${sep}${String(m % 60).padStart(2, '0')}`;
}
