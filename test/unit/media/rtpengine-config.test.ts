// createRtpengineEngine: settings from Config (flags and the environment), with errors naming the variable.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRtpengineEngine } from '../../../services/media/rtpengine/index.js';
import { ConfigError, loadConfig } from '../../../services/shared/index.js';

describe('createRtpengineEngine', () => {
  const argv = ['--media', 'rtpengine', '--rtpengine', '10.0.0.5:2223'];
  const config = loadConfig(argv, {});

  it('defaults the DTMF log listener to the ng port + 1 on loopback, recording off', () => {
    const e = createRtpengineEngine(config);
    assert.deepEqual(e.opts.ng, { host: '10.0.0.5', port: 2223 });
    assert.deepEqual(e.opts.dtmfListen, { host: '127.0.0.1', port: 2224 });
    assert.equal(e.opts.recordingDir, undefined);
    assert.equal(e.health().status, 'down');
    assert.equal(e.endpointCount(), 0);
  });

  it('reads RELAIS_RTPENGINE_DTMF and RELAIS_RTPENGINE_RECORDING_DIR', () => {
    const e = createRtpengineEngine(loadConfig(argv, { RELAIS_RTPENGINE_DTMF: '0.0.0.0:9999', RELAIS_RTPENGINE_RECORDING_DIR: '/data/rec' }));
    assert.deepEqual(e.opts.dtmfListen, { host: '0.0.0.0', port: 9999 });
    assert.equal(e.opts.recordingDir, '/data/rec');
    assert.equal(createRtpengineEngine(loadConfig(argv, { RELAIS_RTPENGINE_DTMF: 'off' })).opts.dtmfListen, false);
    assert.throws(
      () => createRtpengineEngine(loadConfig(argv, { RELAIS_RTPENGINE_DTMF: '9999' })),
      (e: unknown) => e instanceof ConfigError && /RELAIS_RTPENGINE_DTMF: "9999" must be HOST:PORT or off/.test(e.message),
    );
  });

  it('an endpoint cannot be opened before start', async () => {
    const e = createRtpengineEngine(config);
    await assert.rejects(e.openEndpoint({ callId: 'x' }), /not started/);
  });
});
