// Requests inside an answered call's dialogs: re-INVITE / UPDATE (hold and resume, session refresh) and SIP INFO DTMF.
import { errorMessage } from '../shared/index.js';
import { parseRemoteSdp } from '../media/index.js';
import type { Call, Leg } from './call.js';
import type { CallService, CallServiceOptions } from './call-service.js';
import type { CallIncomingRequest, CallServerResponse } from './sip-host.js';

export class InDialogRequests {
  constructor(
    private readonly cc: CallService,
    private readonly d: { opts: CallServiceOptions },
  ) {}

  /** re-INVITE: RFC 3264 §8.4 hold (a=sendonly / inactive) and resume; answered from our endpoint. */
  async onModify(call: Call, leg: Leg, req: CallIncomingRequest, res: CallServerResponse): Promise<void> {
    const sdp = req.msg.bodyText;
    const other = call.other(leg);
    if (!leg.endpoint) {
      // Pass-through: the other party's last SDP still describes where to send.
      res.send(200, 'OK', { body: other?.dialog?.remoteSdp ?? '', contentType: 'application/sdp' });
      return;
    }
    if (!sdp) {
      // An UPDATE without an offer (session refresh, RFC 4028) gets no SDP; an offerless re-INVITE gets our
      // current description as the offer (the media keeps its parameters).
      if (req.msg.method === 'UPDATE') res.send(200, 'OK');
      else res.send(200, 'OK', { body: leg.endpoint.localSdp, contentType: 'application/sdp' });
      return;
    }
    let answer: string;
    let held: boolean;
    try {
      const dir = parseRemoteSdp(sdp).direction;
      held = dir === 'sendonly' || dir === 'inactive';
      answer = await leg.endpoint.setRemoteSdp(sdp);
    } catch (err) {
      res.send(488, 'Not Acceptable Here');
      this.cc.log.info('re-INVITE SDP refused', { call: call.id, error: errorMessage(err) });
      return;
    }
    res.send(200, 'OK', { body: answer, contentType: 'application/sdp' });
    if (held !== leg.held) {
      leg.held = held;
      this.cc.observer.emit('call.hold', call.info(), { party: leg.party.number, on: held });
      const otherEp = other?.endpoint;
      const moh = typeof this.d.opts.mohFile === 'function' ? this.d.opts.mohFile() : this.d.opts.mohFile;
      if (otherEp && held && moh) void otherEp.play([{ file: moh }], { loop: true }).catch(() => undefined);
      else if (otherEp && !held) otherEp.stopPlay();
    }
  }

  /** SIP INFO DTMF (application/dtmf-relay "Signal=5"), reported like RFC 4733 digits. */
  onInfo(call: Call, leg: Leg, req: CallIncomingRequest, res: CallServerResponse): void {
    const body = req.msg.bodyText;
    const m = /Signal\s*=\s*([0-9*#A-D])/i.exec(body) ?? (/^\s*([0-9*#A-D])\s*$/i.exec(body) as RegExpExecArray | null);
    if (m && leg.endpoint) leg.endpoint.injectDtmf(m[1]!.toUpperCase(), 'info');
    res.send(200, 'OK');
  }
}
