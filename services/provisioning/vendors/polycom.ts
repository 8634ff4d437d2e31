// Polycom (Poly) VVX / SoundPoint IP with UC Software: master file 000000000000.cfg (or <mac>.cfg) naming the
// per-phone file <mac>-phone.cfg, XML attributes reg.1.*, msg.mwi.*, attendant.resourceList.* (BLF).
import { commonView, type PhoneView } from '../phone-view.js';
import { escapeXml } from '../template.js';
import type { VendorProfile } from './vendor-profile.js';

const LANGUAGES = { en: 'English_United_States', fr: 'French_France', es: 'Spanish_Spain' } as const;

export const polycom: VendorProfile = {
  vendor: 'polycom',
  files: [
    { pattern: /^000000000000\.cfg$/, template: 'master.cfg', perPhone: false },
    { pattern: /^([0-9a-f]{12})\.cfg$/i, template: 'master.cfg', perPhone: true },
    { pattern: /^([0-9a-f]{12})-phone\.cfg$/i, template: 'phone.cfg', perPhone: true },
  ],
  configFile: (mac) => `${mac}-phone.cfg`,
  contentType: 'application/xml; charset=utf-8',
  escape: escapeXml,
  maxKeys: 48,
  view: (v: PhoneView) => {
    const url = new URL(v.provisioningUrl);
    return {
      ...commonView(v),
      // The master file names the per-phone file; the phone substitutes [PHONE_MAC_ADDRESS] itself.
      configFiles: v.mac === '000000000000' ? '[PHONE_MAC_ADDRESS]-phone.cfg' : `${v.mac}-phone.cfg`,
      appFilePath: v.firmwareUrl ?? 'sip.ld',
      transport: v.server.transport === 'tls' ? 'TLS' : v.server.transport === 'tcp' ? 'TCPOnly' : 'UDPOnly',
      srtpRequire: v.srtpRequired ? 1 : 0,
      // The box's certificate inline (device.sec.TLS.customCaCert1), its line breaks kept as &#10; (an XML parser turns
      // a raw line break in an attribute into a space).
      caCertXml: v.tls?.certificatePem ? escapeXml(v.tls.certificatePem.trim()).replace(/\r?\n/g, '&#10;') : undefined,
      gmtOffset: v.timezone.offsetMinutes * 60,
      dst: v.timezone.dst ? 1 : 0,
      languageName: LANGUAGES[v.language],
      serverType: url.protocol === 'https:' ? 'HTTPS' : url.protocol === 'http:' ? 'HTTP' : 'TFTP',
      provServerName: `${url.host}${url.pathname.replace(/\/$/, '')}`,
      keys: v.keys.map((k, i) => ({ index: i + 1, value: k.value, label: k.label })),
    };
  },
  // UC Software re-fetches on check-sync; voIpProt.SIP.specialEvent.checkSync.alwaysReboot decides the reboot.
  checkSyncEvent: () => 'check-sync',
  userAgent: /polycom|poly(vvx|edge)/i,
  ouis: ['0004f2', '64167f', '482567'],
};
