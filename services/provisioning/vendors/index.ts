// Every supported vendor, and how a phone's vendor is told from its name, its User-Agent or its MAC.
import type { PhoneVendor } from '../../directory/index.js';
import { cisco } from './cisco.js';
import { fanvil } from './fanvil.js';
import { grandstream } from './grandstream.js';
import { polycom } from './polycom.js';
import { snom } from './snom.js';
import type { VendorProfile } from './vendor-profile.js';
import { yealink } from './yealink.js';

export type { VendorProfile, VendorFile } from './vendor-profile.js';

export const VENDORS: Readonly<Record<PhoneVendor, VendorProfile>> = { yealink, polycom, grandstream, snom, fanvil, cisco };

export function vendorFromUserAgent(userAgent: string | undefined): PhoneVendor | undefined {
  if (!userAgent) return undefined;
  return Object.values(VENDORS).find((p) => p.userAgent.test(userAgent))?.vendor;
}

export function vendorFromMac(mac: string): PhoneVendor | undefined {
  const oui = mac.slice(0, 6);
  return Object.values(VENDORS).find((p) => p.ouis.includes(oui))?.vendor;
}
