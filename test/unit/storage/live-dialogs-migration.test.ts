// Migration 202612081400-live-dialogs and what uses it: the dialog journal (kept while a dialog lives, read back
// after a crash) and the call history closing the calls a crash left open.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { MIGRATIONS, Store } from '../../../services/storage/index.js';
import { DialogJournal, type JournalledDialog } from '../../../services/sip/index.js';
import { CallHistory } from '../../../services/call/call-history.js';
import { tempDir } from '../../helpers/relais-process.js';

const dialog = (id: string): JournalledDialog => ({
  id,
  role: 'uas',
  callId: `call-${id}`,
  localTag: 'lt',
  remoteTag: 'rt',
  local: '<sip:202@pbx>;tag=lt',
  remote: '"Alice" <sip:201@pbx>;tag=rt',
  localSeq: 10,
  remoteTarget: 'sip:201@127.0.0.1:5070',
  routeSet: ['<sip:proxy;lr>'],
  flow: { transport: 'udp', address: '127.0.0.1', port: 5070 },
  createdAt: 1000,
});

test('202612081400-live-dialogs adds live_dialogs to an older schema, keeping its data', () => {
  const i = MIGRATIONS.findIndex((m) => m.version === '202612081400');
  assert.ok(i > 0);
  const file = path.join(tempDir('migration-'), 'old.db');
  const old = Store.open(file, { migrations: MIGRATIONS.slice(0, i) });
  old.db.prepare("INSERT INTO calls (id, direction, caller, callee, started_at, status) VALUES ('c1', 'internal', '201', '202', 1, 'answered')").run();
  old.close();
  const s = Store.open(file);
  try {
    assert.equal((s.db.prepare('SELECT count(*) AS n FROM live_dialogs').get() as { n: number }).n, 0);
    assert.equal((s.db.prepare('SELECT count(*) AS n FROM calls').get() as { n: number }).n, 1);
    assert.throws(() => s.db.prepare("INSERT INTO live_dialogs (id, role, call_id, local_tag, remote_tag, local, remote, local_seq, remote_target, transport, address, port, created_at) VALUES ('x', 'proxy', 'c', 'a', 'b', 'l', 'r', 1, 't', 'udp', 'a', 1, 1)").run(), /CHECK/);
  } finally {
    s.close();
  }
});

test('the dialog journal keeps a dialog from its creation to its end, with its latest CSeq and remote target', () => {
  const s = Store.open(':memory:');
  const journal = new DialogJournal(s.db);
  journal.put(dialog('a'));
  journal.put(dialog('b'));
  journal.update('a', 12, 'sip:201@127.0.0.1:5080');
  journal.remove('b');
  const left = journal.list();
  assert.equal(left.length, 1);
  assert.deepEqual(left[0], { ...dialog('a'), localSeq: 12, remoteTarget: 'sip:201@127.0.0.1:5080' });
  journal.clear();
  assert.deepEqual(journal.list(), []);
  s.close();
  // A closed database (shutdown) is not an error thrown into the SIP path.
  journal.put(dialog('c'));
  assert.equal(journal.writeFailures, 0);
});

test('closeInterrupted ends the calls a crash left open with the cause and a call.ended event, and only those', () => {
  const s = Store.open(':memory:');
  const h = new CallHistory(s.db);
  h.create({ id: 'up', direction: 'internal', caller: '201', callee: '202', startedAt: 100 });
  h.answered('up', 150, null);
  h.create({ id: 'ringing', direction: 'internal', caller: '201', callee: '203', startedAt: 200 });
  h.create({ id: 'done', direction: 'internal', caller: '201', callee: '204', startedAt: 50 });
  h.ended('done', 90, 'caller-hangup');
  assert.deepEqual(h.closeInterrupted(5000, 'restart').sort(), ['ringing', 'up']);
  for (const id of ['up', 'ringing']) {
    const c = h.get(id)!;
    assert.equal(c.status, 'ended');
    assert.equal(c.cause, 'restart');
    assert.equal(c.endedAt, 5000);
    assert.deepEqual(h.events(id).at(-1)?.data, { cause: 'restart', interrupted: true });
  }
  assert.equal(h.get('done')!.cause, 'caller-hangup');
  assert.deepEqual(h.closeInterrupted(6000, 'restart'), []);
  s.close();
});
