// Media module: the MediaEngine seam and its backends (built-in worker engine; rtpengine backend in rtpengine/).
export * from './engine.js';
