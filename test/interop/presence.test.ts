// Presence with a real peer: SIPp subscribes to BLF (dialog) and MWI (message-summary), gets the initial NOTIFY,
// refreshes, unsubscribes and gets the terminated NOTIFY.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startRelais, tempDir, type RelaisProcess, ADMIN_AUTH } from '../helpers/relais-process.js';
import { runSipp, startSipp, describeSipp } from '../helpers/sipp.js';
import { freePort } from '../helpers/ports.js';
import { ext, writeSite } from './call-site.js';

const DOMAIN = 'relais.test';
let relais: RelaisProcess;

before(async () => {
  const dir = tempDir('presence-');
  const site = writeSite(dir, [ext('401', 'Ines', { voicemail: true }), ext('402', 'Jon'), ext('403', 'Kim')]);
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

async function subscriptions(): Promise<number> {
  const h = (await (await fetch(`${relais.url}/healthz`, { headers: ADMIN_AUTH })).json()) as { modules: Record<string, { detail?: { subscriptions?: number } }> };
  return h.modules['presence']?.detail?.subscriptions ?? -1;
}

test('BLF follows a real call: the watcher of 402 sees it confirmed during a call from 403, then idle', async () => {
  const watcher = await startSipp({
    scenario: 'subscribe-blf-call.xml',
    target: `127.0.0.1:${relais.sipPort}`,
    keys: { user: '401', target: '402', domain: DOMAIN },
    auth: { username: '401', password: 'secret-401' },
    timeoutS: 25,
  });
  const deadline = Date.now() + 10_000;
  while ((await subscriptions()) < 1) {
    if (Date.now() > deadline) {
      watcher.kill();
      assert.fail(`the BLF subscription did not become active: ${describeSipp(await watcher.done)}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  // 402 registers from a SIPp UAS, 403 calls it; the call lasts 500 ms.
  const port = await freePort();
  const reg = await runSipp({
    scenario: 'call-register.xml', target: `127.0.0.1:${relais.sipPort}`, localPort: port,
    keys: { user: '402', domain: DOMAIN, expires: '300' }, auth: { username: '402', password: 'secret-402' }, timeoutS: 10,
  });
  assert.equal(reg.code, 0, describeSipp(reg));
  const callee = await startSipp({ scenario: 'call-uas.xml', localPort: port, mediaPort: await freePort(), keys: { ring_ms: '200', hold_ms: '500' }, timeoutS: 20 });
  const caller = await runSipp({
    scenario: 'call-uac.xml', target: `127.0.0.1:${relais.sipPort}`, service: '402', mediaPort: await freePort(),
    keys: { domain: DOMAIN, caller: '403', caller_name: 'Kim' }, auth: { username: '403', password: 'secret-403' },
    timeoutS: 20, extraArgs: ['-d', '500'],
  });
  assert.equal(caller.code, 0, `caller: ${describeSipp(caller)}`);
  assert.equal((await callee.done).code, 0);
  const w = await watcher.done;
  assert.equal(w.code, 0, `watcher: ${describeSipp(w)}\n${relais.output().slice(-3000)}`);
  assert.match(w.messages, /<state>confirmed<\/state>/);
  assert.match(w.messages, /direction="recipient"/);
});
