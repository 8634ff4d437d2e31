// CallHistory.list paging (the API's /api/calls?before=): by time, and by call id exactly when start times tie.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Store } from '../../../services/storage/index.js';
import { CallHistory } from '../../../services/call/index.js';

test('pages of 2 by call id walk every call once, newest first, even with equal start times', () => {
  const store = Store.open(':memory:');
  try {
    const h = new CallHistory(store.db);
    const starts = [10, 20, 20, 20, 30];
    starts.forEach((t, i) => h.create({ id: `c${i}`, direction: 'internal', caller: '101', callee: '102', startedAt: t }));
    const seen: string[] = [];
    let page = h.list(2);
    while (page.length > 0) {
      seen.push(...page.map((c) => c.id));
      page = h.list(2, page.at(-1)!.id);
    }
    assert.deepEqual(seen, ['c4', 'c3', 'c2', 'c1', 'c0']);
    assert.deepEqual(h.list(10, 20).map((c) => c.id), ['c0'], 'by time: strictly before 20 ms');
    assert.deepEqual(h.list(10, 'no-such-call'), []);
  } finally {
    store.close();
  }
});
