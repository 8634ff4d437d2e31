// Fakes for call-control unit tests: a SIP host with scripted UAC outcomes, a media engine, presence; no sockets.
import { DigestClient, DigestServer, SipRequest, SipResponse } from '../../../services/sip/index.js';
import { TypedEmitter, type Clock } from '../../../services/shared/index.js';
import type {
  CallBinding,
  CallDialog,
  CallIncomingRequest,
  CallMiddleware as CallMiddlewareLike,
  CallPresence,
  CallServerResponse,
  CallSipHost,
  CallUacOptions,
  SendOptions,
} from '../../../services/call/index.js';
import { MediaError } from '../../../services/media/index.js';
import type { MediaEndpoint, MediaEngine, MediaEndpointEvents, OpenEndpointOptions, PlayItem, PlayResult, RecordOptions, DtmfMethod } from '../../../services/media/index.js';

export class FakeSipError extends Error {
  constructor(readonly status: number) {
    super(`SIP ${status}`);
  }
}

type DialogEvents = {
  destroy: [reason?: unknown];
  modify: [CallIncomingRequest, CallServerResponse];
  refer: [CallIncomingRequest, CallServerResponse];
  info: [CallIncomingRequest, CallServerResponse];
  notify: [CallIncomingRequest, CallServerResponse];
};

export class FakeDialog extends TypedEmitter<DialogEvents> implements CallDialog {
  destroyed = false;
  byeSent = 0;
  readonly requests: { method: string; opts: SendOptions | undefined }[] = [];
  constructor(
    readonly callId: string,
    public remoteSdp: string | undefined,
    readonly label: string,
  ) {
    super();
  }
  async request(method: string, opts?: SendOptions): Promise<SipResponse> {
    this.requests.push({ method, opts });
    return new SipResponse(200, 'OK');
  }
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.byeSent++;
  }
  /** The far end sends BYE. */
  remoteBye(): void {
    this.destroyed = true;
    this.emit('destroy', 'BYE');
  }
}

export class FakeRes implements CallServerResponse {
  readonly sent_: { status: number; reason: string | undefined; opts: SendOptions | undefined }[] = [];
  get sent(): boolean {
    return this.sent_.some((s) => s.status >= 200);
  }
  send(status: number, reason?: string, opts?: SendOptions): void {
    this.sent_.push({ status, reason, opts });
  }
  get final(): number | undefined {
    return this.sent_.find((s) => s.status >= 200)?.status;
  }
  statuses(): number[] {
    return this.sent_.map((s) => s.status);
  }
}

export class FakeReq extends TypedEmitter<{ cancel: [] }> implements CallIncomingRequest {
  readonly source = { transport: 'udp' as const, address: '127.0.0.1', port: 5999 };
  constructor(readonly msg: SipRequest) {
    super();
  }
}

export interface UacCall {
  uri: string;
  opts: CallUacOptions;
  answer(sdp?: string): FakeDialog;
  fail(status: number): void;
  ring(): void;
  /** 183 Session Progress with an SDP answer (early media). */
  progress(sdp: string): void;
  aborted: boolean;
}

let dialogSeq = 0;

export class FakeSip implements CallSipHost {
  readonly handlers = new Map<string, CallMiddlewareLike[]>();
  readonly uacs: UacCall[] = [];
  readonly uasDialogs: FakeDialog[] = [];
  onUac: ((u: UacCall) => void) | undefined;
  /** The SDP answer a late-offer caller puts in its ACK. */
  lateAnswer = 'v=0\r\no=- 9 9 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 41000 RTP/AVP 0\r\n';

  use(method: string, handler: CallMiddlewareLike): void {
    const list = this.handlers.get(method) ?? [];
    list.push(handler);
    this.handlers.set(method, list);
  }

  /**
   * The far end of each dialog answered from now on has already sent its BYE when the answer completes: read in the
   * same turn as its ACK, before anyone could listen for it (docs/calls.md, "What a call does").
   */
  byeWithAck = false;

  async createUas(req: CallIncomingRequest, res: CallServerResponse, opts: { localSdp: string }): Promise<CallDialog> {
    res.send(200, 'OK', { body: opts.localSdp, contentType: 'application/sdp' });
    const d = new FakeDialog(req.msg.callId, req.msg.bodyText || this.lateAnswer, 'uas');
    this.uasDialogs.push(d);
    if (this.byeWithAck) d.remoteBye();
    return d;
  }

  createUac(uri: string, opts: CallUacOptions): Promise<CallDialog> {
    return new Promise((resolve, reject) => {
      let settled = false;
      const u: UacCall = {
        uri,
        opts,
        aborted: false,
        answer: (sdp = 'v=0\r\nanswer\r\n') => {
          const d = new FakeDialog(`uac-${++dialogSeq}`, sdp, uri);
          if (settled) {
            // late 2xx after CANCEL: the dialog exists anyway
            resolve(d);
            return d;
          }
          settled = true;
          resolve(d);
          return d;
        },
        fail: (status) => {
          if (settled) return;
          settled = true;
          reject(new FakeSipError(status));
        },
        ring: () => opts.onProvisional?.(new SipResponse(180, 'Ringing')),
        progress: (sdp) => opts.onProvisional?.(new SipResponse(183, 'Session Progress').setBody(sdp, 'application/sdp')),
      };
      opts.signal?.addEventListener('abort', () => {
        u.aborted = true;
        u.fail(487);
      });
      this.uacs.push(u);
      this.onUac?.(u);
    });
  }

  /** Delivers an INVITE through the middleware chain. */
  async invite(req: FakeReq, res: FakeRes): Promise<void> {
    const chain = this.handlers.get('INVITE') ?? [];
    let i = 0;
    const next = async (): Promise<void> => {
      const h = chain[i++];
      if (h) await h(req, res, () => void next());
    };
    await next();
  }
}

export class FakeEndpoint extends TypedEmitter<MediaEndpointEvents> implements MediaEndpoint {
  static seq = 0;
  readonly id = `ep${++FakeEndpoint.seq}`;
  localSdp: string;
  remoteSdp: string | undefined;
  readonly local = { address: '127.0.0.1', port: 30000 + FakeEndpoint.seq * 2 };
  codec = undefined;
  closed = false;
  bridgedTo: FakeEndpoint | undefined;
  recording: { file: string; opts: RecordOptions } | undefined;
  played: PlayItem[][] = [];
  held = false;
  constructor(
    readonly callId: string,
    remoteSdp: string | undefined,
  ) {
    super();
    this.remoteSdp = remoteSdp;
    this.localSdp = `v=0\r\no=relais ${this.id}\r\nm=audio ${this.local.port} RTP/AVP 0\r\n`;
  }
  async setRemoteSdp(sdp: string): Promise<string> {
    this.remoteSdp = sdp;
    const dir = /a=(sendonly|inactive)/.exec(sdp);
    return this.localSdp + (dir ? (dir[1] === 'sendonly' ? 'a=recvonly\r\n' : 'a=inactive\r\n') : 'a=sendrecv\r\n');
  }
  async bridge(other: MediaEndpoint): Promise<void> {
    this.bridgedTo = other as FakeEndpoint;
    (other as FakeEndpoint).bridgedTo = this;
  }
  async unbridge(): Promise<void> {
    this.bridgedTo = undefined;
  }
  async play(items: PlayItem[]): Promise<PlayResult> {
    this.played.push(items);
    return 'done';
  }
  stopPlay(): void {}
  record(file: string, opts: RecordOptions): void {
    this.recording = { file, opts };
  }
  async stopRecord(): Promise<void> {}
  async sendDtmf(): Promise<void> {}
  async hold(on: boolean): Promise<string> {
    this.held = on;
    return this.localSdp;
  }
  injectDtmf(digit: string, method: DtmfMethod): void {
    this.emit('dtmf', digit, { method });
  }
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.emit('closed');
  }
}

export class FakeMedia implements MediaEngine {
  readonly name = 'media';
  readonly endpoints: FakeEndpoint[] = [];
  /** Simulates a media engine out of ports. */
  exhausted = false;
  async start(): Promise<void> {}
  async stop(): Promise<void> {}
  health() {
    return { status: 'ok' as const };
  }
  async openEndpoint(o: OpenEndpointOptions): Promise<MediaEndpoint> {
    if (o.remoteSdp !== undefined && !o.remoteSdp.startsWith('v=0')) throw new MediaError('media.sdp_invalid', 'SDP does not parse');
    if (this.exhausted) throw new MediaError('media.worker', 'no free RTP port pair');
    const e = new FakeEndpoint(o.callId, o.remoteSdp);
    this.endpoints.push(e);
    return e;
  }
  endpointCount(): number {
    return this.endpoints.filter((e) => !e.closed).length;
  }
}

export class FakePresence implements CallPresence {
  readonly states: { ext: string; state: string }[] = [];
  readonly mailboxes: { ext: string; newMessages: number; oldMessages: number }[] = [];
  setDialogState(ext: string, state: 'idle' | 'early' | 'confirmed'): void {
    this.states.push({ ext, state });
  }
  setMailbox(ext: string, box: { newMessages: number; oldMessages: number }): void {
    this.mailboxes.push({ ext, ...box });
  }
  last(ext: string): string | undefined {
    return [...this.states].reverse().find((s) => s.ext === ext)?.state;
  }
}

export class FakeRegistrar {
  readonly bindings = new Map<string, CallBinding[]>();
  readonly digest: DigestServer;
  constructor(realm: string, clock: Clock) {
    this.digest = new DigestServer({ realm, clock });
  }
  lookup(n: string): CallBinding[] {
    return this.bindings.get(n) ?? [];
  }
  add(n: string, port: number): void {
    const list = this.bindings.get(n) ?? [];
    list.push({ contact: `sip:${n}@127.0.0.1:${port}`, source: { transport: 'udp', address: '127.0.0.1', port } });
    this.bindings.set(n, list);
  }
}

export const OFFER = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n';

let callSeq = 0;

/** An INVITE from `fromUser` to `to`, optionally answering a 407 with the password. */
export function makeInvite(fromUser: string, to: string, opts: { password?: string; challenge?: string; realm?: string; body?: string; headers?: Record<string, string> } = {}): SipRequest {
  const uri = `sip:${to}@relais.test`;
  const req = SipRequest.create({
    method: 'INVITE',
    uri,
    headers: {
      Via: `SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bK-${++callSeq}`,
      From: `<sip:${fromUser}@relais.test>;tag=f${callSeq}`,
      To: `<sip:${to}@relais.test>`,
      'Call-ID': `call-${callSeq}@test`,
      CSeq: '1 INVITE',
      Contact: `<sip:${fromUser}@127.0.0.1:5999>`,
      'Max-Forwards': '70',
      ...(opts.headers ?? {}),
    },
    body: opts.body ?? OFFER,
    contentType: 'application/sdp',
  });
  if (opts.password !== undefined && opts.challenge) {
    const auth = new DigestClient({ username: fromUser, password: opts.password }).authorize({ challenges: [opts.challenge], method: 'INVITE', uri });
    if (auth) req.set('Proxy-Authorization', auth);
  }
  return req;
}
