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

test('call settings: defaults, environment, flags over environment', () => {
  assert.deepEqual(loadConfig([], {}).calls, { ringTimeoutMs: 20_000, rtpTimeoutMs: undefined, record: 'numbers', voicemailSilenceMs: 5000, voicemailMaxMs: 120_000 });
  assert.equal(loadConfig([], { RELAIS_RTP_TIMEOUT_MS: '2500', RELAIS_RECORD_CALLS: 'all' }).calls.rtpTimeoutMs, 2500);
  const c = loadConfig(
    ['--ring-timeout', '3000', '--rtp-timeout=4000', '--record-calls', 'all', '--vm-silence', '800', '--vm-max', '9000'],
    { RELAIS_RING_TIMEOUT_MS: '1000', RELAIS_RECORD_CALLS: 'numbers', RELAIS_VM_MAX_MS: '2000' },
  );
  assert.deepEqual(c.calls, { ringTimeoutMs: 3000, rtpTimeoutMs: 4000, record: 'all', voicemailSilenceMs: 800, voicemailMaxMs: 9000 });
  assert.deepEqual(loadConfig([], { RELAIS_VM_SILENCE_MS: '700', RELAIS_VM_MAX_MS: '1000' }).calls, {
    ringTimeoutMs: 20_000,
    rtpTimeoutMs: undefined,
    record: 'numbers',
    voicemailSilenceMs: 700,
    voicemailMaxMs: 1000,
  });
});

test('rtpengine media settings: DTMF listener follows the ng port, flags and environment', () => {
  assert.deepEqual(loadConfig(['--rtpengine', '10.0.0.5:2223'], {}).rtpengineMedia, {
    dtmfListen: { host: '127.0.0.1', port: 2224 },
    recordingDir: undefined,
    injectDtmf: false,
  });
  assert.deepEqual(
    loadConfig(['--rtpengine-dtmf', '0.0.0.0:9999', '--rtpengine-recording-dir', 'rec', '--rtpengine-inject-dtmf', 'on'], {}, '/srv').rtpengineMedia,
    { dtmfListen: { host: '0.0.0.0', port: 9999 }, recordingDir: '/srv/rec', injectDtmf: true },
  );
  const env = { RELAIS_RTPENGINE_DTMF: 'off', RELAIS_RTPENGINE_RECORDING_DIR: '/data/rec', RELAIS_RTPENGINE_INJECT_DTMF: '1' };
  assert.deepEqual(loadConfig([], env).rtpengineMedia, { dtmfListen: false, recordingDir: '/data/rec', injectDtmf: true });
  assert.equal(loadConfig(['--rtpengine-inject-dtmf=0'], env).rtpengineMedia.injectDtmf, false);
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
  [[], { RELAIS_RING_TIMEOUT_MS: 'soon' }, /RELAIS_RING_TIMEOUT_MS: "soon" must be a number of milliseconds, at least 500/],
  [['--ring-timeout', '499'], {}, /--ring-timeout: "499" must be a number of milliseconds, at least 500/],
  [['--rtp-timeout', '-1'], {}, /--rtp-timeout: "-1" must be a number of milliseconds/],
  [[], { RELAIS_RECORD_CALLS: 'some' }, /RELAIS_RECORD_CALLS: "some" must be "all" or "numbers"/],
  [['--vm-silence', '1.5'], {}, /--vm-silence: "1.5" must be a number of milliseconds/],
  [['--vm-max', '999'], {}, /--vm-max: "999" must be a number of milliseconds, at least 1000/],
  [[], { RELAIS_RTPENGINE_DTMF: '9999' }, /RELAIS_RTPENGINE_DTMF: "9999" must be HOST:PORT or off/],
  [['--rtpengine-dtmf', 'h:70000'], {}, /--rtpengine-dtmf: "h:70000" must be HOST:PORT or off/],
  [['--rtpengine-inject-dtmf', 'maybe'], {}, /--rtpengine-inject-dtmf: "maybe" must be 1 or 0/],
  [['--sip-ban-after', 'many'], {}, /--sip-ban-after: "many" must be a number of failed authentications \(0 = off\) from 0 to 10000/],
  [[], { RELAIS_SIP_BAN_MINUTES: '0' }, /RELAIS_SIP_BAN_MINUTES: "0" must be a number of minutes from 1 to 10080/],
  [['--sip-allow', '10.0.0.0/8,office'], {}, /--sip-allow: "office" is not an IP address or a CIDR network \(or say lan \/ none\)/],
  [['--sip-allow-ban-after', '0'], {}, /--sip-allow-ban-after: "0" must be a number of failed authentications from 1 to 100000/],
  [['--board', 'rpi5'], {}, /--board: unknown board "rpi5" \(one of auto, rpi4, cm4-hat, sim\)/],
  [[], { RELAIS_RAUC: 'maybe' }, /RELAIS_RAUC: "maybe" must be off, system or a D-Bus address/],
  [['--update-confirm-seconds', '0'], {}, /--update-confirm-seconds: "0" must be a number of seconds from 1 to 86400/],
  [['--firmware-version', 'latest'], {}, /--firmware-version: "latest" is not a version/],
];

test('appliance settings: board auto, no update agent, systemctl reboot, 5 minutes to prove an update good', () => {
  assert.deepEqual(loadConfig([], {}).appliance, { board: 'auto', rauc: 'off', rebootCommand: ['systemctl', 'reboot'], updateConfirmMs: 300_000, firmwareVersion: undefined });
  const c = loadConfig(['--board', 'cm4-hat', '--rauc', 'unix:path=/run/bus', '--reboot-command', '/bin/touch /tmp/rebooted', '--firmware-version', '1.2.0'], { RELAIS_UPDATE_CONFIRM_SECONDS: '30' });
  assert.deepEqual(c.appliance, { board: 'cm4-hat', rauc: { address: 'unix:path=/run/bus' }, rebootCommand: ['/bin/touch', '/tmp/rebooted'], updateConfirmMs: 30_000, firmwareVersion: '1.2.0' });
  assert.equal(loadConfig(['--rauc', 'system'], {}).appliance.rauc, 'system');
});

test('SIP ban settings: 10 failures and 10 minutes by default, 0 turns the guard off; allow-list LAN by default', () => {
  const none = { allowList: undefined, allowedMaxFailures: undefined };
  assert.deepEqual(loadConfig([], {}).sipBan, { maxFailures: 10, banMinutes: 10, ...none });
  assert.deepEqual(loadConfig(['--sip-ban-after', '0'], { RELAIS_SIP_BAN_MINUTES: '60' }).sipBan, { maxFailures: 0, banMinutes: 60, ...none });
  assert.deepEqual(loadConfig(['--sip-allow', '192.168.0.0/16, 2001:db8::/32', '--sip-allow-ban-after', '40'], {}).sipBan, {
    maxFailures: 10,
    banMinutes: 10,
    allowList: ['192.168.0.0/16', '2001:db8::/32'],
    allowedMaxFailures: 40,
  });
  assert.deepEqual(loadConfig([], { RELAIS_SIP_ALLOW: 'none' }).sipBan.allowList, []);
  assert.equal(loadConfig(['--sip-allow', 'lan'], {}).sipBan.allowList, undefined);
});

for (const [argv, env, re] of bad) {
  test(`rejects ${JSON.stringify(argv)} ${JSON.stringify(env)}`, () => {
    assert.throws(() => loadConfig(argv, env), (err: unknown) => err instanceof ConfigError && re.test(err.message));
  });
}

test('--https-port and --tftp-port: a port, 0 for any free port, or off; defaults 8443 and 69', () => {
  const d = loadConfig([], {});
  assert.equal(d.httpsPort, 8443);
  assert.equal(d.tftpPort, 69);
  const c = loadConfig(['--https-port', 'off', '--tftp-port=0'], {});
  assert.equal(c.httpsPort, undefined);
  assert.equal(c.tftpPort, 0);
  assert.equal(loadConfig([], { RELAIS_HTTPS_PORT: '9443', RELAIS_TFTP_PORT: 'off' }).httpsPort, 9443);
  assert.equal(loadConfig([], { RELAIS_TFTP_PORT: 'off' }).tftpPort, undefined);
  assert.throws(() => loadConfig(['--https-port', 'x'], {}), /--https-port: "x" is not a port number/);
  assert.throws(() => loadConfig(['--https-port', '8080'], {}), /HTTPS port 8080 is already the HTTP port/);
});

test('--sip-tls-port: default 5061, 0 for any free port, off; never one of the other ports', () => {
  assert.equal(loadConfig([], {}).sipTlsPort, 5061);
  assert.equal(loadConfig(['--sip-tls-port', 'off'], {}).sipTlsPort, undefined);
  assert.equal(loadConfig([], { RELAIS_SIP_TLS_PORT: '0' }).sipTlsPort, 0);
  assert.throws(() => loadConfig(['--sip-tls-port', '5060'], {}), /SIP TLS port 5060 is already the SIP port/);
  assert.throws(() => loadConfig(['--sip-tls-port', '8443'], {}), /SIP TLS port 8443 is already the HTTPS port/);
});

test('command lines go through util.parseArgs: command flags, config flags, values starting with a dash, clear errors', async () => {
  const { parseCommandLine } = await import('../../../services/shared/index.js');
  const flags = { '--admin': 'switch', '--password': 'value' } as const;
  const r = parseCommandLine(['add', 'zoe', '--admin', '--password', '-', '--data-dir=/d', '--sip-port', '5070'], flags, { positionals: true });
  assert.deepEqual(r.positionals, ['add', 'zoe']);
  assert.deepEqual(r.values, { '--admin': true, '--password': '-', '--data-dir': '/d', '--sip-port': '5070' });
  assert.equal(parseCommandLine(['--rtp-timeout', '-1'], {}, { positionals: false }).values['--rtp-timeout'], '-1');
  // A command's own flag may be empty (simulate --online '': nobody online), a configuration flag may not.
  assert.equal(parseCommandLine(['--password', ''], flags, { positionals: false }).values['--password'], '');
  assert.equal(parseCommandLine(['--password='], flags, { positionals: false }).values['--password'], '');
  const err = (argv: string[], re: RegExp): void => assert.throws(() => parseCommandLine(argv, flags, { positionals: false }), (e: unknown) => e instanceof ConfigError && re.test(e.message));
  err(['--colour', 'red'], /unknown option "--colour"/);
  err(['--admin=yes'], /--admin takes no value/);
  err(['--password'], /--password needs a value/);
  err(['--domain='], /--domain needs a value/);
  err(['stray'], /unexpected argument "stray"/);
});

test('--sip-send-thread: off by default, on and off from the flag or the environment, anything else is refused by name', () => {
  assert.equal(loadConfig([], {}).udpSendThread, false);
  assert.equal(loadConfig(['--sip-send-thread', 'off'], { RELAIS_SIP_SEND_THREAD: 'on' }).udpSendThread, false);
  assert.equal(loadConfig([], { RELAIS_SIP_SEND_THREAD: 'on' }).udpSendThread, true);
  assert.throws(() => loadConfig(['--sip-send-thread', 'auto'], {}), (e: unknown) => e instanceof ConfigError && /--sip-send-thread: "auto" is not on or off/.test(e.message));
  assert.throws(() => loadConfig([], { RELAIS_SIP_SEND_THREAD: '2' }), /RELAIS_SIP_SEND_THREAD: "2" is not on or off/);
});

test('--media-fast-path: on by default, off from the flag or the environment, anything else is refused by name', () => {
  assert.equal(loadConfig([], {}).mediaFastPath, true);
  assert.equal(loadConfig(['--media-fast-path', 'off'], {}).mediaFastPath, false);
  assert.equal(loadConfig([], { RELAIS_MEDIA_FAST_PATH: 'off' }).mediaFastPath, false);
  assert.equal(loadConfig(['--media-fast-path', 'on'], { RELAIS_MEDIA_FAST_PATH: 'off' }).mediaFastPath, true);
  assert.throws(() => loadConfig(['--media-fast-path', 'yes'], {}), (e: unknown) => e instanceof ConfigError && /--media-fast-path: "yes" is not on or off/.test(e.message));
});

test('--media-realtime: 10 by default, 0 turns it off, anything but 0-99 is refused by name', () => {
  assert.equal(loadConfig([], {}).mediaRealtime, 10);
  assert.equal(loadConfig(['--media-realtime', '0'], {}).mediaRealtime, 0);
  assert.equal(loadConfig([], { RELAIS_MEDIA_REALTIME: '30' }).mediaRealtime, 30);
  assert.throws(() => loadConfig(['--media-realtime', '100'], {}), (e: unknown) => e instanceof ConfigError && /--media-realtime: "100" must be a SCHED_FIFO priority \(0 = none\) from 0 to 99/.test(e.message));
  assert.throws(() => loadConfig([], { RELAIS_MEDIA_REALTIME: 'high' }), /RELAIS_MEDIA_REALTIME: "high" must be/);
});
