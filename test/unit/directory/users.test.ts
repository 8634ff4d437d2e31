// UserRepository: scrypt hashes, roles, rights.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Store } from '../../../services/storage/index.js';
import { UserRepository, hashPassword, verifyPasswordHash } from '../../../services/directory/index.js';

function repo(): { store: Store; users: UserRepository } {
  const store = Store.open(':memory:');
  return { store, users: new UserRepository(store.db, () => 1000) };
}

test('scrypt hash verifies the right password only and is salted', () => {
  const h1 = hashPassword('correct horse');
  const h2 = hashPassword('correct horse');
  assert.notEqual(h1, h2);
  assert.match(h1, /^scrypt\$16384\$8\$1\$/);
  assert.ok(verifyPasswordHash('correct horse', h1));
  assert.ok(!verifyPasswordHash('correct hors', h1));
  assert.ok(!verifyPasswordHash('x', 'garbage'));
});

test('create, verify, rights, roles, update, delete', () => {
  const { store, users } = repo();
  try {
    assert.equal(users.hasAdmin(), false);
    const admin = users.create({ username: 'admin', role: 'admin', password: 'secret-pass' });
    assert.equal(users.hasAdmin(), true);
    assert.equal(admin.role, 'admin');
    assert.equal(admin.hasPassword, true);
    const alice = users.create({ username: 'alice', name: 'Alice', rights: ['queues', 'history'] });
    assert.deepEqual(alice.rights, ['queues', 'history']);
    assert.equal(alice.hasPassword, false);
    assert.equal(alice.createdAt, 1000);
    assert.ok(users.hasRight(alice, 'queues'));
    assert.ok(!users.hasRight(alice, 'users'));
    assert.throws(() => users.update(alice.id, { rights: ['everything'] }), /right "everything" is not one of scenarios/);
    assert.ok(users.hasRight(admin, 'users'));

    assert.equal(users.verify('admin', 'secret-pass')?.id, admin.id);
    assert.equal(users.verify('admin', 'wrong-pass'), undefined);
    assert.equal(users.verify('nobody', 'secret-pass'), undefined);
    assert.equal(users.verify('alice', ''), undefined);

    const a2 = users.update(alice.id, { name: 'Alice B', rights: [], password: 'alice-pass', dnd: true });
    assert.equal(a2.name, 'Alice B');
    assert.deepEqual(a2.rights, []);
    assert.equal(a2.dnd, true);
    assert.ok(users.verify('alice', 'alice-pass'));

    assert.throws(() => users.create({ username: 'alice' }), /already exists/);
    assert.throws(() => users.create({ username: 'Bad Name' }), /username "Bad Name"/);
    assert.throws(() => users.create({ username: 'bob', password: 'short' }), /at least 8/);
    assert.throws(() => users.create({ username: 'bob', role: 'root' as 'admin' }), /role "root"/);
    users.delete(alice.id);
    assert.equal(users.findByUsername('alice'), undefined);
    assert.throws(() => users.delete(alice.id), /does not exist/);
    assert.deepEqual(users.list().map((u) => u.username), ['admin']);
  } finally {
    store.close();
  }
});
