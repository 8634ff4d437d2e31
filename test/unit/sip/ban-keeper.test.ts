// BanKeeper and BanRepository: bans recorded in SQLite (migration 202612071500), restored after a restart, lifts
// made by another connection (the CLI) applied on the next sync, security events written.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { ManualClock, silentLogger } from '../../../services/shared/index.js';
import { Store } from '../../../services/storage/index.js';
import { AuthGuard, BanKeeper, BanRepository } from '../../../services/sip/index.js';
import { tempDir } from '../../helpers/relais-process.js';

const OPTS = { maxFailures: 1, ownAddresses: ['127.0.0.1'], allowList: [] };

test('ban keeper: bans and locks are recorded with a security event, restored by a new process, lifted from another connection', async () => {
  const file = path.join(tempDir('bans-'), 'relais.db');
  const clock = new ManualClock(1_800_000_000_000);
  const store = Store.open(file);
  const guard = new AuthGuard({ clock, ...OPTS });
  const keeper = new BanKeeper({ guard, repo: new BanRepository(store.db), clock, logger: silentLogger });
  await keeper.start();
  guard.failure('192.0.2.1', 'unknown-user', 'admin');
  guard.judge('127.0.0.1', { ok: false, reason: 'wrong-password', detail: '', username: '201', stale: false });
  const repo = new BanRepository(store.db);
  assert.deepEqual(repo.active(clock.now()).map((b) => [b.kind, b.address, b.user ?? '']).sort(), [
    ['address', '192.0.2.1', ''],
    ['extension', '127.0.0.1', '201'],
  ]);
  assert.deepEqual(repo.events().map((e) => [e.type, e.address]), [['sip.locked', '127.0.0.1'], ['sip.banned', '192.0.2.1']]);
  await keeper.stop();

  // A restart: a new guard gets the bans back for the time left.
  const guard2 = new AuthGuard({ clock, ...OPTS });
  const keeper2 = new BanKeeper({ guard: guard2, repo: new BanRepository(store.db), clock, logger: silentLogger, syncIntervalMs: 1000 });
  await keeper2.start();
  assert.ok(guard2.isBanned('192.0.2.1'));
  assert.ok(guard2.isLocked('201', '127.0.0.1'));

  // The CLI (another connection) removes the address ban; the next sync lifts it in memory, the lock stays.
  const cli = Store.open(file);
  new BanRepository(cli.db).remove('192.0.2.1');
  cli.close();
  clock.advance(1000);
  assert.equal(guard2.isBanned('192.0.2.1'), false);
  assert.ok(guard2.isLocked('201', '127.0.0.1'));
  // A lift through the guard (the API) removes the row and writes the event.
  guard2.lift('127.0.0.1');
  assert.deepEqual(repo.active(clock.now()), []);
  assert.equal(repo.events()[0]!.type, 'sip.lifted');
  await keeper2.stop();
  store.close();
});
