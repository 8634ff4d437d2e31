// SoundRepository.usedBy: numbers (welcome), queues (music on hold, timeout) and scenarios (by name) that still play a sound.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Store } from '../../../services/storage/index.js';
import { Directory } from '../../../services/directory/index.js';

test('usedBy names every number, queue and scenario playing the sound; an unused sound is free to go', () => {
  const store = Store.open(':memory:');
  try {
    const dir = new Directory(store.db, 'example.com');
    const hello = dir.sounds.create({ name: 'hello', file: 'hello.wav' });
    const jazz = dir.sounds.create({ name: 'jazz', file: 'jazz.wav', kind: 'moh' });
    const spare = dir.sounds.create({ name: 'spare', file: 'spare.wav' });
    dir.numbers.create({ did: '+33100000001', welcomeSoundId: hello.id });
    dir.queues.create({ name: 'Sales', shortNumber: '600', mohSoundId: jazz.id, timeoutSoundId: hello.id });
    dir.scenarios.create('Main', [{ type: 'answer' }, { type: 'play', sound: 'hello' }, { type: 'hangup' }]);
    dir.numbers.create({ did: '+33100000002', offlineAction: { type: 'message', sound: 'jazz' } });
    dir.queues.create({ name: 'Support', shortNumber: '601', closureAction: { type: 'message', sound: 'jazz' } });
    assert.deepEqual(dir.sounds.usedBy(hello), ['number +33100000001 (welcome)', 'queue Sales (timeout)', 'scenario Main']);
    assert.deepEqual(dir.sounds.usedBy(jazz), ['queue Sales (music on hold)', 'number +33100000002 (offline message)', 'queue Support (closure message)']);
    assert.deepEqual(dir.sounds.usedBy(spare), []);
  } finally {
    store.close();
  }
});
