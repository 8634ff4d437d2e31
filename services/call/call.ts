// One call and its legs: ownership tree call → legs → (SIP dialog, media endpoint); closing the call closes both.
import type { MediaEndpoint } from '../media/index.js';
import type { CallDialog } from './sip-host.js';
import type { CallDirection } from './call-history.js';


/** Who is on a leg: an extension of this site, or a remote party reached through a trunk. */
export interface Party {
  /** Extension number, or the external number. */
  number: string;
  displayName: string;
  extensionId?: number | undefined;
  /** The extension's user (calls.answered_by, queue statistics). */
  userId?: number | null | undefined;
  /** True when this party is one of our extensions (BLF lamps follow it). */
  isExtension: boolean;
}

export type LegRole = 'caller' | 'callee';

export class Leg {
  dialog: CallDialog | undefined;
  endpoint: MediaEndpoint | undefined;
  /** This leg's party sent a=sendonly/inactive (RFC 3264 §8.4 hold). */
  held = false;
  /** Its dialog and endpoint events are wired to the call (BYE, re-INVITE, DTMF…). */
  wired = false;

  constructor(
    readonly role: LegRole,
    readonly party: Party,
  ) {}
}

export type CallState = 'ringing' | 'answered' | 'voicemail' | 'ended';

/** What observers (history, LEDs, console, queue) see of a call. */
export interface CallInfo {
  id: string;
  direction: CallDirection;
  caller: Party;
  callee: Party;
  state: CallState;
  startedAt: number;
  answeredAt?: number | undefined;
  endedAt?: number | undefined;
  cause?: string | undefined;
  recording?: string | undefined;
  /** Inbound number (DID) of a trunk call. */
  did?: string | undefined;
  /** The DID's record switch (recording follows the number's switch, docs/calls.md). */
  recordNumber?: boolean | undefined;
  /** The inbound number's id (calls.number_id). */
  numberId?: number | undefined;
}

/**
 * What watchers (history, LEDs, console, queues, scenarios) hear of calls: one typed event per change. The call
 * history is one of these watchers (CallHistory.follow), so nothing writes a second, string-typed copy.
 */
export type CallEvents = {
  'call.started': [CallInfo, { dialled: string; sipCallId: string }];
  'call.ringing': [CallInfo];
  'call.answered': [CallInfo, { by: Party }];
  /** The legs are released (BYEs out); media may still be closing. */
  'call.hangup': [CallInfo];
  /** Everything is closed (the recording file is complete). */
  'call.ended': [CallInfo];
  'call.hold': [CallInfo, { party: string; on: boolean }];
  'call.transferred': [CallInfo, { from: string; to: string; kind: 'blind' | 'attended' }];
  'call.dtmf': [CallInfo, { party: string; digit: string; method: string }];
  'call.recording': [CallInfo, { file: string }];
};

export class Call {
  state: CallState = 'ringing';
  answeredAt: number | undefined;
  endedAt: number | undefined;
  cause: string | undefined;
  /** Recording file relative to the data dir, while or after recording. */
  recording: string | undefined;
  /** The two parties in conversation; [0] started as the caller. A transfer replaces one of them. */
  legs: Leg[] = [];
  /** The DID an inbound trunk call came in on (its record flag applies). */
  inboundNumber: { id: number; did: string; record: boolean } | undefined;
  /** The caller ID presented on a trunk for an outbound call (a DID: its number's voicedrop message applies). */
  presentedAs: string | undefined;
  /** Pending work (forks, transfer targets, a scenario waiting for keys): aborted on CANCEL and when the call ends. */
  readonly attempts = new Set<{ abort(): void }>();

  constructor(
    readonly id: string,
    readonly direction: CallDirection,
    readonly caller: Party,
    public callee: Party,
    readonly startedAt: number,
  ) {}

  other(leg: Leg): Leg | undefined {
    return this.legs.find((l) => l !== leg);
  }

  info(): CallInfo {
    return {
      id: this.id,
      direction: this.direction,
      caller: this.caller,
      callee: this.callee,
      state: this.state,
      startedAt: this.startedAt,
      answeredAt: this.answeredAt,
      endedAt: this.endedAt,
      cause: this.cause,
      recording: this.recording,
      did: this.inboundNumber?.did,
      recordNumber: this.inboundNumber?.record,
      numberId: this.inboundNumber?.id,
    };
  }
}
