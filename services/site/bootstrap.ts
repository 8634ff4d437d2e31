// First start: apply the embedded default site (or --site FILE) to an empty store, create the first admin,
// and keep the SIP digest HA1 values in step with the configured domain.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Store } from '../storage/index.js';
import { RelaisError, type Clock, type Config, type Logger } from '../shared/index.js';
import { Directory, generateSecret } from '../directory/index.js';
import { importSiteText, SITE_APPLIED_KEY } from './apply.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));

/** The embedded default site: next to the compiled file when scripts/build copied it, else in the source tree. */
export function defaultSitePath(): string {
  const candidates = [path.join(HERE, 'default-site.yaml'), path.resolve(HERE, '../../../services/site/default-site.yaml')];
  const found = candidates.find((p) => fs.existsSync(p));
  if (!found) throw new RelaisError('site.default_missing', `embedded default site not found (looked in ${candidates.join(', ')})`);
  return found;
}

export interface BootstrapOptions {
  log: Logger;
  /** Where the one-time lines a person must see go (stdout by default). */
  print?: (line: string) => void;
  /** Apply the default site (or config.siteFile) when the store is empty; default true. */
  applySite?: boolean;
  /** Dates the first import (Relais' injected clock; the wall clock when absent). */
  clock?: Clock;
}

export interface BootstrapResult {
  directory: Directory;
  /** The generated first-run admin password, when one was generated. */
  generatedAdminPassword?: string;
  /** The site file applied because the store was empty. */
  appliedSite?: string;
}

/** The realm the extensions' HA1 values were computed for. */
export const REALM_SETTING = 'sip.realm';
export const FIRST_ADMIN = 'admin';

export function bootstrapSite(store: Store, config: Pick<Config, 'domain' | 'siteFile' | 'adminPassword'>, opts: BootstrapOptions): BootstrapResult {
  const print = opts.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  // Repositories date what they write (users' and extensions' created/updated times) with the injected clock.
  const clock = opts.clock;
  const directory = new Directory(store.db, config.domain, clock ? () => clock.now() : undefined);
  const result: BootstrapResult = { directory };

  // HA1 = H(user:realm:secret) depends on the realm: recompute them all when the domain changed.
  const realm = directory.settings.get(REALM_SETTING);
  if (realm !== config.domain) {
    store.transaction(() => {
      const n = directory.extensions.rehash(config.domain);
      directory.settings.set(REALM_SETTING, config.domain);
      if (realm !== undefined) opts.log.info('SIP realm changed; digest credentials recomputed', { from: realm, to: config.domain, extensions: n });
    });
  }

  // Only a new box gets the default site: not one whose site was imported and then emptied on purpose.
  if ((opts.applySite ?? true) && directory.settings.get(SITE_APPLIED_KEY) === undefined && directory.isEmpty()) {
    const file = config.siteFile ?? defaultSitePath();
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (err) {
      throw new RelaisError('site.unreadable', `cannot read site file ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
    const summary = importSiteText(store, config.domain, text, config.siteFile ? file : 'default site', opts.clock);
    result.appliedSite = file;
    opts.log.info('site applied to the empty store', {
      file,
      extensions: summary.extensions,
      numbers: summary.numbers,
      queues: summary.queues,
      scenarios: summary.scenarios,
    });
  } else if (config.siteFile !== undefined && (opts.applySite ?? true)) {
    opts.log.warn('--site ignored: this data dir already has a site (use relais import to replace it)', { file: config.siteFile });
  }

  // First-run admin: someone must be able to log in to the console.
  const admins = directory.users.list().filter((u) => u.role === 'admin' && u.hasPassword);
  if (admins.length === 0) {
    const password = config.adminPassword ?? generateSecret(16);
    const existing = directory.users.findByUsername(FIRST_ADMIN);
    store.transaction(() => {
      if (existing) {
        directory.users.update(existing.id, { role: 'admin' });
        directory.users.setPassword(existing.id, password);
      } else directory.users.create({ username: FIRST_ADMIN, name: 'Administrator', role: 'admin', password });
    });
    if (config.adminPassword === undefined) {
      result.generatedAdminPassword = password;
      print(`First-run admin password for user "${FIRST_ADMIN}": ${password}`);
      // Until someone chooses a password, the console offers first-run setup (with the token printed at start).
      directory.settings.setJson('console.setup_pending', FIRST_ADMIN);
    } else opts.log.info('first-run admin created with RELAIS_ADMIN_PASSWORD', { user: FIRST_ADMIN });
  }
  return result;
}
