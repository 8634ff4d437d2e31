// Cisco SPA (and Linksys) 3xx/5xx: spa<mac>.cfg, a <flat-profile> of underscore-named elements (Proxy_1_, …).
import { commonView, formatOffset, type PhoneView } from '../phone-view.js';
import { escapeXml } from '../template.js';
import type { VendorProfile } from './vendor-profile.js';

const LANGUAGES = { en: 'English', fr: 'French', es: 'Spanish' } as const;

export const cisco: VendorProfile = {
  vendor: 'cisco',
  files: [{ pattern: /^spa([0-9a-f]{12})\.cfg$/i, template: 'phone.xml', perPhone: true }],
  configFile: (mac) => `spa${mac}.cfg`,
  contentType: 'application/xml; charset=utf-8',
  escape: escapeXml,
  maxKeys: 11,
  view: (v: PhoneView) => ({
    ...commonView(v),
    transport: v.server.transport === 'tls' ? 'TLS' : v.server.transport === 'tcp' ? 'TCP' : 'UDP',
    secureCallOption: v.srtpRequired ? 'Required' : 'Optional',
    zone: `GMT${formatOffset(v.timezone.offsetMinutes)}`,
    languageName: LANGUAGES[v.language],
    // The phone expands $MA to its MAC: the same rule serves every SPA.
    profileRule: `${v.provisioningUrl.replace(/\/$/, '')}/spa$MA.cfg`,
    // Line buttons 2..: Extended_Function: fnc=blf+sd+cp watches and dials, fnc=sd only dials.
    keys: v.keys.map((k, i) => ({
      index: i + 2,
      label: k.label,
      function: k.kind === 'blf' ? `fnc=blf+sd+cp;sub=${k.value}@${v.server.host};nme=${k.label}` : `fnc=sd;ext=${k.value}@${v.server.host};nme=${k.label}`,
    })),
  }),
  // SPA firmware knows "resync" (fetch the profile) and "reboot".
  checkSyncEvent: (reboot) => (reboot ? 'reboot' : 'resync'),
  userAgent: /cisco|linksys|\bspa\d{3}/i,
  ouis: ['000e08', '001310', '0018f8', 'c8d719'],
};
