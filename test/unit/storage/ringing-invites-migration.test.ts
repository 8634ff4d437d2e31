// Migration 202612091000-ringing-invites: the table exists after the upgrade of an older store, older rows of
// live_dialogs are kept, and the journal writes a ringing INVITE behind, reads it back and forgets it on its final
// response (a ring shorter than the flush delay never touches the disk).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { MIGRATIONS, Store } from '../../../services/storage/index.js';
import { DialogJournal, type JournalledInvite } from '../../../services/sip/index.js';
import { tempDir } from '../../helpers/relais-process.js';

const INVITE: JournalledInvite = {
  id: 'uas:z9hG4bK-1',
  role: 'uas',
  callId: 'c1@127.0.0.1',
  message: 'INVITE sip:211@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-1\r\nFrom: <sip:201@127.0.0.1>;tag=a\r\nTo: <sip:211@127.0.0.1>\r\nCall-ID: c1@127.0.0.1\r\nCSeq: 2 INVITE\r\nContent-Length: 0\r\n\r\n',
  toTag: 'b',
  flow: { transport: 'udp', address: '127.0.0.1', port: 5070 },
  createdAt: 1000,
};

test('202612091000-ringing-invites: an older store upgrades, the table takes rows and refuses unknown roles', () => {
  const i = MIGRATIONS.findIndex((m) => m.version === '202612091000');
  assert.ok(i > 0);
  const file = path.join(tempDir('migration-'), 'old.db');
  const old = Store.open(file, { migrations: MIGRATIONS.slice(0, i) });
  old.db
    .prepare("INSERT INTO live_dialogs (id, role, call_id, local_tag, remote_tag, local, remote, local_seq, remote_target, transport, address, port, created_at) VALUES ('d', 'uas', 'c', 'a', 'b', 'l', 'r', 1, 'sip:201@127.0.0.1', 'udp', '127.0.0.1', 5070, 1)")
    .run();
  old.close();
  const s = Store.open(file);
  try {
    assert.equal((s.db.prepare('SELECT count(*) AS n FROM live_dialogs').get() as { n: number }).n, 1);
    assert.throws(
      () => s.db.prepare("INSERT INTO ringing_invites (id, role, call_id, message, transport, address, port, created_at) VALUES ('x', 'proxy', 'c', 'm', 'udp', 'a', 1, 1)").run(),
      /CHECK/,
    );
  } finally {
    s.close();
  }
});

test('DialogJournal: a ringing INVITE is written behind, listed back, and removed on its final response', () => {
  const s = Store.open(path.join(tempDir('journal-'), 'relais.db'));
  try {
    const journal = new DialogJournal(s.db);
    journal.putInvite(INVITE);
    journal.putInvite({ ...INVITE, id: 'uac:z9hG4bK-2', role: 'uac', toTag: '', flow: { transport: 'tls', address: '127.0.0.2', port: 5061 } });
    assert.equal((s.db.prepare('SELECT count(*) AS n FROM ringing_invites').get() as { n: number }).n, 0, 'nothing written before the flush');
    const listed = journal.listInvites();
    assert.deepEqual(listed.find((x) => x.id === INVITE.id), INVITE);
    assert.equal(listed.find((x) => x.role === 'uac')?.flow.transport, 'tls');
    journal.removeInvite(INVITE.id);
    journal.flush();
    assert.deepEqual(journal.listInvites().map((x) => x.id), ['uac:z9hG4bK-2']);
    // Rung and answered within one flush: no row, no write.
    journal.putInvite({ ...INVITE, id: 'uas:short' });
    journal.removeInvite('uas:short');
    journal.flush();
    assert.deepEqual(journal.listInvites().map((x) => x.id), ['uac:z9hG4bK-2']);
    journal.clear();
    assert.deepEqual(journal.listInvites(), []);
  } finally {
    s.close();
  }
});

test('DialogJournal: an INVITE text given as a function is made only when its row is written; one that throws loses only its row', () => {
  const s = Store.open(path.join(tempDir('journal-'), 'relais.db'));
  try {
    const errors: unknown[] = [];
    const journal = new DialogJournal(s.db, (err) => errors.push(err));
    let made = 0;
    const text = (): string => {
      made++;
      return INVITE.message;
    };
    // Answered within the flush delay: the text is never made.
    journal.putInvite({ ...INVITE, id: 'uas:short', message: text });
    journal.removeInvite('uas:short');
    journal.flush();
    assert.equal(made, 0);
    journal.putInvite({ ...INVITE, message: text });
    journal.putInvite({ ...INVITE, id: 'uas:broken', message: () => { throw new Error('no skeleton'); } });
    journal.putInvite({ ...INVITE, id: 'uac:z9hG4bK-3', role: 'uac' });
    journal.flush();
    assert.equal(made, 1);
    assert.equal(errors.length, 1);
    assert.equal(journal.writeFailures, 1);
    assert.deepEqual(journal.listInvites().map((x) => x.id).sort(), ['uac:z9hG4bK-3', INVITE.id]);
    assert.deepEqual(journal.listInvites().find((x) => x.id === INVITE.id), INVITE);
  } finally {
    s.close();
  }
});
