// Migration 202612081401-user-ids-never-reused: users rebuilt with AUTOINCREMENT, every row and every reference to a
// user kept (ON DELETE CASCADE must not fire during the rebuild), and a deleted user's id never given again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { MIGRATIONS, Store } from '../../../services/storage/index.js';
import { UserRepository } from '../../../services/directory/index.js';
import { tempDir } from '../../helpers/relais-process.js';

test('202612081401-user-ids-never-reused keeps users and what refers to them, and ids are not reused afterwards', () => {
  const i = MIGRATIONS.findIndex((m) => m.version === '202612081401');
  assert.ok(i > 0);
  const file = path.join(tempDir('migration-'), 'old.db');
  const old = Store.open(file, { migrations: MIGRATIONS.slice(0, i) });
  const users = new UserRepository(old.db);
  const ana = users.create({ username: 'ana', password: 'ana-password-1' });
  const ben = users.create({ username: 'ben', password: 'ben-password-1' });
  const gone = users.create({ username: 'gone', password: 'gone-password' });
  users.delete(gone.id);
  old.db.prepare("INSERT INTO numbers (did, name) VALUES ('+33100000000', 'main')").run();
  old.db.prepare('INSERT INTO number_users (number_id, user_id) SELECT id, ? FROM numbers').run(ana.id);
  old.db.prepare("INSERT INTO api_tokens (user_id, name, token_hash, created_at) VALUES (?, 't', 'h', 1)").run(ben.id);
  const before = old.db.prepare('SELECT * FROM users ORDER BY id').all();
  old.close();

  const s = Store.open(file);
  try {
    assert.match((s.db.prepare("SELECT sql FROM sqlite_master WHERE name = 'users'").get() as { sql: string }).sql, /id INTEGER PRIMARY KEY AUTOINCREMENT/);
    assert.deepEqual(s.db.prepare('SELECT * FROM users ORDER BY id').all(), before, 'every user row as it was');
    assert.equal((s.db.prepare('SELECT count(*) AS n FROM number_users WHERE user_id = ?').get(ana.id) as { n: number }).n, 1, 'number assignment kept');
    assert.equal((s.db.prepare('SELECT count(*) AS n FROM api_tokens WHERE user_id = ?').get(ben.id) as { n: number }).n, 1, 'API token kept');
    assert.deepEqual(s.db.pragma('foreign_key_check'), []);
    assert.equal(s.db.pragma('integrity_check', { simple: true }), 'ok');
    assert.ok((s.db.pragma('foreign_key_list(number_users)') as { table: string }[]).some((f) => f.table === 'users'), 'references still name users');
    assert.equal((s.db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = 'users_old'").get() as { n: number }).n, 0);
    // Deleting the newest user and creating another never gives the old id again; cascades still work.
    const repo = new UserRepository(s.db);
    repo.delete(ben.id);
    assert.equal((s.db.prepare('SELECT count(*) AS n FROM api_tokens').get() as { n: number }).n, 0, 'ON DELETE CASCADE still applies');
    const cid = repo.create({ username: 'cid', password: 'cid-password-1' });
    assert.ok(cid.id > ben.id, `new id ${cid.id} after ${ben.id}`);
  } finally {
    s.close();
  }
});
