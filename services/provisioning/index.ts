// Desk-phone provisioning: vendor config files over HTTP(S) and TFTP, SIP plug-and-play, the phone inventory,
// check-sync and the phone firmware cache (docs/provisioning.md).
export {
  ProvisioningService,
  SETTING_KEYS,
  DEFAULT_OVERRIDE_CODE,
  macFromText,
  macFromInstance,
  modelFromUserAgent,
  type ProvisioningOptions,
  type ProvisioningSettings,
  type ProvisioningEvents,
  type PhoneInventoryEntry,
  type PhoneStatus,
  type FileRequest,
  type FileResult,
  type RegistrationInfo,
} from './provisioning-service.js';
export { ProvisioningModule, type ProvisioningModuleOptions } from './provisioning-module.js';
export { PnpResponder, PNP_GROUP, macOfSubscribe } from './pnp.js';
export { TftpServer, TFTP_ERROR, parseTftpRequest, type TftpResolver, type TftpResolution } from './tftp-server.js';
export { sendCheckSync, type CheckSyncResult } from './check-sync.js';
export { TemplateStore, BUILTIN_TEMPLATES } from './template-store.js';
export { compileTemplate, renderTemplate, escapeXml, escapeLine, type TemplateView } from './template.js';
export { VENDORS, vendorFromMac, vendorFromUserAgent, type VendorProfile } from './vendors/index.js';
export { type LineKey, type PhoneView } from './phone-view.js';
export { type InventoryRecord, type FetchLogEntry, type FirmwareRecord, type SeenVia } from './inventory-repository.js';
