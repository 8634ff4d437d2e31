// Snom D-series: <MAC>.xml settings file (<phone-settings> user_*, <functionKeys> fkey).
import { commonView, type PhoneView } from '../phone-view.js';
import { escapeXml } from '../template.js';
import type { VendorProfile } from './vendor-profile.js';

const LANGUAGES = { en: 'English', fr: 'Francais', es: 'Espanol' } as const;
/** Snom's own time-zone codes for the zones offices here use; others get GMT±offset. */
const ZONES: Record<string, string> = {
  'Europe/Paris': 'FRA+1',
  'Europe/Madrid': 'ESP+1',
  'Europe/Brussels': 'BEL+1',
  'Europe/Berlin': 'GER+1',
  'Europe/London': 'GBR-0',
  'America/New_York': 'USA-5',
};

export const snom: VendorProfile = {
  vendor: 'snom',
  files: [{ pattern: /^([0-9A-Fa-f]{12})\.xml$/, template: 'phone.xml', perPhone: true }],
  configFile: (mac) => `${mac.toUpperCase()}.xml`,
  contentType: 'application/xml; charset=utf-8',
  escape: escapeXml,
  maxKeys: 48,
  view: (v: PhoneView) => {
    const h = v.timezone.offsetMinutes / 60;
    return {
      ...commonView(v),
      userHost: `${v.server.host}:${v.server.port};transport=${v.server.transport}`,
      savp: v.srtpRequired ? 'mandatory' : 'optional',
      languageName: LANGUAGES[v.language],
      zone: ZONES[v.timezone.name] ?? `GMT${h < 0 ? '' : '+'}${h}`,
      // fkey values: "blf <sip:101@host>" lights a lamp; "speed *4299900" only dials. idx counts from 0.
      keys: v.keys.map((k, i) => ({
        index: i,
        label: k.label,
        function: k.kind === 'blf' ? `blf <sip:${k.value}@${v.server.host}>` : `speed ${k.value}`,
      })),
    };
  },
  checkSyncEvent: (reboot) => `check-sync;reboot=${reboot ? 'true' : 'false'}`,
  userAgent: /snom/i,
  ouis: ['000413'],
};
