// ExtensionRepository: HA1 MD5/SHA-256 for the realm, lookups, rehash.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Store } from '../../../services/storage/index.js';
import { ExtensionRepository, UserRepository, computeHa1 } from '../../../services/directory/index.js';

const md5 = (s: string): string => createHash('md5').update(s).digest('hex');
const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

test('HA1 matches RFC 2617 / RFC 7616 definitions', () => {
  assert.equal(computeHa1('MD5', 'Mufasa', 'testrealm@host.com', 'Circle Of Life'), '939e7578ed9e3c518a452acee763bce9');
  assert.equal(computeHa1('SHA-256', 'u', 'r', 'p'), sha256('u:r:p'));
});

test('create computes HA1 for the realm; lookups; update rehashes; rehash(realm) for a new domain', () => {
  const store = Store.open(':memory:');
  try {
    const users = new UserRepository(store.db);
    const u = users.create({ username: 'alice' });
    const exts = new ExtensionRepository(store.db, 'office.example');
    const e = exts.create({ number: '100', userId: u.id, displayName: 'Alice', secret: 's3cret-pass' });
    assert.equal(e.sipUsername, '100');
    assert.equal(e.ha1Md5, md5('100:office.example:s3cret-pass'));
    assert.equal(e.ha1Sha256, sha256('100:office.example:s3cret-pass'));
    assert.equal(e.digestAlgorithm, 'MD5');
    assert.equal(e.voicemailEnabled, true);
    const gen = exts.create({ number: '101', sipUsername: 'bob101' });
    assert.equal(gen.secret.length, 16);
    assert.equal(gen.ha1Md5, md5(`bob101:office.example:${gen.secret}`));

    assert.equal(exts.findByNumber('100')?.id, e.id);
    assert.equal(exts.findBySipUsername('bob101')?.number, '101');
    assert.equal(exts.findBySipUsername('nobody'), undefined);
    assert.deepEqual(exts.list().map((x) => x.number), ['100', '101']);
    assert.deepEqual(exts.listByUser(u.id).map((x) => x.number), ['100']);

    const e2 = exts.update(e.id, { secret: 'another-secret', voicemailPin: '1234', digestAlgorithm: 'SHA-256' });
    assert.equal(e2.ha1Md5, md5('100:office.example:another-secret'));
    assert.equal(e2.voicemailPin, '1234');
    assert.equal(e2.digestAlgorithm, 'SHA-256');

    assert.equal(exts.rehash('new.example'), 2);
    assert.equal(exts.findByNumber('100')?.ha1Md5, md5('100:new.example:another-secret'));
    assert.equal(exts.findByNumber('101')?.ha1Sha256, sha256(`bob101:new.example:${gen.secret}`));

    assert.throws(() => exts.create({ number: '100' }), /already exists/);
    assert.throws(() => exts.create({ number: '1x' }), /2 to 8 digits/);
    assert.throws(() => exts.create({ number: '102', sipUsername: '100' }), /already used/);
    assert.throws(() => exts.create({ number: '102', secret: 'short' }), /at least 8/);
    assert.throws(() => exts.update(e.id, { voicemailPin: '12' }), /PIN/);

    users.delete(u.id);
    assert.equal(exts.findByNumber('100')?.userId, null);
    exts.delete(gen.id);
    assert.equal(exts.findByNumber('101'), undefined);
  } finally {
    store.close();
  }
});
