// Chooses the media backend from the configuration (--media builtin | rtpengine).
import { ConfigError, type Config, type Logger } from '../shared/index.js';
import { BuiltinMediaEngine } from './builtin-engine.js';
import type { MediaEngine } from './engine.js';

export interface MediaEngineFactoryOptions {
  logger?: Logger;
  /** Overrides the default RTP timeout (ms). */
  rtpTimeoutMs?: number;
}

/** Backends other than the built-in one register here (the rtpengine backend does so from its own module). */
const backends = new Map<string, (config: Config, opts: MediaEngineFactoryOptions) => MediaEngine>();

export function registerMediaBackend(name: Config['media'], create: (config: Config, opts: MediaEngineFactoryOptions) => MediaEngine): void {
  backends.set(name, create);
}

export function createMediaEngine(config: Config, opts: MediaEngineFactoryOptions = {}): MediaEngine {
  if (config.media === 'builtin') {
    return new BuiltinMediaEngine({
      bind: config.bind,
      rtpPortMin: config.rtpPortMin,
      rtpPortMax: config.rtpPortMax,
      fastPath: config.mediaFastPath,
      fastPathRealtime: config.mediaRealtime,
      ...(opts.rtpTimeoutMs !== undefined ? { rtpTimeoutMs: opts.rtpTimeoutMs } : {}),
      ...(opts.logger ? { logger: opts.logger } : {}),
    });
  }
  const create = backends.get(config.media);
  if (!create) throw new ConfigError(`--media: the "${config.media}" backend is not available in this build`, '--media');
  return create(config, opts);
}
