// A small office for the provisioning unit tests: two users in a queue, three extensions, one phone per vendor.
import fs from 'node:fs';
import path from 'node:path';
import { Directory, type PhoneVendor } from '../../../services/directory/index.js';
import { ProvisioningService } from '../../../services/provisioning/index.js';
import { ManualClock, silentLogger } from '../../../services/shared/index.js';
import { Store } from '../../../services/storage/index.js';
import { tempDir } from '../../helpers/relais-process.js';

/** One MAC per vendor (each in the vendor's OUI), all on extension 201 except the unassigned one. */
export const MACS: Record<PhoneVendor, string> = {
  yealink: '001565a1b2c3',
  polycom: '0004f2a1b2c3',
  grandstream: '000b82a1b2c3',
  snom: '000413a1b2c3',
  fanvil: '0c383ea1b2c3',
  cisco: '000e08a1b2c3',
};
export const UNASSIGNED = '001565ffff01';

export interface Office {
  store: Store;
  directory: Directory;
  service: ProvisioningService;
  clock: ManualClock;
  dataDir: string;
}

export function office(): Office {
  const clock = new ManualClock(Date.UTC(2026, 11, 7, 9, 0, 0));
  const store = Store.open(':memory:');
  const directory = new Directory(store.db, 'relais.test', () => clock.now());
  const anne = directory.users.create({ username: 'anne', name: 'Anne' });
  const bert = directory.users.create({ username: 'bert', name: 'Bert' });
  const e201 = directory.extensions.create({ number: '201', displayName: 'Anne <Sales & Co>', secret: 'secret-201', userId: anne.id });
  directory.extensions.create({ number: '202', displayName: 'Bert', secret: 'secret-202', userId: bert.id });
  directory.extensions.create({ number: '203', displayName: 'Cleo', secret: 'secret-203' });
  const sales = directory.queues.create({ name: 'Sales', shortNumber: '99900' });
  directory.queues.setMembers(sales.id, [{ userId: anne.id }, { userId: bert.id }]);
  const support = directory.queues.create({ name: 'Support', shortNumber: '99901' });
  directory.queues.setMembers(support.id, [{ userId: bert.id }]);
  directory.settings.setJson('site.timezone', 'Europe/Paris');
  directory.settings.setJson('site.language', 'fr');
  for (const [vendor, mac] of Object.entries(MACS)) {
    directory.phones.create({ mac, vendor: vendor as PhoneVendor, model: 'M1', extensionId: e201.id, label: 'Reception' });
  }
  directory.phones.create({ mac: UNASSIGNED, vendor: 'yealink', model: 'T46U', extensionId: null });
  const dataDir = tempDir('provisioning-');
  fs.mkdirSync(path.join(dataDir, 'provisioning'), { recursive: true });
  const service = new ProvisioningService({
    db: store.db,
    directory,
    clock,
    logger: silentLogger,
    domain: 'relais.test',
    dataDir,
    sipPort: 5060,
    advertisedHost: () => '192.0.2.10',
    ports: () => ({ http: 8080, https: 8443 }),
  });
  return { store, directory, service, clock, dataDir };
}
