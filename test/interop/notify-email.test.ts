// E-mail notifications against a local SMTP sink (smtp-server): settings through the API (400 naming the field, the
// password never shown), a test send, then a voicemail left by a real baresip call produces an e-mail at the sink —
// to the site's recipient and the mailbox owner, with the message attached; a settings change applies at once.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { SMTPServer } from 'smtp-server';
import { startRelais, tempDir, type RelaisProcess } from '../helpers/relais-process.js';
import { BaresipPhone } from '../helpers/baresip.js';
import { makeSilenceWav } from '../helpers/audio.js';
import { freePort } from '../helpers/ports.js';
import { ADMIN, assertError, basic, call, jsonInit } from './api-support.js';

interface Received {
  from: string;
  to: string[];
  auth: string | null;
  raw: string;
}

let relais: RelaisProcess;
let sink: SMTPServer;
let smtpPort: number;
let dir: string;
const mails: Received[] = [];
const waiters: { pred: (m: Received) => boolean; resolve: (m: Received) => void }[] = [];
const phones: BaresipPhone[] = [];

function nextMail(pred: (m: Received) => boolean, what: string, ms = 40_000): Promise<Received> {
  const seen = mails.find(pred);
  if (seen) return Promise.resolve(seen);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no mail: ${what}; got ${mails.length}: ${mails.map((m) => /Subject: (.*)/.exec(m.raw)?.[1]).join(' | ')}\n${relais.output().slice(-2000)}`)), ms);
    waiters.push({ pred, resolve: (m) => (clearTimeout(timer), resolve(m)) });
  });
}

before(async () => {
  smtpPort = await freePort();
  sink = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    onAuth(auth, _session, cb) {
      if (auth.username === 'box' && auth.password === 'smtp-secret') cb(null, { user: 'box' });
      else cb(new Error('invalid login'));
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const m: Received = {
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          auth: typeof session.user === 'string' ? session.user : null,
          raw: Buffer.concat(chunks).toString('utf8'),
        };
        mails.push(m);
        for (const w of [...waiters]) if (w.pred(m)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(m);
        }
        cb();
      });
    },
  });
  await new Promise<void>((resolve) => sink.listen(smtpPort, '127.0.0.1', resolve));
  dir = tempDir('notify-email-');
  const site = path.join(dir, 'site.yaml');
  fs.writeFileSync(
    site,
    [
      'version: 1',
      'settings:',
      '  name: Cabinet Martin',
      'users:',
      '  - { username: bob, name: Bob, email: bob@office.example }',
      'extensions:',
      '  - { number: "401", secret: secret-401, digest_algorithm: MD5, voicemail: false }',
      '  - { number: "402", user: bob, secret: secret-402, digest_algorithm: MD5, voicemail: true, voicemail_pin: "1234" }',
      '',
    ].join('\n'),
  );
  relais = await startRelais({
    dataDir: path.join(dir, 'data'),
    args: ['--site', site, '--domain', '127.0.0.1'],
    env: { RELAIS_RING_TIMEOUT_MS: '2000', RELAIS_VM_SILENCE_MS: '1500', RELAIS_VM_MAX_MS: '20000' },
  });
});

after(async () => {
  await Promise.all(phones.map((p) => p.stop()));
  await relais?.stop();
  await new Promise<void>((resolve) => (sink ? sink.close(() => resolve()) : resolve()));
});

const settings = (over: Record<string, unknown> = {}) => ({
  enabled: true,
  host: '127.0.0.1',
  port: smtpPort,
  security: 'none',
  user: 'box',
  password: 'smtp-secret',
  from: 'relais@office.example',
  to: ['reception@office.example'],
  mailboxOwners: true,
  kinds: ['voicemail', 'alert'],
  ...over,
});

test('e-mail settings: administrators only, bad input named, the password never shown; a test e-mail reaches the sink', async () => {
  const api = `${relais.url}/api/notifications/email`;
  const auth = basic(ADMIN);
  assert.equal((await call(api, jsonInit('PUT', settings()))).status, 401);
  assert.equal((await call(api)).status, 401);
  assertError(await call(api, jsonInit('PUT', settings({ port: 70000 }), auth)), 400, 'api.field_invalid', 'port');
  assertError(await call(api, jsonInit('PUT', settings({ to: ['not-an-address'] }), auth)), 400, 'api.field_invalid', 'to.0');
  assertError(await call(api, jsonInit('PUT', settings({ security: 'ssl3' }), auth)), 400, 'api.field_invalid', 'security');
  assertError(await call(api, jsonInit('PUT', settings({ host: '' }), auth)), 400, 'api.field_missing', 'host');
  assertError(await call(api, jsonInit('PUT', { ...settings(), extra: true }, auth)), 400, 'api.field_unknown', 'extra');
  const put = await call(api, jsonInit('PUT', settings(), auth));
  assert.equal(put.status, 200, JSON.stringify(put.json));
  const got = await call(api, { headers: { authorization: auth } });
  assert.equal((got.json.email as { hasPassword: boolean }).hasPassword, true);
  assert.ok(!JSON.stringify(got.json).includes('smtp-secret'), 'the password is not shown');
  // Without the password field the stored one is kept.
  const { password: _, ...noPassword } = settings();
  assert.equal((await call(api, jsonInit('PUT', noPassword, auth))).status, 200);
  const sent = await call(`${api}/test`, { method: 'POST', headers: { authorization: auth } });
  assert.equal(sent.status, 200, JSON.stringify(sent.json));
  const m = await nextMail((x) => /Subject: Relais: test e-mail/.test(x.raw), 'the test e-mail');
  assert.equal(m.auth, 'box', 'logged in to the SMTP server');
  assert.deepEqual(m.to, ['reception@office.example']);
  assert.equal(m.from, 'relais@office.example');
});

test('a voicemail left by a real call produces an e-mail with the message, to the site and the mailbox owner', async () => {
  const tone = path.join(dir, 'speaker.wav');
  const r = spawnSync('sox', ['-n', '-r', '8000', '-c', '1', '-b', '16', tone, 'synth', '6', 'sine', '1000', 'vol', '0.5', 'pad', '0', '40']);
  assert.equal(r.status, 0, r.stderr?.toString());
  const reg = (n: string) => ({ user: n, password: `secret-${n}`, registrar: `127.0.0.1:${relais.sipPort}`, regint: 600 });
  const caller = await BaresipPhone.start({ name: 'mail-401', account: reg('401'), audioFile: tone });
  phones.push(caller);
  const bob = await BaresipPhone.start({ name: 'mail-402', account: reg('402'), audioFile: makeSilenceWav(path.join(dir, 'silence.wav'), 30) });
  phones.push(bob);
  await Promise.all([caller.registered(), bob.registered()]);
  await caller.dial('402');
  await bob.waitEvent('CALL_INCOMING');
  await caller.established(15_000);
  await caller.closed(40_000);
  const m = await nextMail((x) => /Subject: \[Cabinet Martin\] New voicemail from 401 for 402/.test(x.raw), 'the voicemail e-mail');
  assert.deepEqual([...m.to].sort(), ['bob@office.example', 'reception@office.example']);
  assert.match(m.raw, /filename="?voicemail-\d+\.wav/);
  assert.match(m.raw, /Content-Type: audio\/(x-)?wav/i);

  // Applied live: voicemail notifications off, the next message sends nothing (an alert kind only).
  const auth = basic(ADMIN);
  assert.equal((await call(`${relais.url}/api/notifications/email`, jsonInit('PUT', settings({ kinds: ['alert'] }), auth))).status, 200);
  const before = mails.length;
  await caller.dial('402');
  await bob.waitEvent('CALL_INCOMING');
  await caller.established(15_000);
  await caller.closed(40_000);
  // The second message is stored (seen through the API) and no e-mail went out for it.
  for (let i = 0; i < 100; i++) {
    const vms = (await call(`${relais.url}/api/voicemails`, { headers: { authorization: auth } })).json.voicemails as unknown[];
    if (vms.length >= 2) break;
    await new Promise((res) => setTimeout(res, 100));
  }
  // A test e-mail after it: by the time it arrives, a voicemail e-mail (wrongly sent) would have too.
  assert.equal((await call(`${relais.url}/api/notifications/email/test`, { method: 'POST', headers: { authorization: auth } })).status, 200);
  await nextMail((x) => mails.indexOf(x) >= before && /Subject: Relais: test e-mail/.test(x.raw), 'the second test e-mail');
  assert.deepEqual(mails.slice(before).filter((x) => /New voicemail/.test(x.raw)), [], 'no voicemail e-mail once voicemail notifications are off');
});
