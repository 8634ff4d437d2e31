// The scenario `callback` action's confirmation dialog (read back, 1 confirms, 2 keys another, withheld → keyed in),
// and a hang-up before confirming as the queue's lost call (a LostCall callback under the after-abandon rule).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Store } from '../../../services/storage/index.js';
import { Directory } from '../../../services/directory/index.js';
import { ManualClock, Logger } from '../../../services/shared/index.js';
import { QueueService, queueGateway, type QueueCalls } from '../../../services/queue/index.js';
import { confirmCallbackNumber, dialable, readBack, CALLBACK_DIALOG_ATTEMPTS } from '../../../services/scenario/callback-dialog.js';
import type { CallPort, PlayOutcome, Utterance } from '../../../services/scenario/index.js';
import { FakeLive } from './fakes.js';

/** A call that answers with scripted keys (one string per question; 'HANGUP' = the caller hangs up there). */
class ScriptedCall implements CallPort {
  readonly log: string[] = [];
  private ended = false;
  constructor(
    readonly caller: string,
    private readonly keys: string[],
  ) {}
  gone(): boolean {
    return this.ended;
  }
  answered(): boolean {
    return true;
  }
  async answer(): Promise<boolean> {
    return !this.ended;
  }
  async earlyMedia(): Promise<boolean> {
    return true;
  }
  async play(items: Utterance[]): Promise<PlayOutcome> {
    this.log.push(items.map((i) => i.prompt ?? i.text ?? i.sound).join(' '));
    return this.ended ? 'gone' : 'done';
  }
  clearDigits(): void {}
  async readDigits(opts: { max: number; endKey?: string }): Promise<string> {
    const k = this.keys.shift() ?? '';
    if (k === 'HANGUP') {
      this.ended = true;
      return '';
    }
    return (opts.endKey && k.includes(opts.endKey) ? k.slice(0, k.indexOf(opts.endKey)) : k).slice(0, opts.max);
  }
  async ring(): Promise<'no-answer'> {
    return 'no-answer';
  }
  async transfer(): Promise<'failed'> {
    return 'failed';
  }
  async voicemail(): Promise<void> {}
  async ringingFor(): Promise<void> {}
  async reject(): Promise<void> {
    this.ended = true;
  }
  async hangup(): Promise<void> {
    this.ended = true;
  }
}

const READ_BACK_0612 = 'your-number-is number-0 number-6 number-1 number-2 confirm-or-reenter';

test('the caller ID is read back in digits and 1 confirms it', async () => {
  const call = new ScriptedCall('0612', ['1']);
  assert.deepEqual(await confirmCallbackNumber(call, 'fr', call.caller), { outcome: 'confirmed', number: '0612', keyedIn: false });
  assert.deepEqual(call.log, [READ_BACK_0612]);
  assert.ok(readBack('0612', 'fr').every((u) => u.language === 'fr'), 'read in the call language');
});

test('2 keys another number, which is read back in turn; an invalid key repeats the question', async () => {
  const call = new ScriptedCall('0699', ['2', '0612#', '7', '1']);
  assert.deepEqual(await confirmCallbackNumber(call, 'en', call.caller), { outcome: 'confirmed', number: '0612', keyedIn: true });
  assert.deepEqual(call.log, [
    'your-number-is number-0 number-6 number-9 number-9 confirm-or-reenter',
    'enter-phone-number',
    READ_BACK_0612,
    'invalid-option',
    READ_BACK_0612,
  ]);
});

test('a withheld caller must key a number in first; a one-digit number is refused', async () => {
  for (const withheld of ['anonymous', 'Anonymous', 'sip:anonymous@anonymous.invalid', 'unknown', 'restricted', '', 'abc']) {
    const call = new ScriptedCall(withheld, ['5#', '0612#', '1']);
    assert.deepEqual(await confirmCallbackNumber(call, 'en', withheld), { outcome: 'confirmed', number: '0612', keyedIn: true }, withheld);
    assert.deepEqual(call.log, ['enter-phone-number', 'invalid-option', 'enter-phone-number', READ_BACK_0612], withheld);
  }
});

test('hanging up before confirming is "gone"; no answer at all is "unconfirmed" after the attempts', async () => {
  assert.deepEqual(await confirmCallbackNumber(new ScriptedCall('0612', ['HANGUP']), 'en', '0612'), { outcome: 'gone', number: '0612' });
  assert.deepEqual(await confirmCallbackNumber(new ScriptedCall('anonymous', ['HANGUP']), 'en', 'anonymous'), { outcome: 'gone', number: undefined });
  const silent = new ScriptedCall('0612', []);
  assert.deepEqual(await confirmCallbackNumber(silent, 'en', '0612'), { outcome: 'unconfirmed', number: '0612' });
  assert.equal(silent.log.length, CALLBACK_DIALOG_ATTEMPTS, 'the read-back repeated once per attempt');
});

test('dialable: digits and a leading + kept, SIP URIs unwrapped, withheld numbers refused', () => {
  assert.equal(dialable('+33 6 12 34 56 78'), '+33612345678');
  assert.equal(dialable('sip:0612345678@pbx.example;user=phone'), '0612345678');
  assert.equal(dialable('Anonymous'), undefined);
  assert.equal(dialable('7'), undefined);
  assert.deepEqual(readBack('+336', 'en').map((u) => u.prompt), ['your-number-is', 'number-3', 'number-3', 'number-6', 'confirm-or-reenter']);
});

test('gateway: a hang-up in the dialog is a lost call (history queue.lost, LostCall callback under after-abandon); a confirmed offer links its call', async () => {
  const clock = new ManualClock();
  const store = Store.open(':memory:');
  const dir = new Directory(store.db, 'relais.test', () => clock.now());
  dir.queues.create({ name: 'support', shortNumber: '900', lostCallRules: { afterAbandon: true, afterTimeout: false, afterNoAgent: false, minWaitSeconds: 10, businessHoursOnly: false, maxAttempts: 3, retryDelayMinutes: 10 } });
  const svc = new QueueService({ db: store.db, queues: dir.queues, clock, logger: new Logger('silent'), live: new FakeLive(), pollMs: 0 });
  await svc.start();
  const gw = queueGateway(svc, {} as QueueCalls);
  const live = (id: string, startedAt: number): CallPort => {
    store.db.prepare("INSERT INTO calls (id, direction, caller, callee, started_at) VALUES (?, 'inbound', '0600', '0100', ?)").run(id, startedAt);
    return { setup: { call: { id, startedAt } } } as unknown as CallPort;
  };
  const offer = { queue: 'support', delayMinutes: 0, did: '0100', variables: {}, services: [] };

  // Hung up after 5 s: shorter than the rule's minimum wait, not a lost call worth a callback.
  gw.offerAbandoned!({ ...offer, number: '0611111111', port: live('call-short', clock.now() - 5_000) });
  // Hung up after 30 s: a LostCall callback linked to the call; a withheld caller leaves only the history row.
  gw.offerAbandoned!({ ...offer, number: '0622222222', port: live('call-lost', clock.now() - 30_000) });
  gw.offerAbandoned!({ ...offer, number: 'anonymous', port: live('call-anon', clock.now() - 30_000) });
  // The simulator's call (no live setup) leaves nothing.
  gw.offerAbandoned!({ ...offer, number: '0633333333', port: {} as CallPort });
  const cbs = svc.callbacks.list();
  assert.deepEqual(cbs.map((c) => [c.number, c.linkType, c.source, c.originCallId]), [['0622222222', 'LostCall', 'lost_call', 'call-lost']]);
  const lost = store.db.prepare("SELECT data FROM queue_events WHERE type = 'queue.lost'").all() as { data: string }[];
  assert.deepEqual(lost.map((r) => (JSON.parse(r.data) as { callId: string; reason: string }).callId), ['call-short', 'call-lost', 'call-anon']);
  assert.ok(lost.every((r) => (JSON.parse(r.data) as { reason: string }).reason === 'callback_unconfirmed'));

  assert.equal(await gw.callback({ ...offer, number: '0644444444', port: live('call-offer', clock.now()) }), 'accepted');
  const offered = svc.callbacks.list().find((c) => c.number === '0644444444')!;
  assert.deepEqual([offered.linkType, offered.originCallId], ['CallBack', 'call-offer']);
  await svc.stop();
  store.close();
});
