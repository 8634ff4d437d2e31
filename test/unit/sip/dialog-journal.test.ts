// The dialog journal's write-behind (docs/security.md "After a crash"): a dialog answered after a quiet moment is on
// disk by the next turn, so a kill -9 right after the answer still gets its BYE at the restart; the changes of a
// burst go in one commit per interval, and a ring that ends within the wait never touches the disk.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../../services/shared/index.js';
import { Store } from '../../../services/storage/index.js';
import { DialogJournal, type JournalledDialog } from '../../../services/sip/index.js';

const flow = { transport: 'udp' as const, address: '127.0.0.1', port: 5062 };

function dialog(id: string, at: number): JournalledDialog {
  return { id, role: 'uas', callId: `${id}@pc`, localTag: 'l', remoteTag: 'r', local: '<sip:201@relais.test>;tag=l', remote: '<sip:0612@relais.test>;tag=r', localSeq: 1, remoteTarget: 'sip:0612@127.0.0.1:5062', routeSet: [], flow, createdAt: at };
}

test('the journal writes a change after a quiet moment on the next turn, and a burst at most once per interval', () => {
  const clock = new ManualClock();
  const store = Store.open(':memory:', { clock });
  const journal = new DialogJournal(store.db, (err) => assert.fail(String(err)), { minIntervalMs: 10, maxIntervalMs: 50 }, clock);
  const onDisk = (): string[] => (store.db.prepare('SELECT id FROM live_dialogs ORDER BY id').all() as Array<{ id: string }>).map((r) => r.id);
  const invitesOnDisk = (): number => (store.db.prepare('SELECT count(*) AS n FROM ringing_invites').get() as { n: number }).n;
  try {
    journal.put(dialog('d1', clock.now()));
    assert.deepEqual(onDisk(), [], 'not within the turn of the answer');
    clock.advance(0);
    assert.deepEqual(onDisk(), ['d1'], 'on disk by the next turn: a kill -9 now still gets d1 its BYE');

    // A burst right after: its changes wait for the end of the interval and go together.
    clock.advance(2);
    journal.put(dialog('d2', clock.now()));
    journal.putInvite({ id: 'uas:b1', role: 'uas', callId: 'b1@pc', message: 'INVITE sip:201@relais.test SIP/2.0\r\n', toTag: 't', flow, createdAt: clock.now() });
    journal.put(dialog('d3', clock.now()));
    journal.removeInvite('uas:b1'); // answered within the wait: never written
    clock.advance(7);
    assert.deepEqual(onDisk(), ['d1'], 'the burst waits for the end of the interval');
    clock.advance(1);
    assert.deepEqual(onDisk(), ['d1', 'd2', 'd3'], 'then one commit');
    assert.equal(invitesOnDisk(), 0, 'a ring shorter than the wait cost no write');
    assert.equal(clock.pendingTimers(), 0);

    clock.advance(1000);
    journal.remove('d1');
    clock.advance(0);
    assert.deepEqual(onDisk(), ['d2', 'd3'], 'a hang-up after a quiet moment: the next turn too');
    journal.remove('d2');
    assert.deepEqual(journal.list().map((d) => d.id), ['d3'], 'a read writes what waits first');
    assert.equal(clock.pendingTimers(), 0, 'and leaves nothing scheduled');
  } finally {
    store.close();
  }
});
