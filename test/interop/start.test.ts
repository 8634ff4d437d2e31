import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startRelais, ADMIN_AUTH } from '../helpers/relais-process.js';

test('relais serve answers /healthz on free ports and stops cleanly on SIGTERM', async () => {
  const r = await startRelais();
  try {
    const res = await fetch(`${r.url}/healthz`, { headers: ADMIN_AUTH });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { status: string; modules: Record<string, { status: string; detail?: unknown }> };
    assert.equal(body.status, 'ok');
    assert.equal(body.modules.storage?.status, 'ok');
    assert.equal(body.modules.api?.status, 'ok');
    // The build made the relay's native fast path, and the product runs with it (docs/media.md).
    assert.equal((body.modules.media?.detail as { fastPath?: string } | undefined)?.fastPath, 'native', JSON.stringify(body.modules.media));
    // No LED class on a test machine: the simulated board drives the LEDs.
    assert.deepEqual(body.modules.board, { status: 'ok', detail: { board: 'sim', driver: 'sim', button: 'sim' } });
    // The one health check: SIP, store, media, disk, temperature, throttling.
    const checks = (body as unknown as { checks: Record<string, { status: string }> }).checks;
    assert.deepEqual(Object.keys(checks), ['sip', 'store', 'media', 'disk', 'temperature', 'throttling']);
    assert.equal(checks.sip?.status, 'ok');
    assert.equal(checks.store?.status, 'ok');
    // Without an administrator's login: the status alone (no bans, addresses, trunks or counts).
    const anonymous = (await (await fetch(`${r.url}/healthz`)).json()) as Record<string, unknown>;
    assert.deepEqual(Object.keys(anonymous).sort(), ['checkedAt', 'status']);
    const wrong = { authorization: `Basic ${Buffer.from('admin:not-the-password').toString('base64')}` };
    assert.deepEqual(Object.keys((await (await fetch(`${r.url}/healthz`, { headers: wrong })).json()) as object).sort(), ['checkedAt', 'status']);
  } finally {
    const code = await r.stop();
    assert.equal(code, 0, r.output());
  }
});

test('a wrong flag exits with code 2 and names the flag', async () => {
  const { spawnSync } = await import('node:child_process');
  const { CLI } = await import('../helpers/relais-process.js');
  const res = spawnSync(process.execPath, [CLI, 'serve', '--sip-port', 'x'], { encoding: 'utf8' });
  assert.equal(res.status, 2);
  assert.match(res.stderr, /--sip-port: "x" is not a port number/);
});
