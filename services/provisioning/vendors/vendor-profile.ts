// What Relais knows about one phone vendor: the files it asks for, how its values are spelled, its check-sync event.
import type { PhoneVendor } from '../../directory/index.js';
import type { PhoneView } from '../phone-view.js';
import type { Escaper, TemplateView } from '../template.js';

/** One file a phone of this vendor may request. */
export interface VendorFile {
  /** Matches the requested file name (no directories); group 1, when present, is the MAC. */
  pattern: RegExp;
  /** Template file name under templates/<vendor>/. */
  template: string;
  /** True when the file is for one phone (MAC in its name); false for the vendor's common file. */
  perPhone: boolean;
}

export interface VendorProfile {
  vendor: PhoneVendor;
  files: VendorFile[];
  /** Name of the per-phone configuration file (what GET /api/phones/:mac/config returns). */
  configFile(mac: string): string;
  contentType: string;
  escape: Escaper;
  /** Values of this vendor's templates (spellings of transports, languages, key types…). */
  view(v: PhoneView): TemplateView;
  /** Event header of the NOTIFY asking a phone to fetch its configuration again (and maybe reboot). */
  checkSyncEvent(reboot: boolean): string;
  /** Recognises the vendor in a SIP or HTTP User-Agent. */
  userAgent: RegExp;
  /** IEEE OUIs (first 6 hex digits of the MAC) the vendor is known to use. */
  ouis: readonly string[];
  /** Most keys the template lays out (the rest are dropped, and the inventory says so). */
  maxKeys: number;
}
