// Migration 202612081300-wallboard-tokens and its repository: hashes only, the secret verifies, a revoked one does not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { MIGRATIONS, Store } from '../../../services/storage/index.js';
import { WallboardTokenRepository } from '../../../services/api/index.js';
import { tempDir } from '../../helpers/relais-process.js';

test('202612081300-wallboard-tokens adds wallboard_tokens to an older schema; tokens are kept as hashes', () => {
  const i = MIGRATIONS.findIndex((m) => m.version === '202612081300');
  assert.ok(i > 0);
  const file = path.join(tempDir('migration-'), 'old.db');
  const old = Store.open(file, { migrations: MIGRATIONS.slice(0, i) });
  old.close();
  const s = Store.open(file);
  try {
    let now = 1_000;
    const repo = new WallboardTokenRepository(s.db, { now: () => now } as never);
    const { token, secret } = repo.create('Hall TV', null);
    assert.match(secret, /^rwb_[A-Za-z0-9_-]{32}$/);
    const stored = s.db.prepare('SELECT * FROM wallboard_tokens').all() as Record<string, unknown>[];
    assert.equal(stored.length, 1);
    assert.ok(!JSON.stringify(stored).includes(secret.slice(4)), 'no clear secret in the table');
    now = 100_000;
    assert.equal(repo.verify(secret)?.id, token.id);
    assert.equal(repo.require(token.id).lastUsedAt, 100_000);
    assert.equal(repo.verify(`${secret}x`), undefined);
    assert.equal(repo.verify('rls_notawallboardtoken'), undefined);
    repo.delete(token.id);
    assert.equal(repo.verify(secret), undefined);
    assert.throws(() => repo.delete(token.id), /does not exist/);
  } finally {
    s.close();
  }
});
