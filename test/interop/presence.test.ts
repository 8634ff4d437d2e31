// Presence with a real peer: SIPp subscribes to BLF (dialog) and MWI (message-summary), gets the initial NOTIFY,
// refreshes, unsubscribes and gets the terminated NOTIFY.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startRelais, tempDir, type RelaisProcess } from '../helpers/relais-process.js';
import { runSipp, describeSipp } from '../helpers/sipp.js';
import { ext, writeSite } from './call-site.js';

const DOMAIN = 'relais.test';
let relais: RelaisProcess;

before(async () => {
  const dir = tempDir('presence-');
  const site = writeSite(dir, [ext('401', 'Ines', { voicemail: true }), ext('402', 'Jon')]);
  relais = await startRelais({ dataDir: path.join(dir, 'data'), args: ['--site', site, '--domain', DOMAIN] });
});

after(async () => {
  await relais?.stop();
});

function subscribe(event: string, target: string, accept: string) {
  return runSipp({
    scenario: 'subscribe-notify.xml',
    target: `127.0.0.1:${relais.sipPort}`,
    keys: { user: '401', target, domain: DOMAIN, event, accept },
    auth: { username: '401', password: 'secret-401' },
    timeoutS: 15,
  });
}

test('SUBSCRIBE dialog (BLF of 402): 401, 200, NOTIFY with an idle dialog-info, refresh, unsubscribe → terminated', async () => {
  const r = await subscribe('dialog', '402', 'application/dialog-info+xml');
  assert.equal(r.code, 0, `${describeSipp(r)}\n${relais.output().slice(-3000)}`);
  assert.match(r.messages, /Event: dialog/);
  assert.match(r.messages, /<dialog-info xmlns="urn:ietf:params:xml:ns:dialog-info" version="0" state="full" entity="sip:402@relais.test">/);
  assert.match(r.messages, /Subscription-State: terminated;reason=timeout/);
});

test('SUBSCRIBE message-summary (MWI of 401): NOTIFY with Messages-Waiting and the account', async () => {
  const r = await subscribe('message-summary', '401', 'application/simple-message-summary');
  assert.equal(r.code, 0, `${describeSipp(r)}\n${relais.output().slice(-3000)}`);
  assert.match(r.messages, /Content-Type: application\/simple-message-summary/);
  assert.match(r.messages, /Messages-Waiting: no\r?\nMessage-Account: sip:401@relais.test/);
});
