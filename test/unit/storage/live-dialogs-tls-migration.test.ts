// Migration 202612081500-live-dialogs-tls: live_dialogs keeps its rows and accepts the 'tls' transport; the journal
// reads a TLS dialog back as TLS.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { MIGRATIONS, Store } from '../../../services/storage/index.js';
import { DialogJournal } from '../../../services/sip/index.js';
import { tempDir } from '../../helpers/relais-process.js';

const INSERT =
  'INSERT INTO live_dialogs (id, role, call_id, local_tag, remote_tag, local, remote, local_seq, remote_target, transport, address, port, created_at) VALUES (?, \'uas\', \'c\', \'a\', \'b\', \'l\', \'r\', 1, \'sip:201@127.0.0.1\', ?, \'127.0.0.1\', 5070, 1)';

test('202612081500-live-dialogs-tls: rows kept, tls accepted, anything else still refused', () => {
  const i = MIGRATIONS.findIndex((m) => m.version === '202612081500');
  assert.ok(i > 0);
  const file = path.join(tempDir('migration-'), 'old.db');
  const old = Store.open(file, { migrations: MIGRATIONS.slice(0, i) });
  old.db.prepare(INSERT).run('before', 'tcp');
  assert.throws(() => old.db.prepare(INSERT).run('tls-before', 'tls'), /CHECK/);
  old.close();
  const s = Store.open(file);
  try {
    assert.deepEqual(s.db.prepare('SELECT id, transport FROM live_dialogs').all(), [{ id: 'before', transport: 'tcp' }]);
    s.db.prepare(INSERT).run('tls-after', 'tls');
    assert.throws(() => s.db.prepare(INSERT).run('ws', 'ws'), /CHECK/);
    const flows = new DialogJournal(s.db).list().map((d) => [d.id, d.flow.transport]);
    assert.deepEqual(flows.sort(), [['before', 'tcp'], ['tls-after', 'tls']]);
  } finally {
    s.close();
  }
});
