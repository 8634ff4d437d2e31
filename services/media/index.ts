// Media module: the MediaEngine seam and its backends (built-in worker engine; rtpengine backend in rtpengine/).
export * from './engine.js';
export { BuiltinMediaEngine, DEFAULT_WORKER_NICE, type BuiltinMediaEngineOptions } from './builtin-engine.js';
export { BuiltinEndpoint } from './builtin-endpoint.js';
export type { WorkerStats as MediaWorkerStats } from './worker/protocol.js';
export { createMediaEngine, registerMediaBackend, type MediaEngineFactoryOptions } from './factory.js';
export * from './sdes.js';
