// One handle on every directory repository over the same database, for the composition root and the site file.
import { prepared } from './prepared.js';
import type { Database } from '../storage/index.js';
import { ExtensionRepository } from './extensions.js';
import { NumberRepository } from './numbers.js';
import { PhoneRepository } from './phones.js';
import { QueueRepository } from './queues.js';
import { ScenarioRepository } from './scenarios.js';
import { SettingsRepository } from './settings.js';
import { SoundRepository } from './sounds.js';
import { TrunkRepository } from './trunks.js';
import { UserRepository } from './users.js';

export class Directory {
  readonly users: UserRepository;
  readonly extensions: ExtensionRepository;
  readonly numbers: NumberRepository;
  readonly trunks: TrunkRepository;
  readonly queues: QueueRepository;
  readonly scenarios: ScenarioRepository;
  readonly sounds: SoundRepository;
  readonly phones: PhoneRepository;
  readonly settings: SettingsRepository;

  /** @param realm the SIP digest realm (= config.domain). */
  constructor(readonly db: Database, realm: string, now: () => number = Date.now) {
    this.users = new UserRepository(db, now);
    this.extensions = new ExtensionRepository(db, realm, now);
    this.numbers = new NumberRepository(db);
    this.trunks = new TrunkRepository(db);
    this.queues = new QueueRepository(db);
    this.scenarios = new ScenarioRepository(db, now);
    this.sounds = new SoundRepository(db, now);
    this.phones = new PhoneRepository(db);
    this.settings = new SettingsRepository(db);
  }

  /** True when nothing of a site is configured yet (first start). */
  isEmpty(): boolean {
    const n = (t: string): number => (prepared(this.db, `SELECT count(*) AS n FROM ${t}`).get() as { n: number }).n;
    return n('extensions') + n('numbers') + n('queues') + n('scenarios') + n('trunks') === 0;
  }
}
