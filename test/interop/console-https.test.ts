// The console over HTTPS with the box certificate, checked with curl: the session cookie is Secure when the session
// was made over HTTPS (and not over HTTP), and the https_redirect setting (off by default) sends plain HTTP to the
// HTTPS port with 308, leaving phones' provisioning and /healthz on HTTP; it applies without a restart.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { ADMIN_AUTH, startRelais, tempDir, type RelaisProcess } from '../helpers/relais-process.js';
import { seedBoxCertificate } from './tls-support.js';

let relais: RelaisProcess;
let httpsPort: number;

before(async () => {
  const dir = tempDir('console-https-');
  seedBoxCertificate(path.join(dir, 'data'));
  relais = await startRelais({ dataDir: path.join(dir, 'data'), args: ['--https-port', '0'] });
  const health = (await (await fetch(`${relais.url}/healthz`, { headers: ADMIN_AUTH })).json()) as { modules: Record<string, { detail?: Record<string, unknown> }> };
  httpsPort = Number(health.modules['api']?.detail?.['httpsPort']);
  assert.ok(httpsPort > 0, JSON.stringify(health.modules['api']));
});

after(async () => {
  await relais?.stop();
});

/** curl -i: status line and headers (lower-cased names) and body. */
function curl(args: string[]): { status: number; headers: string; body: string } {
  let out = execFileSync('curl', ['-s', '-i', '-k', '--max-time', '10', ...args], { encoding: 'utf8' });
  // With -L every hop's headers come first: keep the last response.
  for (;;) {
    const split = out.indexOf('\r\n\r\n');
    const head = out.slice(0, split);
    const body = out.slice(split + 4);
    if (!body.startsWith('HTTP/')) return { status: Number(/^HTTP\/[\d.]+ (\d{3})/.exec(head)?.[1]), headers: head.toLowerCase(), body };
    out = body;
  }
}

const login = (base: string): ReturnType<typeof curl> =>
  curl(['-X', 'POST', '-H', 'content-type: application/json', '--data', JSON.stringify({ username: 'admin', password: 'test-admin-pw' }), `${base}/api/session`]);

test('a session made over HTTPS gets a Secure cookie, one made over HTTP does not', () => {
  const secure = login(`https://127.0.0.1:${httpsPort}`);
  assert.equal(secure.status, 201, secure.body);
  assert.match(secure.headers, /set-cookie: [^\r\n]*; secure/);
  assert.match(secure.headers, /set-cookie: [^\r\n]*httponly/);
  const plain = login(relais.url);
  assert.equal(plain.status, 201, plain.body);
  assert.match(plain.headers, /set-cookie: /);
  assert.doesNotMatch(plain.headers, /set-cookie: [^\r\n]*; secure/);
});

test('https_redirect: off by default; on, HTTP gets 308 to the HTTPS port (method kept), provisioning and /healthz stay on HTTP', () => {
  const auth = `admin:test-admin-pw`;
  assert.equal(curl(['-u', auth, `${relais.url}/api/settings`]).status, 200, 'no redirect by default');
  const on = curl(['-u', auth, '-X', 'PATCH', '-H', 'content-type: application/json', '--data', '{"httpsRedirect":true}', `${relais.url}/api/settings`]);
  assert.equal(on.status, 200, on.body);
  assert.equal((JSON.parse(on.body) as { settings: { httpsRedirect: boolean } }).settings.httpsRedirect, true);

  const r = curl(['-u', auth, `${relais.url}/api/settings?x=1`]);
  assert.equal(r.status, 308);
  assert.match(r.headers, new RegExp(`location: https://127\\.0\\.0\\.1:${httpsPort}/api/settings\\?x=1`));
  // Following it (curl -L keeps the method on 308; --location-trusted: the credentials go to the new port) reaches the same API over HTTPS.
  const followed = curl(['-L', '--location-trusted', '-u', auth, `${relais.url}/api/settings`]);
  assert.equal(followed.status, 200);
  assert.equal((JSON.parse(followed.body) as { settings: { httpsRedirect: boolean } }).settings.httpsRedirect, true);
  const post = curl(['-u', auth, '-X', 'PATCH', '-H', 'content-type: application/json', '--data', '{"name":"x"}', `${relais.url}/api/settings`]);
  assert.equal(post.status, 308, 'a PATCH is redirected too (308 keeps the method)');

  assert.notEqual(curl([`${relais.url}/healthz`]).status, 308, '/healthz on HTTP');
  assert.notEqual(curl([`${relais.url}/provisioning/001565000001.cfg`]).status, 308, 'provisioning on HTTP');
  assert.equal(curl([`https://127.0.0.1:${httpsPort}/api/settings`, '-u', auth]).status, 200, 'HTTPS itself is served');

  const off = curl(['-u', auth, '-X', 'PATCH', '-H', 'content-type: application/json', '--data', '{"httpsRedirect":false}', `https://127.0.0.1:${httpsPort}/api/settings`]);
  assert.equal(off.status, 200, off.body);
  assert.equal(curl(['-u', auth, `${relais.url}/api/settings`]).status, 200, 'back to plain HTTP at once');
  const bad = curl(['-u', auth, '-X', 'PATCH', '-H', 'content-type: application/json', '--data', '{"httpsRedirect":"yes"}', `https://127.0.0.1:${httpsPort}/api/settings`]);
  assert.equal(bad.status, 400);
  assert.match(bad.body, /httpsRedirect/);
});
