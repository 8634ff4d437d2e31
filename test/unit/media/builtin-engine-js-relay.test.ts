// The built-in engine's tests again with the relay's fast path off: the worker relays every packet in JavaScript, as
// it does on a box whose build has no native forwarder (docs/media.md, "The relay's fast path").
process.env.RELAIS_TEST_MEDIA_FAST_PATH = 'off';
await import('./builtin-engine.test.js');
