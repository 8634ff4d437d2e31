// Inbox status, jobs, blocklist (keys, verdicts), goto loops refused, and the change watcher across two connections.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { Store, ChangeWatcher } from '../../../services/storage/index.js';
import { ManualClock } from '../../../services/shared/index.js';
import { BlocklistRepository, InboxRepository, JobRepository, matchKey } from '../../../services/scenario/inbox/index.js';
import { validateSite, SiteFileError } from '../../../services/site/index.js';
import { tempDir } from '../../helpers/relais-process.js';

function withCall(store: Store, id: string, caller: string): void {
  store.db.prepare("INSERT INTO calls (id, direction, caller, callee, started_at) VALUES (?, 'inbound', ?, '+33100000000', ?)").run(id, caller, Date.now());
}

test('inbox status: new by default, changed, listed by status, deleted hidden from the default list', () => {
  const store = Store.open(':memory:');
  try {
    const inbox = new InboxRepository(store.db);
    withCall(store, 'a', '0611');
    withCall(store, 'b', '0622');
    assert.equal(inbox.get('a')!.status, 'new');
    inbox.setStatus('a', 'spam');
    inbox.setStatus('b', 'deleted');
    assert.deepEqual(inbox.list('spam', 10).map((c) => c.id), ['a']);
    assert.deepEqual(inbox.list(undefined, 10).map((c) => c.id), ['a']);
    assert.throws(() => inbox.setStatus('a', 'archived' as never), /not one of new, job, spam, closed, deleted/);
    assert.throws(() => inbox.setStatus('zz', 'spam'), /does not exist/);
  } finally {
    store.close();
  }
});

test('jobs: created from a call, assigned, done; the call row going away keeps the job', () => {
  const store = Store.open(':memory:');
  try {
    const jobs = new JobRepository(store.db, () => 5);
    withCall(store, 'c1', '0611');
    const u = store.db.prepare("INSERT INTO users (username, created_at) VALUES ('paul', 1)").run().lastInsertRowid;
    const j = jobs.create({ title: 'Call back', caller: '0611', callId: 'c1', assigneeId: Number(u) });
    assert.equal(j.status, 'open');
    assert.equal(jobs.update(j.id, { status: 'done', notes: 'ok' }).status, 'done');
    assert.deepEqual(jobs.list({ status: 'done' }).map((x) => x.id), [j.id]);
    store.db.prepare("DELETE FROM calls WHERE id = 'c1'").run();
    assert.equal(jobs.require(j.id).callId, null);
    assert.equal(jobs.delete(j.id), true);
  } finally {
    store.close();
  }
});

test('blocklist: one caller whatever the international prefix; decline or the chosen scenario; checks name the field', () => {
  const store = Store.open(':memory:');
  try {
    const b = new BlocklistRepository(store.db, () => 1);
    assert.equal(matchKey('+33 6 12-34.56.78'), '33612345678');
    assert.equal(matchKey('0033612345678'), '33612345678');
    const e = b.add({ number: '+33 6 12 34 56 78' });
    assert.equal(b.screen('0033612345678')?.action, 'decline');
    assert.equal(b.screen('33612345678')?.entry.id, e.id);
    assert.equal(b.screen('0612345678'), undefined, 'a national form is another key');
    assert.equal(b.screen('anonymous'), undefined);
    assert.throws(() => b.add({ number: 'x' }), (err: Error & { field?: string }) => err.field === 'number');
    assert.throws(() => b.add({ number: '0600', action: 'scenario' }), (err: Error & { field?: string }) => err.field === 'scenario');
    store.db.prepare("INSERT INTO scenarios (name, actions, updated_at) VALUES ('polite', '[]', 1)").run();
    const s = b.add({ number: '0600', action: 'scenario', scenario: 'polite' });
    assert.deepEqual(b.screen('0600'), { action: 'scenario', scenario: 'polite', entry: s });
    // The scenario deleted since: the caller stays blocked (declined).
    store.db.prepare("DELETE FROM scenarios WHERE name = 'polite'").run();
    assert.equal(b.screen('0600')?.action, 'decline');
  } finally {
    store.close();
  }
});

test('goto loops with no exit are refused with the path of the goto; a loop through a menu or a call is fine', () => {
  const err = (scenarios: unknown): string => {
    try {
      validateSite({ scenarios });
    } catch (e) {
      assert.ok(e instanceof SiteFileError);
      return e.message;
    }
    return '';
  };
  assert.match(
    err([
      { name: 'a', actions: [{ type: 'answer' }, { type: 'goto_scenario', scenario: 'b' }] },
      { name: 'b', actions: [{ type: 'play', prompt: 'welcome' }, { type: 'goto_scenario', scenario: 'a' }] },
    ]),
    /^scenarios\[0\]\.actions\[1\]\.scenario: goto_scenario loops with no exit \(a → b → a\)/,
  );
  assert.match(err([{ name: 'self', actions: [{ type: 'goto_scenario', scenario: 'self' }] }]), /scenarios\[0\]\.actions\[0\]\.scenario: goto_scenario loops/);
  assert.equal(err([{ name: 'menu', actions: [{ type: 'detect_dtmf', prompt: 'welcome', options: [{ key: '1', name: 'x', actions: [{ type: 'hangup' }] }] }, { type: 'goto_scenario', scenario: 'menu' }] }]), '');
  assert.equal(err([{ name: 'when', actions: [{ type: 'goto_scenario', scenario: 'when', when: { times: ['09:00-10:00'] } }, { type: 'hangup' }] }]), '');
  assert.equal(err([{ name: 'x', actions: [{ type: 'transfer', to: '100' }, { type: 'goto_scenario', scenario: 'x' }] }]), '');
});

test('change watcher: another connection commits → changed(external); this process touches → changed(local)', async () => {
  const file = path.join(tempDir('watch-'), 'w.db');
  const a = Store.open(file);
  const b = Store.open(file);
  try {
    const clock = new ManualClock();
    const w = new ChangeWatcher(a.db, clock, 200);
    const seen: boolean[] = [];
    w.on('changed', (external) => seen.push(external));
    await w.start();
    assert.equal(w.poll(), false);
    a.db.prepare("INSERT INTO settings (key, value) VALUES ('own', '1')").run();
    assert.equal(w.poll(), false, 'our own writes do not count as external');
    b.db.prepare("INSERT INTO settings (key, value) VALUES ('other', '1')").run();
    clock.advance(200);
    assert.deepEqual(seen, [true]);
    w.touch();
    assert.deepEqual(seen, [true, false]);
    await w.stop();
  } finally {
    a.close();
    b.close();
  }
});
