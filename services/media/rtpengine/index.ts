// rtpengine media backend: the MediaEngine through rtpengine's ng protocol (--media=rtpengine --rtpengine=HOST:PORT).
import { ConfigError, type Config, type Logger } from '../../shared/index.js';
import { registerMediaBackend } from '../factory.js';
import { RtpengineEngine, type RtpengineEngineOptions } from './rtpengine-engine.js';

export { RtpengineEngine, type RtpengineEngineOptions } from './rtpengine-engine.js';
export { RtpengineEndpoint, TAG_PHONE, TAG_RELAIS } from './rtpengine-endpoint.js';
export { NgClient, type NgCommand, type NgExchange } from './ng-client.js';
export { readPcapRtp, tracksFromCapture, mixTracks, interleave, type CapturedRtp } from './pcap-to-wav.js';

export interface RtpengineDeps {
  logger?: Logger;
  rtpTimeoutMs?: number;
  /**
   * Settings not (yet) in Config: RELAIS_RTPENGINE_DTMF (HOST:PORT or "off"), RELAIS_RTPENGINE_RECORDING_DIR,
   * RELAIS_RTPENGINE_INJECT_DTMF=1 (RFC 4733 sending; costs rtpengine CPU on every call).
   */
  env?: NodeJS.ProcessEnv;
}

/**
 * The rtpengine backend for a Relais configuration. rtpengine must run on the same host for playback (it reads
 * the prompt files) and be started with --dtmf-log-dest=<DTMF listen address> (default: ng port + 1 on 127.0.0.1)
 * and, for recordings, --recording-method=pcap --recording-dir=<RELAIS_RTPENGINE_RECORDING_DIR>.
 */
export function createRtpengineEngine(config: Config, deps: RtpengineDeps = {}): RtpengineEngine {
  const env = deps.env ?? process.env;
  const ng = config.rtpengine;
  let dtmfListen: RtpengineEngineOptions['dtmfListen'] = { host: '127.0.0.1', port: ng.port + 1 };
  const d = env.RELAIS_RTPENGINE_DTMF;
  if (d === 'off') dtmfListen = false;
  else if (d) {
    const m = /^(.+):(\d+)$/.exec(d);
    if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) throw new ConfigError(`RELAIS_RTPENGINE_DTMF: "${d}" must be HOST:PORT or off`, 'RELAIS_RTPENGINE_DTMF');
    dtmfListen = { host: m[1]!, port: Number(m[2]) };
  }
  return new RtpengineEngine({
    ng,
    dtmfListen,
    ...(env.RELAIS_RTPENGINE_RECORDING_DIR ? { recordingDir: env.RELAIS_RTPENGINE_RECORDING_DIR } : {}),
    injectDtmf: env.RELAIS_RTPENGINE_INJECT_DTMF === '1',
    ...(deps.rtpTimeoutMs !== undefined ? { rtpTimeoutMs: deps.rtpTimeoutMs } : {}),
    ...(deps.logger ? { logger: deps.logger } : {}),
  });
}

/** Makes `--media=rtpengine` available to createMediaEngine (called once by the composition root). */
export function registerRtpengineBackend(): void {
  registerMediaBackend('rtpengine', (config, opts) =>
    createRtpengineEngine(config, {
      ...(opts.logger ? { logger: opts.logger } : {}),
      ...(opts.rtpTimeoutMs !== undefined ? { rtpTimeoutMs: opts.rtpTimeoutMs } : {}),
    }),
  );
}
