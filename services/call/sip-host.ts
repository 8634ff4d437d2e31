// The narrow view of the SIP layer call control needs (SipStack, registrar, presence, trunks), so it can be driven by fakes in tests.
import type { AuthGuard, DigestServer, SipRequest, SipResponse } from '../sip/index.js';
import type { AbortSignalLike } from '../shared/index.js';

export interface CallSource {
  transport: 'udp' | 'tcp' | 'tls';
  address: string;
  port: number;
  connectionId?: string | undefined;
}

export interface SendOptions {
  headers?: Record<string, string | string[]>;
  body?: string;
  contentType?: string;
}

/** An incoming request (INVITE out of dialog, or re-INVITE/REFER/INFO inside one). */
export interface CallIncomingRequest {
  readonly msg: SipRequest;
  readonly source: CallSource;
  /** Emits `cancel` when a CANCEL matched this INVITE. */
  on(event: 'cancel', listener: () => void): unknown;
}

export interface CallServerResponse {
  send(status: number, reason?: string, opts?: SendOptions): unknown;
  readonly sent: boolean;
}

export type InDialogHandler = (req: CallIncomingRequest, res: CallServerResponse) => void;

/** One SIP dialog of a call leg (drachtio-srf shaped). */
export interface CallDialog {
  readonly callId: string;
  readonly remoteSdp: string | undefined;
  /** True once the dialog has ended (a BYE sent or received): its 'destroy' listeners have been told already. */
  readonly destroyed?: boolean;
  on(event: 'destroy', listener: (reason?: unknown) => void): unknown;
  on(event: 'modify' | 'refer' | 'info' | 'notify', listener: InDialogHandler): unknown;
  /** In-dialog request (NOTIFY for REFER progress, re-INVITE for hold). */
  request(method: string, opts?: SendOptions): Promise<SipResponse>;
  /** Sends BYE; idempotent. */
  destroy(): unknown;
}

export interface UacTarget {
  address: string;
  port: number;
  transport: 'udp' | 'tcp' | 'tls';
  /** The TCP connection a phone registered over (RFC 5626 style reuse): its address:port is not listening. */
  connectionId?: string | undefined;
}

export interface CallUacOptions {
  localSdp: string;
  headers?: Record<string, string>;
  target?: UacTarget;
  auth?: { username: string; password: string };
  onProvisional?: (res: SipResponse) => void;
  /** Aborting sends CANCEL (RFC 3261 §9.1) and rejects with SipError 487. */
  signal?: AbortSignalLike;
}

export type CallMiddleware = (req: CallIncomingRequest, res: CallServerResponse, next: () => void) => void | Promise<void>;

export interface CallSipHost {
  use(method: string, handler: CallMiddleware): unknown;
  createUas(req: CallIncomingRequest, res: CallServerResponse, opts: { localSdp: string; headers?: Record<string, string> }): Promise<CallDialog>;
  createUac(uri: string, opts: CallUacOptions): Promise<CallDialog>;
}

/** A registered contact of an extension (the registrar's Binding, reduced). */
export interface CallBinding {
  contact: string;
  source: CallSource;
}

export interface CallRegistrar {
  lookup(extensionNumber: string): CallBinding[];
  /** Shared with the registrar, so INVITE challenges use the same nonces and realm. */
  readonly digest: DigestServer;
  /** Shared with the registrar: wrong passwords on INVITE count towards banning the address too. */
  readonly guard?: AuthGuard;
}

export type BlfState = 'idle' | 'early' | 'confirmed';

export interface CallPresence {
  setDialogState(extension: string, state: BlfState, detail?: { callId?: string; direction?: 'initiator' | 'recipient'; remote?: string }): void;
  setMailbox(extension: string, box: { newMessages: number; oldMessages: number }): void;
}

/** Where an outbound number goes (a trunk picked by the outbound routes). */
export interface OutboundRoute {
  uri: string;
  target?: UacTarget;
  auth?: { username: string; password: string };
  /** Caller ID to present on the trunk. */
  callerId?: string;
  /** Domain of the From header toward the provider. */
  fromDomain?: string;
  trunkName: string;
}

/** An inbound number (DID) as call control needs it. */
export interface CallInboundNumber {
  id: number;
  did: string;
  record: boolean;
  /** Assigned users: their extensions ring when the DID is not itself an extension. */
  userIds: number[];
}

export interface CallInboundMatch {
  trunkName: string;
  /** The dialled DID (Request-URI user, or To user on a registration contact). */
  dialled: string | undefined;
  number: CallInboundNumber | undefined;
}

export interface CallTrunks {
  /** The trunk an inbound INVITE came from (by source address or registration), if any. */
  matchInbound(req: CallIncomingRequest): CallInboundMatch | undefined;
  routeOutbound(number: string, callerExtension: string): OutboundRoute | undefined;
}

/** A failed UAC attempt: the final status the far end gave (SipError from the stack). */
export function statusOf(err: unknown): number {
  if (err && typeof err === 'object' && 'status' in err && typeof (err as { status: unknown }).status === 'number') {
    return (err as { status: number }).status;
  }
  return 500;
}
