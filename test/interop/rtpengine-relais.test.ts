// `relais serve --media=rtpengine`: the composition root selects the rtpengine backend; a dead rtpengine is named at start.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, test } from 'node:test';
import { CLI, startRelais, tempDir, ADMIN_AUTH } from '../helpers/relais-process.js';
import { freePort } from '../helpers/ports.js';
import { startRtpengine, type RtpengineDaemon } from './rtpengine-daemon.js';

let daemon: RtpengineDaemon;
before(async () => {
  daemon = await startRtpengine();
});
after(async () => {
  await daemon?.stop();
});

test('relais serve --media rtpengine reports the rtpengine backend healthy', async () => {
  const r = await startRelais({
    args: ['--media', 'rtpengine', '--rtpengine', `${daemon.ng.host}:${daemon.ng.port}`],
    env: { RELAIS_RTPENGINE_DTMF: `${daemon.dtmf.host}:${daemon.dtmf.port}`, RELAIS_RTPENGINE_RECORDING_DIR: daemon.recordingDir },
  });
  try {
    const body = (await (await fetch(`${r.url}/healthz`, { headers: ADMIN_AUTH })).json()) as { modules: Record<string, { status: string; detail?: { backend?: string } }> };
    const media = Object.values(body.modules).find((m) => m.detail?.backend === 'rtpengine');
    assert.ok(media, `a media module with the rtpengine backend in ${JSON.stringify(body.modules)}`);
    assert.equal(media.status, 'ok');
  } finally {
    assert.equal(await r.stop(), 0, r.output());
  }
});

test('relais serve --media rtpengine with no rtpengine listening exits and says where it looked', async () => {
  const port = await freePort();
  const res = spawnSync(
    process.execPath,
    [CLI, 'serve', '--bind', '127.0.0.1', '--sip-port', String(await freePort()), '--http-port', String(await freePort()), '--data-dir', tempDir(), '--media', 'rtpengine', '--rtpengine', `127.0.0.1:${port}`],
    { encoding: 'utf8', timeout: 30_000, env: { ...process.env, RELAIS_ADMIN_PASSWORD: 'x-test-pw', RELAIS_RTPENGINE_DTMF: 'off' } },
  );
  assert.notEqual(res.status, 0);
  assert.match(res.stdout + res.stderr, new RegExp(`rtpengine at 127\\.0\\.0\\.1:${port} does not answer`));
});

test('health turns degraded when rtpengine stops answering', async () => {
  const own = await startRtpengine();
  const { RtpengineEngine } = await import('../../services/media/rtpengine/index.js');
  const e = new RtpengineEngine({ ng: own.ng, dtmfListen: false, healthPingMs: 100, ngTimeoutMs: 300 });
  await e.start();
  try {
    assert.equal(e.health().status, 'ok');
    await own.stop();
    const deadline = Date.now() + 5000;
    while (e.health().status !== 'degraded' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.equal(e.health().status, 'degraded');
    assert.match(String(e.health().detail?.lastError), /did not answer "ping"/);
  } finally {
    await e.stop();
  }
});
