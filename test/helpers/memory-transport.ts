// An in-memory SIP transport for unit tests and in-process benches: what the stack sends goes to `onSend`, and
// deliver() hands bytes to the stack as if they had arrived from `source`.
import type { SipTransport, Source, Target, TransportKind, TransportSink } from '../../services/sip/index.js';

export function memoryTransport(
  kind: TransportKind,
  onSend: (buf: Buffer, target: Target) => void,
): { transport: SipTransport; deliver(buf: Buffer, source: Source): void } {
  let sink: TransportSink | undefined;
  const transport: SipTransport = {
    kind,
    reliable: kind === 'tcp',
    listen: async (s) => {
      sink = s;
    },
    port: () => 5060,
    send: (buf, target) => {
      onSend(buf, target);
      return Promise.resolve({ transport: kind, address: target.address, port: target.port });
    },
    hasConnection: () => false,
    close: async () => {},
    stats: () => ({}),
  };
  return {
    transport,
    deliver: (buf, source) => {
      if (!sink) throw new Error(`memory ${kind} transport: deliver() before listen()`);
      sink.onMessage(buf, source);
    },
  };
}
