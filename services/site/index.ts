// Site file: YAML description of an office (users, extensions, numbers, trunks, queues, scenarios, sounds, phones),
// imported atomically and exported back; first-start bootstrap with the embedded default site.
export {
  parseSiteFile,
  parseSiteFileLocated,
  validateSite,
  formatIssue,
  SiteFileError,
  SITE_FILE_VERSION,
  SITE_SECTIONS,
  SITE_FIELDS,
  COUNTRIES,
  type SiteFile,
  type SiteIssue,
  type SiteUser,
  type SiteExtension,
  type SiteSound,
  type SiteTrunk,
  type SiteRoute,
  type SiteScenario,
  type SiteQueue,
  type SiteNumber,
  type SiteHoliday,
  type SitePhone,
  type SettingValue,
  type ParseSiteOptions,
  type LineLocator,
} from './site-file.js';
export { importSiteText, applySite, readSite, exportSiteText, keptAdmins, type ImportSummary } from './apply.js';
export { bootstrapSite, defaultSitePath, FIRST_ADMIN, REALM_SETTING, type BootstrapOptions, type BootstrapResult } from './bootstrap.js';
export { consoleUrl } from './console-url.js';
