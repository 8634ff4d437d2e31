import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock, silentLogger } from '../../../services/shared/index.js';
import { Store } from '../../../services/storage/index.js';
import { ExtensionRepository } from '../../../services/directory/index.js';
import { DigestClient, DigestServer } from '../../../services/sip/auth/index.js';
import { parseMessage, SipResponse, type SipRequest } from '../../../services/sip/message/index.js';
import { PresenceServer, formatDialogInfo, formatMessageSummary, type PresenceSipHost, type HandleResult } from '../../../services/sip/presence/index.js';

const DOMAIN = 'relais.test';
const SRC = { transport: 'udp' as const, address: '127.0.0.9', port: 5099 };

interface SentNotify {
  uri: string;
  headers: Record<string, string | string[]>;
  body: string;
  contentType: string;
  target: unknown;
  answer: (status: number) => void;
}

function setup(opts: { autoAnswer?: number } = {}) {
  const store = Store.open(':memory:');
  const extensions = new ExtensionRepository(store.db, DOMAIN);
  extensions.create({ number: '1000', secret: 'pw1000secret', digestAlgorithm: 'MD5' });
  extensions.create({ number: '1001', secret: 'pw1001secret', digestAlgorithm: 'MD5' });
  const clock = new ManualClock();
  const digest = new DigestServer({ realm: DOMAIN, clock });
  const presence = new PresenceServer({ extensions, digest, clock, logger: silentLogger, domain: DOMAIN, contact: () => 'sip:relais@127.0.0.1:5060' });
  const sent: SentNotify[] = [];
  const host: PresenceSipHost = {
    use: () => undefined,
    request: (o) =>
      new Promise((resolve) => {
        const n: SentNotify = {
          uri: o.uri, headers: o.headers ?? {}, body: o.body ?? '', contentType: o.contentType ?? '', target: o.target,
          answer: (status) => resolve(new SipResponse(status)),
        };
        sent.push(n);
        if (opts.autoAnswer) n.answer(opts.autoAnswer);
      }),
  };
  presence.attach(host);
  return { store, extensions, clock, digest, presence, sent };
}

let seq = 0;
function subscribe(o: { ruriUser: string; event: string; expires?: number; auth?: string; toTag?: string; callId?: string; fromTag?: string; accept?: string; cseq?: number }): SipRequest {
  const lines = [
    `SUBSCRIBE sip:${o.ruriUser}@${DOMAIN} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.9:5099;branch=z9hG4bKs${++seq}`,
    'Max-Forwards: 70',
    `From: <sip:1000@${DOMAIN}>;tag=${o.fromTag ?? 'ft' + seq}`,
    `To: <sip:${o.ruriUser}@${DOMAIN}>${o.toTag ? ';tag=' + o.toTag : ''}`,
    `Call-ID: ${o.callId ?? 'sub-' + seq}`,
    `CSeq: ${o.cseq ?? 1} SUBSCRIBE`,
    'Contact: <sip:1000@127.0.0.9:5099>',
    `Event: ${o.event}`,
    ...(o.accept ? [`Accept: ${o.accept}`] : []),
    ...(o.expires === undefined ? [] : [`Expires: ${o.expires}`]),
    ...(o.auth ? [`Authorization: ${o.auth}`] : []),
    'Content-Length: 0',
    '',
    '',
  ];
  return parseMessage(Buffer.from(lines.join('\r\n'))) as SipRequest;
}

const flush = (): Promise<void> => new Promise((r) => setImmediate(r));

/** SUBSCRIBE with the digest round trip; runs `after` (the initial NOTIFY) like attach() does. */
function authedSubscribe(p: PresenceServer, o: Parameters<typeof subscribe>[0]): HandleResult {
  const callId = o.callId ?? `sub-a${++seq}`;
  const fromTag = o.fromTag ?? `fa${seq}`;
  const first = p.handleSubscribe(subscribe({ ...o, callId, fromTag }), SRC);
  assert.equal(first.status, 401);
  const auth = new DigestClient({ username: '1000', password: 'pw1000secret' }).authorize({
    challenges: [first.headers['WWW-Authenticate']].flat() as string[], method: 'SUBSCRIBE', uri: `sip:${o.ruriUser}@${DOMAIN}`,
  })!;
  const out = p.handleSubscribe(subscribe({ ...o, callId, fromTag, auth, cseq: 2 }), SRC);
  out.after?.();
  return out;
}

test('dialog-info and message-summary bodies (RFC 4235 §4.1, RFC 3842 §5.2)', () => {
  const idle = formatDialogInfo({ entity: 'sip:1001@relais.test', version: 0, dialogs: [] });
  assert.match(idle, /<dialog-info xmlns="urn:ietf:params:xml:ns:dialog-info" version="0" state="full" entity="sip:1001@relais.test">\r\n<\/dialog-info>/);
  const ringing = formatDialogInfo({ entity: 'sip:1001@relais.test', version: 3, dialogs: [{ state: 'early', detail: { callId: 'c<1>', direction: 'recipient', remote: 'sip:1000@relais.test' } }] });
  assert.match(ringing, /<dialog id="c&lt;1&gt;" call-id="c&lt;1&gt;" direction="recipient">/);
  assert.match(ringing, /<state>early<\/state>/);
  assert.match(ringing, /<identity>sip:1000@relais.test<\/identity>/);
  assert.equal(formatMessageSummary('sip:1000@relais.test', { newMessages: 2, oldMessages: 5 }),
    'Messages-Waiting: yes\r\nMessage-Account: sip:1000@relais.test\r\nVoice-Message: 2/5 (0/0)\r\n');
  assert.match(formatMessageSummary('sip:1000@x', { newMessages: 0, oldMessages: 1 }), /^Messages-Waiting: no/);
});

test('SUBSCRIBE dialog: 401, then 200 with To tag and Expires, initial NOTIFY, NOTIFY on each BLF change', async () => {
  const { presence, sent } = setup({ autoAnswer: 200 });
  const out = authedSubscribe(presence, { ruriUser: '1001', event: 'dialog', expires: 600 });
  assert.equal(out.status, 200);
  assert.match(String(out.headers['To']), /;tag=\w+/);
  assert.equal(out.headers['Expires'], '600');
  assert.equal(sent.length, 1);
  const n0 = sent[0]!;
  assert.equal(n0.uri, 'sip:1000@127.0.0.9:5099');
  assert.equal(n0.headers['Event'], 'dialog');
  assert.equal(n0.headers['Subscription-State'], 'active;expires=600');
  assert.equal(n0.contentType, 'application/dialog-info+xml');
  assert.match(n0.body, /version="0"/);
  assert.doesNotMatch(n0.body, /<dialog /);
  assert.match(String(n0.headers['From']), /tag=/);
  assert.match(String(n0.headers['To']), /<sip:1000@relais.test>;tag=fa/);
  assert.deepEqual(n0.target, { ...SRC, connectionId: undefined });

  await flush();
  presence.setDialogState('1001', 'early', { callId: 'call-1', direction: 'recipient', remote: 'sip:1000@relais.test' });
  await flush();
  presence.setDialogState('1001', 'confirmed', { callId: 'call-1', direction: 'recipient' });
  await flush();
  presence.setDialogState('1001', 'confirmed', { callId: 'call-2' });
  await flush();
  presence.setDialogState('1001', 'idle', { callId: 'call-1' });
  await flush();
  assert.equal(presence.dialogState('1001'), 'confirmed', 'one call still up');
  presence.setDialogState('1001', 'idle', { callId: 'call-2' });
  await flush();
  const states = sent.slice(1).map((n) => /<state>(\w+)<\/state>/.exec(n.body)?.[1] ?? 'idle');
  assert.deepEqual(states, ['early', 'confirmed', 'confirmed', 'confirmed', 'terminated']);
  // RFC 4235: a call that ended is reported once as a terminated dialog (same id), beside those still up.
  assert.match(sent[4]!.body, /<dialog id="call-2" call-id="call-2">\r\n    <state>confirmed<\/state>[\s\S]*<dialog id="call-1" call-id="call-1" direction="recipient">\r\n    <state>terminated<\/state>/);
  assert.doesNotMatch(sent[5]!.body, /call-1/, 'reported once');
  assert.match(sent[5]!.body, /<dialog id="call-2" call-id="call-2">\r\n    <state>terminated<\/state>/);
  assert.deepEqual(sent.map((n) => /version="(\d+)"/.exec(n.body)![1]), ['0', '1', '2', '3', '4', '5']);
  const cseqs = sent.map((n) => parseInt(String(n.headers['CSeq'])));
  assert.deepEqual(cseqs, [1, 2, 3, 4, 5, 6]);
  presence.setDialogState('1001', 'idle', { callId: 'call-2' });
  presence.setDialogState('1001', 'idle');
  await flush();
  assert.equal(sent.length, 6, 'repeating idle sends nothing');
  assert.equal(presence.subscriptionCount('dialog'), 1);
});

test('one NOTIFY in flight per subscription: changes meanwhile collapse into one NOTIFY of the latest state', async () => {
  const { presence, sent } = setup();
  authedSubscribe(presence, { ruriUser: '1001', event: 'dialog', expires: 600 });
  presence.setDialogState('1001', 'early', { callId: 'a' });
  presence.setDialogState('1001', 'confirmed', { callId: 'a' });
  assert.equal(sent.length, 1);
  sent[0]!.answer(200);
  await presence.waitFor('notified');
  await new Promise((r) => setImmediate(r));
  assert.equal(sent.length, 2);
  assert.match(sent[1]!.body, /confirmed/);
});

test('subscription expiry → NOTIFY terminated;reason=timeout; unsubscribe (Expires: 0 in dialog) likewise', () => {
  const { presence, sent, clock } = setup({ autoAnswer: 200 });
  const out = authedSubscribe(presence, { ruriUser: '1001', event: 'dialog', expires: 120, callId: 'exp-1', fromTag: 'ftx' });
  clock.advance(121_000);
  assert.equal(sent.at(-1)!.headers['Subscription-State'], 'terminated;reason=timeout');
  assert.equal(presence.subscriptionCount(), 0);

  const out2 = authedSubscribe(presence, { ruriUser: '1001', event: 'dialog', expires: 600, callId: 'exp-2', fromTag: 'fty' });
  const tag = /tag=(\w+)/.exec(String(out2.headers['To']))![1]!;
  const un = presence.handleSubscribe(subscribe({ ruriUser: '1001', event: 'dialog', expires: 0, toTag: tag, callId: 'exp-2', fromTag: 'fty', cseq: 3 }), SRC);
  assert.equal(un.status, 200);
  un.after?.();
  assert.equal(sent.at(-1)!.headers['Subscription-State'], 'terminated;reason=timeout');
  assert.equal(presence.subscriptionCount(), 0);
  // Refresh of an unknown subscription → 481.
  assert.equal(presence.handleSubscribe(subscribe({ ruriUser: '1001', event: 'dialog', expires: 600, toTag: 'nope', callId: 'exp-2', fromTag: 'fty' }), SRC).status, 481);
  assert.ok(out);
});

test('refresh extends the subscription and sends the state again', () => {
  const { presence, sent, clock } = setup({ autoAnswer: 200 });
  const out = authedSubscribe(presence, { ruriUser: '1001', event: 'dialog', expires: 120, callId: 'r-1', fromTag: 'fr' });
  const tag = /tag=(\w+)/.exec(String(out.headers['To']))![1]!;
  clock.advance(100_000);
  const r = presence.handleSubscribe(subscribe({ ruriUser: '1001', event: 'dialog', expires: 120, toTag: tag, callId: 'r-1', fromTag: 'fr', cseq: 5 }), SRC);
  assert.equal(r.status, 200);
  r.after?.();
  clock.advance(100_000);
  assert.equal(presence.subscriptionCount(), 1);
  assert.equal(sent.at(-1)!.headers['Subscription-State'], 'active;expires=120');
});

test('message-summary: own mailbox only; NOTIFY on setMailbox changes', async () => {
  const { presence, sent } = setup({ autoAnswer: 200 });
  const out = authedSubscribe(presence, { ruriUser: '1000', event: 'message-summary', expires: 600 });
  assert.equal(out.status, 200);
  assert.equal(sent[0]!.contentType, 'application/simple-message-summary');
  assert.match(sent[0]!.body, /Messages-Waiting: no/);
  await flush();
  presence.setMailbox('1000', { newMessages: 1, oldMessages: 0 });
  await flush();
  presence.setMailbox('1000', { newMessages: 1, oldMessages: 0 });
  await flush();
  assert.equal(sent.length, 2, 'no NOTIFY when nothing changed');
  assert.match(sent[1]!.body, /Messages-Waiting: yes\r\nMessage-Account: sip:1000@relais.test\r\nVoice-Message: 1\/0/);
  assert.equal(authedSubscribe(presence, { ruriUser: '1001', event: 'message-summary' }).status, 403);
});

test('errors: unknown package 489, too short 423, unknown entity 404, bad Accept 406; feature codes via a provider', async () => {
  const { presence, sent } = setup({ autoAnswer: 200 });
  const bad = presence.handleSubscribe(subscribe({ ruriUser: '1001', event: 'presence' }), SRC);
  assert.equal(bad.status, 489);
  assert.equal(bad.headers['Allow-Events'], 'dialog, message-summary');
  const short = presence.handleSubscribe(subscribe({ ruriUser: '1001', event: 'dialog', expires: 5 }), SRC);
  assert.equal(short.status, 423);
  assert.equal(short.headers['Min-Expires'], '60');
  assert.equal(presence.handleSubscribe(subscribe({ ruriUser: '1001', event: 'dialog', accept: 'application/pidf+xml' }), SRC).status, 406);
  assert.equal(authedSubscribe(presence, { ruriUser: '9999', event: 'dialog' }).status, 404);
  assert.equal(authedSubscribe(presence, { ruriUser: '*4199900', event: 'dialog' }).status, 404);
  presence.addStateProvider(/^\*4[12]\d+$/, () => 'confirmed');
  assert.equal(authedSubscribe(presence, { ruriUser: '%2A4199900', event: 'dialog' }).status, 200);
  assert.match(sent.at(-1)!.body, /entity="sip:\*4199900@relais.test"/);
  assert.match(sent.at(-1)!.body, /<state>confirmed<\/state>/);
  await flush();
  presence.setDialogState('*4199900', 'idle');
  await flush();
  // The lamp goes off on its dialog reported terminated (RFC 4235), not on an empty document.
  assert.match(sent.at(-1)!.body, /<dialog id="sip4199900relaistest-1">\r\n    <state>terminated<\/state>/);
  assert.doesNotMatch(sent.at(-1)!.body, /<state>(early|confirmed)<\/state>/);
});

test('a NOTIFY answered 481 ends the subscription without another NOTIFY', async () => {
  const { presence, sent } = setup({ autoAnswer: 481 });
  authedSubscribe(presence, { ruriUser: '1001', event: 'dialog' });
  const [t] = await presence.waitFor('terminated');
  assert.equal(t.reason, 'rejected');
  assert.equal(presence.subscriptionCount(), 0);
  presence.setDialogState('1001', 'early');
  assert.equal(sent.length, 1);
});
