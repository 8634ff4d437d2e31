// Media module: the MediaEngine seam and its backends (built-in worker engine; rtpengine backend in rtpengine/).
export * from './engine.js';
export { BuiltinMediaEngine, BuiltinEndpoint, type BuiltinMediaEngineOptions } from './builtin-engine.js';
export type { WorkerStats as MediaWorkerStats } from './worker/protocol.js';
export { createMediaEngine, registerMediaBackend, type MediaEngineFactoryOptions } from './factory.js';
