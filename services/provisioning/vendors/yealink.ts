// Yealink T-series: common file y0000000000XX.cfg (XX: model code) and <mac>.cfg, "key = value" lines (account.1.*).
import { commonView, type PhoneView } from '../phone-view.js';
import { escapeLine } from '../template.js';
import type { VendorProfile } from './vendor-profile.js';

const LANGUAGES = { en: 'English', fr: 'French', es: 'Spanish' } as const;

/** Yealink's time zone field: hours east of UTC, "+1", "-5", "+5:30". */
function yealinkZone(minutes: number): string {
  const sign = minutes < 0 ? '-' : '+';
  const m = Math.abs(minutes);
  return `${sign}${Math.floor(m / 60)}${m % 60 ? `:${String(m % 60).padStart(2, '0')}` : ''}`;
}

export const yealink: VendorProfile = {
  vendor: 'yealink',
  files: [
    { pattern: /^y0000000000[0-9a-f]{2}\.cfg$/i, template: 'common.cfg', perPhone: false },
    { pattern: /^([0-9a-f]{12})\.cfg$/i, template: 'phone.cfg', perPhone: true },
  ],
  configFile: (mac) => `${mac}.cfg`,
  contentType: 'text/plain; charset=utf-8',
  escape: escapeLine,
  maxKeys: 27,
  view: (v: PhoneView) => ({
    ...commonView(v),
    // account.X.sip_server.Y.transport_type: 0 UDP, 1 TCP, 2 TLS, 3 DNS-NAPTR.
    transportCode: v.server.transport === 'tls' ? 2 : v.server.transport === 'tcp' ? 1 : 0,
    srtpCode: v.srtpRequired ? 2 : 1,
    tz: yealinkZone(v.timezone.offsetMinutes),
    // local_time.summer_time: 0 off, 1 on, 2 automatic (by the zone's rule).
    summerTime: v.timezone.dst ? 2 : 0,
    languageName: LANGUAGES[v.language],
    // Line key 1 carries the account; programmable keys start at 2. linekey.X.type: 16 BLF, 13 speed dial.
    keys: v.keys.map((k, i) => ({ index: i + 2, type: k.kind === 'blf' ? 16 : 13, value: k.value, label: k.label })),
  }),
  // Yealink reboots on check-sync when reboot=true (sip.notify_reboot_enable = 0 leaves the choice to the event).
  checkSyncEvent: (reboot) => `check-sync;reboot=${reboot ? 'true' : 'false'}`,
  userAgent: /yealink/i,
  ouis: ['001565', '249ad8', '805ec0', '805e0c', '44dbd2', 'c4fc22'],
};
