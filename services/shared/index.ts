// Shared kernel: clock, logger, typed events, errors, ids, configuration.
export { type Clock, type TimerHandle, SystemClock, ManualClock } from './clock.js';
export { WritePacer, COMMIT_SHARE, type WritePacerOptions } from './write-pacer.js';
export { Logger, silentLogger, LOG_LEVELS, type LogLevel, type LogFields, type LogSink } from './logger.js';
export { TypedEmitter, type EventMap } from './typed-emitter.js';
export { Abort, type AbortSignalLike } from './abort.js';
export { RelaisError, ConfigError, NotFoundError, errorMessage } from './errors.js';
export { randomToken, newId, newTimeOrderedId } from './ids.js';
export { ProbingIndex, fnv1aString, fnv1aBytes } from './probing-index.js';
export { loadConfig, parseCommandLine, DEFAULT_MEDIA_REALTIME, CONFIG_FLAGS, CONFIG_HELP, type CommandFlags, type Config, type SipBanSettings, type MediaBackend, type CallSettings, type RtpengineMediaSettings, type ApplianceSettings } from './config.js';
export { normalizeAddress, parseNetwork, isPrivateAddress } from './network.js';
export { type Module, type ModuleHealth, type HealthStatus, overallStatus } from './module.js';
export { BoxCertificate, validateCertificatePair, lanAddresses, type CertificateInfo, type BoxCertificateOptions } from './box-certificate.js';
