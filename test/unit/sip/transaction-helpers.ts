// Test doubles for the transaction layer: an in-memory transport and a probe transaction user.
import { silentLogger } from '../../../services/shared/index.js';
import { memoryTransport } from '../../helpers/memory-transport.js';
import {
  OutgoingRequestForTests,
  TransportLayer,
  type SipRequest,
  type SipResponse,
  type Source,
  type Target,
} from '../../../services/sip/index.js';

/** An in-memory UDP transport (and, with withTcp, a reliable TCP one) under a real TransportLayer. */
export function fakeNetwork(withTcp = false): {
  layer: TransportLayer;
  sent: Array<{ buf: Buffer; target: Target }>;
  deliver(buf: Buffer, source: Source): void;
  flush(): Promise<void>;
} {
  const sent: Array<{ buf: Buffer; target: Target }> = [];
  const keep = (buf: Buffer, target: Target): void => void sent.push({ buf, target });
  const udp = memoryTransport('udp', keep);
  const layer = new TransportLayer('192.0.2.1', silentLogger);
  layer.add(udp.transport);
  if (withTcp) layer.add(memoryTransport('tcp', keep).transport);
  void layer.listen();
  return {
    layer,
    sent,
    deliver: udp.deliver,
    flush: () => new Promise((r) => setImmediate(r)),
  };
}

export class OutgoingRequestProbe {
  readonly out: OutgoingRequestForTests;
  finals = 0;
  late2xx = 0;
  constructor(readonly request: SipRequest) {
    this.out = new OutgoingRequestForTests(request);
    // Late 2xx reach the TU through its late-2xx hook: once the final is in, the transaction keeps only that.
    this.out.onLate2xx = () => this.late2xx++;
    const orig = this.out.receiveResponse.bind(this.out);
    this.out.receiveResponse = (res: SipResponse) => {
      if (res.status >= 200) {
        if (this.out.completed) this.late2xx++;
        else this.finals++;
      }
      orig(res);
    };
  }
}
