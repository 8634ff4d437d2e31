// EmailNotifier: which events are worth an e-mail (missed inbound calls, callbacks due, warnings), and nothing is
// sent while e-mail is off or the kind is not chosen (the SMTP exchange itself: test/interop/notify-email.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventBus, type CallView, type RelaisEvent } from '../../../services/events/index.js';
import { EmailNotifier, DEFAULT_EMAIL_SETTINGS } from '../../../services/notify/index.js';
import { silentLogger, type Clock } from '../../../services/shared/index.js';

const clock = { now: () => 1_000 } as unknown as Clock;
const store = new Map<string, string>();
const settings = {
  getJson: (k: string) => (store.has(k) ? JSON.parse(store.get(k)!) : undefined),
  site: (k: string) => (k === 'name' ? 'Cabinet Martin' : undefined),
};
const notifier = new EmailNotifier({
  bus: new EventBus({ clock }),
  settings: settings as never,
  users: { get: () => undefined } as never,
  extensions: { get: () => undefined } as never,
  numbers: { get: () => undefined } as never,
  voicemailFile: () => undefined,
  dataDir: '/nonexistent',
  logger: silentLogger,
});

const call = (over: Partial<CallView>): CallView => ({
  id: 'c1', direction: 'inbound', state: 'ended', caller: { number: '0611223344', displayName: '', isExtension: false },
  callee: { number: '201', displayName: '', isExtension: true }, startedAt: 1, answeredAt: null, endedAt: 2, cause: null, did: '+33100000000', ...over,
});
const ev = <K extends RelaisEvent['type']>(type: K, data: unknown): RelaisEvent => ({ seq: 1, at: 1, type, data } as RelaisEvent);

test('mails for a missed inbound call, a callback due, a warning; none for answered, outbound, info or other states', () => {
  const missed = notifier.mailOf(ev('call.ended', call({})));
  assert.equal(missed?.kind, 'missed');
  assert.match(missed!.subject, /^\[Cabinet Martin\] Missed call from 0611223344$/);
  assert.match(missed!.text, /\+33100000000/);
  assert.equal(notifier.mailOf(ev('call.ended', call({ answeredAt: 5 }))), undefined);
  assert.equal(notifier.mailOf(ev('call.ended', call({ direction: 'outbound' }))), undefined);
  assert.equal(notifier.mailOf(ev('callback.changed', { id: 7, state: 'dialling' }))?.kind, 'callback');
  assert.equal(notifier.mailOf(ev('callback.changed', { id: 7, state: 'scheduled' })), undefined);
  assert.equal(notifier.mailOf(ev('system.alert', { level: 'critical', code: 'health.down', message: 'disk full' }))?.subject, '[Cabinet Martin] Critical: disk full');
  assert.equal(notifier.mailOf(ev('system.alert', { level: 'info', code: 'health.ok', message: 'fine' })), undefined);
  assert.equal(notifier.mailOf(ev('registration.added', {})), undefined);
  const vm = notifier.mailOf(ev('voicemail.new', { id: 3, extension: '402', number: null, caller: '401' }));
  assert.equal(vm?.kind, 'voicemail');
  assert.equal(vm?.attachment, undefined, 'no file, no attachment');
});

test('nothing is sent while e-mail is off, without a host, for a kind not chosen, or without a recipient', async () => {
  const mail = { kind: 'missed' as const, subject: 's', text: 't', owners: [] };
  assert.equal(await notifier.send(mail), false, 'off by default');
  assert.equal(await notifier.send(mail, { ...DEFAULT_EMAIL_SETTINGS, enabled: true, host: '', kinds: ['missed'], to: ['a@b.example'] }), false);
  assert.equal(await notifier.send(mail, { ...DEFAULT_EMAIL_SETTINGS, enabled: true, host: '127.0.0.1', kinds: ['voicemail'], to: ['a@b.example'] }), false);
  assert.equal(await notifier.send(mail, { ...DEFAULT_EMAIL_SETTINGS, enabled: true, host: '127.0.0.1', kinds: ['missed'], to: [] }), false);
  assert.deepEqual(notifier.status(), { sent: 0, failed: 0, lastError: null });
});
