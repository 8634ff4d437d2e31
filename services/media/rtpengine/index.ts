// rtpengine media backend: the MediaEngine through rtpengine's ng protocol (--media=rtpengine --rtpengine=HOST:PORT).
import type { Config, Logger } from '../../shared/index.js';
import { registerMediaBackend } from '../factory.js';
import { RtpengineEngine } from './rtpengine-engine.js';

export { RtpengineEngine, type RtpengineEngineOptions } from './rtpengine-engine.js';
export { RtpengineEndpoint, TAG_PHONE, TAG_RELAIS } from './rtpengine-endpoint.js';
export { NgClient, type NgCommand, type NgExchange } from './ng-client.js';
export { readPcapRtp, tracksFromCapture, mixTracks, interleave, type CapturedRtp } from './pcap-to-wav.js';

export interface RtpengineDeps {
  logger?: Logger;
  rtpTimeoutMs?: number;
}

/**
 * The rtpengine backend for a Relais configuration. rtpengine must run on the same host for playback (it reads
 * the prompt files) and be started with --dtmf-log-dest=<--rtpengine-dtmf address> (default: ng port + 1 on 127.0.0.1)
 * and, for recordings, --recording-method=pcap --recording-dir=<--rtpengine-recording-dir>.
 */
export function createRtpengineEngine(config: Config, deps: RtpengineDeps = {}): RtpengineEngine {
  const { dtmfListen, recordingDir, injectDtmf } = config.rtpengineMedia;
  return new RtpengineEngine({
    ng: config.rtpengine,
    dtmfListen,
    ...(recordingDir !== undefined ? { recordingDir } : {}),
    injectDtmf,
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
