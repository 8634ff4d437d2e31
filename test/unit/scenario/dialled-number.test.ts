// What a dialled number reaches: an extension dialling one of the box's own numbers (DID) gets that number's handling,
// as a caller from a trunk does; the DID is recognised with its international prefix written another way.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Store } from '../../../services/storage/index.js';
import { Directory } from '../../../services/directory/index.js';
import { silentLogger, ManualClock } from '../../../services/shared/index.js';
import { importSiteText } from '../../../services/site/index.js';
import { FeatureCodes, resolveDestination, type CallService } from '../../../services/call/index.js';
import { ScenarioCalls, NoQueues, ScenarioInterpreter, directorySource } from '../../../services/scenario/index.js';

const SITE = `
version: 1
users:
  - { username: ann, name: Ann }
extensions:
  - { number: "201", user: ann }
numbers:
  - { did: "+33100000001", users: [ann] }
  - { did: "202" }
`;

test('an extension dialling a DID of the box reaches the number (its scenario), not an outbound route', () => {
  const store = Store.open(':memory:');
  importSiteText(store, 'relais.test', SITE);
  const dir = new Directory(store.db, 'relais.test');
  const interpreter = new ScenarioInterpreter({ source: directorySource(dir), conditions: { matches: () => true }, queues: new NoQueues(), isOnline: () => true, logger: silentLogger });
  const handler = new ScenarioCalls({
    calls: {} as CallService,
    interpreter,
    number: (id) => dir.numbers.get(id),
    numbers: dir.numbers,
    extensions: dir.extensions,
    speech: { soundFile: () => undefined, promptFile: () => undefined },
    clock: new ManualClock(0),
    logger: silentLogger,
  });
  const ann = dir.extensions.findByNumber('201')!;
  const lookups = { extensions: dir.extensions, features: new FeatureCodes(), routable: () => true, inboundNumber: (n: string) => handler.numberFor(n) };
  for (const dialled of ['+33100000001', '0033100000001', '33100000001']) {
    const d = resolveDestination(lookups, dialled, undefined, ann);
    assert.equal(d.kind, 'number', dialled);
    assert.equal(d.kind === 'number' ? d.number.did : '', '+33100000001');
  }
  // Any other number goes out through the routes; without an interpreter a DID goes out too.
  assert.equal(resolveDestination(lookups, '0612345678', undefined, ann).kind, 'external');
  assert.equal(resolveDestination({ ...lookups, inboundNumber: undefined }, '+33100000001', undefined, ann).kind, 'external');
  // An extension's own number stays the extension (internal calls), even when a DID is written the same.
  assert.equal(resolveDestination(lookups, '201', undefined, ann).kind, 'extension');
  // Only extensions reach numbers this way: without a caller extension (and no trunk) nothing matches.
  assert.equal(resolveDestination(lookups, '+33100000001', undefined, undefined).kind, 'unknown');
  store.close();
});
