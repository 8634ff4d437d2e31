// INVITEs ringing when the process died, answered by the next run from the journal (docs/security.md "After a
// crash"): the caller's INVITE gets 500 with Retry-After; a callee's gets CANCEL, and a 200 that crosses that CANCEL
// is ended with BYE (after its ACK, which the callee's transaction absorbs). The "crash" is a stack stopped without
// answering, the restart a new stack on the same port over the same database.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '../../../services/shared/index.js';
import { Store } from '../../../services/storage/index.js';
import { DialogJournal, SipError, SipStack, type SipRequest } from '../../../services/sip/index.js';

const SDP = 'v=0\r\no=a 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\n';

async function stack(journal?: DialogJournal, port = 0): Promise<SipStack> {
  const s = new SipStack({ bind: '127.0.0.1', port, domain: 'test.local', logger: silentLogger, ...(journal ? { journal } : {}) });
  await s.start();
  return s;
}

function once<T>(fn: (resolve: (v: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve) => fn(resolve));
}

test('the caller of an INVITE ringing at the crash gets 500 with Retry-After from the restarted stack', async () => {
  const store = Store.open(':memory:');
  const journal = new DialogJournal(store.db);
  const caller = await stack();
  let callee = await stack(journal);
  try {
    const ringing = once<void>((resolve) =>
      callee.use('INVITE', (_req, res) => {
        res.send(180);
        resolve();
      }),
    );
    const call = caller.createUac(`sip:211@127.0.0.1:${callee.port()}`, { localSdp: SDP });
    call.catch(() => undefined);
    await ringing;
    assert.deepEqual(journal.listInvites().map((i) => i.role), ['uas']);
    const port = callee.port();
    await callee.stop();
    callee = await stack(journal, port);
    const err = await call.then(
      () => assert.fail('the call must fail'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof SipError && err.status === 500, String(err));
    assert.equal(err.res?.get('retry-after'), '5');
    assert.match(err.res?.get('reason') ?? '', /restarted/);
    assert.deepEqual(journal.listInvites(), [], 'the journal is cleared at start');
  } finally {
    await caller.stop();
    await callee.stop();
    store.close();
  }
});

test('a callee rung at the crash gets CANCEL; its 200 crossing the CANCEL is ended with BYE', async () => {
  const store = Store.open(':memory:');
  const journal = new DialogJournal(store.db);
  let pbx = await stack(journal);
  const callee = await stack();
  try {
    // The callee rings; when the CANCEL comes it answers 200 instead (the race of RFC 3261 §9.1).
    const ringing = once<void>((resolve) =>
      callee.use('INVITE', (req, res) => {
        res.send(180);
        req.on('cancel', () => res.send(200, undefined, { body: SDP }));
        resolve();
      }),
    );
    const bye = once<SipRequest>((resolve) =>
      callee.use('BYE', (req, res) => {
        res.send(200);
        resolve(req.msg);
      }),
    );
    let rung: () => void = () => undefined;
    const provisional = new Promise<void>((resolve) => (rung = resolve));
    const call = pbx.createUac(`sip:211@127.0.0.1:${callee.port()}`, { localSdp: SDP, onProvisional: () => rung() });
    call.catch(() => undefined);
    await ringing;
    await provisional;
    const left = journal.listInvites();
    assert.deepEqual(left.map((i) => i.role), ['uac']);
    const port = pbx.port();
    await pbx.stop();
    pbx = await stack(journal, port);
    // The BYE of the dialog the 200 made (sent after its ACK: the ACK is the callee's transaction's business).
    const b = await bye;
    assert.equal(b.callId, left[0]!.callId);
    assert.ok(b.to().tag !== undefined && b.from().tag !== undefined);
  } finally {
    await pbx.stop();
    await callee.stop();
    store.close();
  }
});
