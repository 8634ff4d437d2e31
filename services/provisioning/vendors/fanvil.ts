// Fanvil X-series: <mac>.cfg in the "<<VOIP CONFIG FILE>>" module format (SIP1 …, Fkey…).
import { commonView, type PhoneView } from '../phone-view.js';
import { escapeLine } from '../template.js';
import type { VendorProfile } from './vendor-profile.js';

export const fanvil: VendorProfile = {
  vendor: 'fanvil',
  files: [{ pattern: /^([0-9a-f]{12})\.cfg$/i, template: 'phone.cfg', perPhone: true }],
  configFile: (mac) => `${mac}.cfg`,
  contentType: 'text/plain; charset=utf-8',
  escape: escapeLine,
  maxKeys: 30,
  view: (v: PhoneView) => {
    const url = new URL(v.provisioningUrl);
    return {
      ...commonView(v),
      // SIPn Transport Type: 0 UDP, 1 TCP, 2 TLS.
      transportCode: v.server.transport === 'tls' ? 2 : v.server.transport === 'tcp' ? 1 : 0,
      // Time zone as minutes east of UTC (the "Time Zone Offset" field).
      tzMinutes: v.timezone.offsetMinutes,
      dst: v.timezone.dst ? 1 : 0,
      language: v.language,
      // Download Protocol: 1 TFTP, 2 FTP, 3 HTTP, 4 HTTPS.
      downloadProtocol: url.protocol === 'https:' ? 4 : url.protocol === 'http:' ? 3 : 1,
      // DSS keys: "number@line/mode", mode b = BLF, s = speed dial.
      keys: v.keys.map((k, i) => ({ index: i + 1, value: `${k.value}@1/${k.kind === 'blf' ? 'b' : 's'}`, label: k.label })),
    };
  },
  checkSyncEvent: () => 'check-sync',
  userAgent: /fanvil/i,
  ouis: ['0c383e', '0c3838'],
};
