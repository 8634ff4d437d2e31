import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig, ConfigError } from '../../../services/shared/index.js';

test('defaults match the start contract', () => {
  const c = loadConfig([], {}, '/opt/relais');
  assert.equal(c.sipPort, 5060);
  assert.equal(c.httpPort, 8080);
  assert.equal(c.rtpPortMin, 10000);
  assert.equal(c.rtpPortMax, 20000);
  assert.equal(c.dataDir, '/opt/relais/var');
  assert.equal(c.bind, '0.0.0.0');
  assert.equal(c.media, 'builtin');
});

test('flags override environment', () => {
  const c = loadConfig(['--sip-port', '5070', '--http-port=8081', '--rtp-ports', '30000-30999', '--data-dir', 'd'], {
    RELAIS_SIP_PORT: '5999',
    RELAIS_BIND: '127.0.0.1',
    RELAIS_LOG_LEVEL: 'debug',
  }, '/x');
  assert.equal(c.sipPort, 5070);
  assert.equal(c.httpPort, 8081);
  assert.deepEqual([c.rtpPortMin, c.rtpPortMax], [30000, 30999]);
  assert.equal(c.bind, '127.0.0.1');
  assert.equal(c.logLevel, 'debug');
  assert.equal(c.dataDir, '/x/d');
});

const bad: [string[], Record<string, string>, RegExp][] = [
  [['--sip-port', 'abc'], {}, /--sip-port: "abc" is not a port number/],
  [['--sip-port', '70000'], {}, /out of range/],
  [[], { RELAIS_HTTP_PORT: '0' }, /RELAIS_HTTP_PORT: 0 is out of range/],
  [['--rtp-ports', '2000'], {}, /must be a range MIN-MAX/],
  [['--rtp-ports', '3000-2000'], {}, /minimum 3000 must be below maximum 2000/],
  [['--rtp-ports', '5000-6000'], {}, /SIP port 5060 lies inside the RTP range/],
  [['--bind', '300.1.1.1'], {}, /not an IPv4 address/],
  [['--log-level', 'loud'], {}, /unknown level "loud"/],
  [['--media', 'mediasoup'], {}, /unknown media engine "mediasoup"/],
  [['--rtpengine', 'localhost'], {}, /must be HOST:PORT/],
  [['--colour', 'red'], {}, /unknown option "--colour"/],
  [['--sip-port'], {}, /--sip-port needs a value/],
  [['--sip-port', '5060', '--http-port', '5060'], {}, /HTTP port and SIP port are both 5060/],
];

for (const [argv, env, re] of bad) {
  test(`rejects ${JSON.stringify(argv)} ${JSON.stringify(env)}`, () => {
    assert.throws(() => loadConfig(argv, env), (err: unknown) => err instanceof ConfigError && re.test(err.message));
  });
}
