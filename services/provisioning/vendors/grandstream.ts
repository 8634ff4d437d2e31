// Grandstream GXP/GRP: cfg<mac>.xml, <gs_provision> with P-values (P271 account active, P47 server, P34 password…).
import { commonView, type PhoneView } from '../phone-view.js';
import { posixZone } from '../time-zone.js';
import { escapeXml } from '../template.js';
import type { VendorProfile } from './vendor-profile.js';

export const grandstream: VendorProfile = {
  vendor: 'grandstream',
  files: [{ pattern: /^cfg([0-9a-f]{12})\.xml$/i, template: 'phone.xml', perPhone: true }],
  configFile: (mac) => `cfg${mac}.xml`,
  contentType: 'application/xml; charset=utf-8',
  escape: escapeXml,
  // Multi-purpose keys 1-7 (mode P323-P329; account, name, value P301-P321).
  maxKeys: 7,
  view: (v: PhoneView) => {
    const url = new URL(v.provisioningUrl);
    return {
      ...commonView(v),
      // P130 SIP transport: 0 UDP, 1 TCP, 2 TLS.
      transportCode: v.server.transport === 'tls' ? 2 : v.server.transport === 'tcp' ? 1 : 0,
      srtpMode: v.srtpRequired ? 2 : 1,
      caCert: v.tls?.certificatePem.trim() || undefined,
      posixZone: posixZone(v.timezone.name, v.timezone.offsetMinutes),
      // P212 upgrade/config via: 0 TFTP, 1 HTTP, 2 HTTPS; P237 is the path without the scheme.
      upgradeVia: url.protocol === 'https:' ? 2 : url.protocol === 'http:' ? 1 : 0,
      configPath: `${url.host}${url.pathname.replace(/\/$/, '')}`,
      firmwarePath: v.firmwareUrl ? v.firmwareUrl.replace(/^[a-z]+:\/\//, '').replace(/\/[^/]*$/, '') : undefined,
      language: v.language,
      keys: v.keys.map((k, i) => ({ pMode: 323 + i, pAccount: 301 + 3 * i, pName: 302 + 3 * i, pValue: 303 + 3 * i, mode: k.kind === 'blf' ? 1 : 0, value: k.value, label: k.label })),
    };
  },
  checkSyncEvent: () => 'check-sync',
  userAgent: /grandstream/i,
  ouis: ['000b82', 'c074ad', 'ec74d7'],
};
