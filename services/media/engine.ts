// The MediaEngine seam: what call control asks of a media backend, the types it speaks, and SDP offer/answer helpers.
import { RelaisError, type Module, type TypedEmitter } from '../shared/index.js';
import { parseCrypto, type SdesCrypto, type SrtpPolicy } from './sdes.js';

/** Audio codecs an endpoint can negotiate. G.722 is relayed only when both bridged legs use it (no transcoding). */
export type Codec = 'PCMU' | 'PCMA' | 'G722';

/** Static RTP payload types (RFC 3551 table 4). */
export const CODEC_PT: Readonly<Record<Codec, number>> = { PCMU: 0, PCMA: 8, G722: 9 };
/** Comfort noise (RFC 3389): accepted on receive and dropped. */
export const CN_PT = 13;
/** Dynamic payload type we offer for telephone-event/8000 (RFC 4733) when we make the offer. */
export const DEFAULT_TELEPHONE_EVENT_PT = 101;
/** Codecs offered when the caller of openEndpoint names none. */
export const DEFAULT_CODECS: readonly Codec[] = ['PCMU', 'PCMA'];

export type ToneName = 'ringback' | 'busy' | 'congestion' | 'beep' | 'dial';
export type ToneCountry = 'FR' | 'US' | 'UK' | 'ES';

/** One item of a play sequence: an 8 kHz mono 16-bit PCM WAV file, a tone, or silence. */
export type PlayItem =
  | { file: string }
  | { tone: ToneName; country?: ToneCountry; durationMs?: number }
  | { silenceMs: number };

export interface PlayOptions {
  /** Restart the sequence when it ends (music on hold) until stopPlay(), close() or a DTMF interrupt. */
  loop?: boolean;
  /** A received DTMF digit stops the sequence (the digit is still emitted as a `dtmf` event). */
  interruptOnDtmf?: boolean;
}

export type PlayResult = 'done' | 'interrupted' | 'stopped';

export type DtmfMethod = 'rfc4733' | 'inband' | 'info';

export interface RecordOptions {
  /** in = what the remote party sends us; out = what we send to it; both = the two mixed (or split when stereo). */
  direction: 'in' | 'out' | 'both';
  /** With direction 'both': left channel = in (this endpoint's party, e.g. the caller), right = out (the other party). */
  stereo?: boolean;
}

export type MediaDirection = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

export type MediaEndpointEvents = {
  /** A DTMF digit (0-9 * # A-D) received from the remote party, once per key press. */
  dtmf: [digit: string, info: { method: DtmfMethod }];
  /** The current play() finished; also settles the play() promise. */
  playDone: [result: PlayResult];
  /** No RTP received for the configured time: the call is probably dead (call control tears it down). */
  rtpTimeout: [];
  /** The endpoint is closed (by close() or by the engine stopping). */
  closed: [];
  /** A non-fatal problem (recording failed, file unreadable, ...): the call goes on. */
  error: [err: MediaError];
};

/** Where an endpoint receives RTP (RTCP on port + 1). */
export interface MediaAddress {
  address: string;
  port: number;
}

/** One media leg: an RTP/RTCP port pair facing one remote party. */
export interface MediaEndpoint extends TypedEmitter<MediaEndpointEvents> {
  readonly id: string;
  readonly callId: string;
  /** Our SDP: an offer when opened without remoteSdp (until setRemoteSdp), else the answer. */
  readonly localSdp: string;
  readonly remoteSdp: string | undefined;
  readonly local: MediaAddress;
  /** Negotiated codec, undefined until the remote SDP is known. */
  readonly codec: Codec | undefined;
  /** The leg's media is SRTP (SDES negotiated); undefined where the engine cannot say. */
  readonly secure?: boolean;
  readonly closed: boolean;
  /**
   * Applies a remote SDP: the answer to our offer, or a new offer (re-INVITE, hold) to which the
   * resolved value is our answer. Always resolves with the local SDP now in force.
   */
  setRemoteSdp(sdp: string): Promise<string>;
  /** Relays media both ways with `other` (transcoding PCMU<->PCMA if needed); replaces any earlier bridge of either. */
  bridge(other: MediaEndpoint): Promise<void>;
  unbridge(): Promise<void>;
  /** Plays to the remote party (replacing bridged audio while it plays); replaces a play in progress ('stopped'). */
  play(items: PlayItem[], opts?: PlayOptions): Promise<PlayResult>;
  stopPlay(): void;
  /** Starts recording to a WAV file (8 kHz 16-bit). Failures (disk full) stop it and emit `error`; the call goes on. */
  record(file: string, opts: RecordOptions): void;
  /** Stops recording; resolves when the WAV file is complete on disk. */
  stopRecord(): Promise<void>;
  /** Sends digits as RFC 4733 events (in-band tones if the remote did not negotiate telephone-event). */
  sendDtmf(digits: string): Promise<void>;
  /**
   * Puts the remote party on hold (on=true: our direction becomes sendonly, or inactive if it sends nothing)
   * or resumes. Resolves with the new local SDP to send in a re-INVITE.
   */
  hold(on: boolean): Promise<string>;
  /** Reports a DTMF digit that arrived by SIP INFO so listeners get all digits from one place. */
  injectDtmf(digit: string, method: DtmfMethod): void;
  /** Releases the ports; idempotent. */
  close(): Promise<void>;
}

export interface OpenEndpointOptions {
  callId: string;
  /** The remote offer: the endpoint answers it. Without it, localSdp is our offer. */
  remoteSdp?: string;
  /** Codecs acceptable on this leg, in preference order (default PCMU, PCMA). */
  codecs?: readonly Codec[];
  /** Overrides the engine's RTP timeout for this endpoint (ms; 0 = never). */
  rtpTimeoutMs?: number;
  /** SDES-SRTP on this leg (default 'off': plain offers, SRTP answered when offered); docs/security.md. */
  srtp?: SrtpPolicy;
}

export interface MediaEngine extends Module {
  openEndpoint(opts: OpenEndpointOptions): Promise<MediaEndpoint>;
  /**
   * True when an endpoint's operations may be started without awaiting the one before (setRemoteSdp then bridge):
   * the engine applies them in the order they were called and checks what bridge needs at the call.
   */
  readonly ordered?: boolean;
  /** Open endpoints (for health and tests). */
  endpointCount(): number;
}

/** Settings shared by every backend. */
export interface MediaEngineConfig {
  /** Address RTP sockets bind to. */
  bind: string;
  /** Address written in our SDP (defaults to bind, or 127.0.0.1 when bind is 0.0.0.0). */
  sdpAddress?: string;
  rtpPortMin: number;
  rtpPortMax: number;
  /** No RTP for this long → `rtpTimeout` (default 30 000 ms; 0 disables). */
  rtpTimeoutMs?: number;
}

export const DEFAULT_RTP_TIMEOUT_MS = 30_000;

export class MediaError extends RelaisError {
  constructor(code: string, message: string, opts: { cause?: unknown } = {}) {
    super(code, message, { status: 488, ...opts });
    this.name = 'MediaError';
  }
}

export const DTMF_DIGITS = '0123456789*#ABCD';

/** Throws MediaError naming the first character that is not a DTMF digit. */
export function checkDtmfDigits(digits: string): string {
  const d = digits.toUpperCase();
  for (const c of digits) {
    if (!DTMF_DIGITS.includes(c.toUpperCase())) throw new MediaError('media.dtmf_invalid', `"${c}" is not a DTMF digit (0-9 * # A-D)`);
  }
  return d;
}

// ------------------------------------------------------------------ SDP (RFC 4566 / RFC 3264)

/** The audio stream a remote SDP describes, reduced to what a relay needs. */
export interface RemoteAudio {
  address: string;
  port: number;
  rtcpPort: number;
  /** Payload types offered, in the remote's preference order, with their encoding names. */
  payloads: { pt: number; name: string; rate: number }[];
  /** telephone-event/8000 payload type, if offered. */
  telephoneEventPt: number | undefined;
  /** a=ptime, if given (ms). */
  ptime: number | undefined;
  direction: MediaDirection;
  sessionId: string;
  sessionVersion: number;
  /** m= transport profile: RTP/AVP, or RTP/SAVP (SRTP required, RFC 3711 §12). */
  profile: 'RTP/AVP' | 'RTP/SAVP';
  /** The a=crypto lines (RFC 4568) whose suite we do, in the remote's order. */
  crypto: SdesCrypto[];
}

const STATIC_NAMES: Record<number, [string, number]> = { 0: ['PCMU', 8000], 8: ['PCMA', 8000], 9: ['G722', 8000], 13: ['CN', 8000] };

/** Parses the first audio m= line of an SDP; throws MediaError('media.sdp_invalid') naming what is wrong. */
interface SdpAudioSection {
  port: number;
  protocol: string;
  payloads: string;
  connection: string | undefined;
  rtp: Map<number, { codec: string; rate: number | undefined }>;
  direction: MediaDirection | undefined;
  rtcpPort: number | undefined;
  ptime: string | undefined;
  crypto: string[];
}

interface SdpScan {
  sessionId: string | undefined;
  sessionVersion: string | undefined;
  connection: string | undefined;
  direction: MediaDirection | undefined;
  audio: SdpAudioSection | undefined;
}

const DIRECTIONS = new Set<string>(['sendrecv', 'sendonly', 'recvonly', 'inactive']);

/**
 * One pass over the lines of an SDP, keeping what a relay needs: o=, session c= and direction, and the first
 * m=audio section with its c=, a=rtpmap, a=rtcp, a=ptime and direction. (A general SDP parser tried every grammar
 * rule on every line: 13 % of the main thread per call at 600 calls/s.) Lines that are not "x=..." are ignored.
 */
function scanSdp(sdp: string): SdpScan {
  const out: SdpScan = { sessionId: undefined, sessionVersion: undefined, connection: undefined, direction: undefined, audio: undefined };
  let section: 'session' | 'audio' | 'other' = 'session';
  let pos = 0;
  while (pos < sdp.length) {
    let eol = sdp.indexOf('\n', pos);
    if (eol < 0) eol = sdp.length;
    const line = sdp.slice(pos, eol > pos && sdp.charCodeAt(eol - 1) === 13 ? eol - 1 : eol);
    pos = eol + 1;
    if (line.length < 2 || line.charCodeAt(1) !== 61) continue;
    const type = line[0];
    const value = line.slice(2);
    if (type === 'm') {
      if (section === 'audio' || out.audio) {
        section = 'other';
        continue;
      }
      const f = value.split(' ').filter(Boolean);
      if (f[0] !== 'audio') {
        section = 'other';
        continue;
      }
      const portText = (f[1] ?? '').split('/')[0]!;
      out.audio = {
        port: /^\d+$/.test(portText) ? Number(portText) : NaN,
        protocol: f[2] ?? '',
        payloads: f.slice(3).join(' '),
        connection: undefined,
        rtp: new Map(),
        direction: undefined,
        rtcpPort: undefined,
        ptime: undefined,
        crypto: [],
      };
      section = 'audio';
      continue;
    }
    if (section === 'other') continue;
    if (type === 'o' && section === 'session') {
      const f = value.split(' ');
      out.sessionId = f[1];
      out.sessionVersion = f[2];
    } else if (type === 'c') {
      // c=IN IP4 192.0.2.1[/ttl]
      const ip = (value.split(' ')[2] ?? '').split('/')[0] || undefined;
      if (section === 'audio') out.audio!.connection = ip;
      else out.connection = ip;
    } else if (type === 'a') {
      const colon = value.indexOf(':');
      const name = colon < 0 ? value.trim() : value.slice(0, colon);
      const arg = colon < 0 ? '' : value.slice(colon + 1);
      if (colon < 0 && DIRECTIONS.has(name)) {
        if (section === 'audio') out.audio!.direction = name as MediaDirection;
        else out.direction = name as MediaDirection;
      } else if (section === 'audio') {
        const a = out.audio!;
        if (name === 'rtpmap') {
          // a=rtpmap:<pt> <encoding>/<clock rate>[/<channels>]
          const m = /^(\d+) ([\w\-.]+)(?:\s*\/(\d+))?/.exec(arg);
          if (m && !a.rtp.has(Number(m[1]))) a.rtp.set(Number(m[1]), { codec: m[2]!, rate: m[3] !== undefined ? Number(m[3]) : undefined });
        } else if (name === 'rtcp') {
          const port = /^(\d+)/.exec(arg);
          if (port) a.rtcpPort = Number(port[1]);
        } else if (name === 'ptime') {
          a.ptime = arg.trim();
        } else if (name === 'crypto') {
          a.crypto.push(arg);
        }
      }
    }
  }
  return out;
}

export function parseRemoteSdp(sdp: string): RemoteAudio {
  if (typeof sdp !== 'string' || !sdp.trim()) throw new MediaError('media.sdp_invalid', 'SDP is empty');
  const s = scanSdp(sdp);
  const m = s.audio;
  if (!m) throw new MediaError('media.sdp_invalid', 'SDP has no m=audio line');
  if (!/^RTP\/S?AVP$/i.test(m.protocol)) throw new MediaError('media.sdp_invalid', `m=audio protocol "${m.protocol}" is not RTP/AVP or RTP/SAVP`);
  const address = m.connection ?? s.connection;
  if (!address) throw new MediaError('media.sdp_invalid', 'SDP has no c= connection address for audio');
  if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(address)) throw new MediaError('media.sdp_invalid', `c= address "${address}" is not IPv4`);
  if (!Number.isInteger(m.port) || m.port < 0 || m.port > 65535) throw new MediaError('media.sdp_invalid', `m=audio port "${m.port}" is not valid`);
  const pts = String(m.payloads ?? '')
    .trim()
    .split(/\s+/)
    .filter(Boolean)
    .map(Number);
  if (!pts.length || pts.some((p) => !Number.isInteger(p) || p < 0 || p > 127)) {
    throw new MediaError('media.sdp_invalid', `m=audio payload list "${m.payloads ?? ''}" is not valid`);
  }
  const payloads = pts.map((pt) => {
    const map = m.rtp.get(pt);
    if (map) return { pt, name: map.codec.toUpperCase(), rate: map.rate ?? 8000 };
    const st = STATIC_NAMES[pt];
    return { pt, name: st ? st[0] : `PT${pt}`, rate: st ? st[1] : 0 };
  });
  const te = payloads.find((p) => p.name === 'TELEPHONE-EVENT' && p.rate === 8000);
  const direction: MediaDirection = m.direction ?? s.direction ?? 'sendrecv';
  const rtcpPort = m.rtcpPort ?? m.port + 1;
  const ptime = m.ptime !== undefined && Number(m.ptime) > 0 ? Number(m.ptime) : undefined;
  return {
    address,
    port: m.port,
    rtcpPort,
    payloads,
    telephoneEventPt: te?.pt,
    ptime,
    // A port of 0 or address 0.0.0.0 (RFC 2543 hold) means: send nothing.
    direction: m.port === 0 || address === '0.0.0.0' ? 'inactive' : direction,
    sessionId: s.sessionId ?? '0',
    sessionVersion: Number(s.sessionVersion ?? 0),
    profile: /^RTP\/SAVP$/i.test(m.protocol) ? 'RTP/SAVP' : 'RTP/AVP',
    crypto: m.crypto.map(parseCrypto).filter((c): c is SdesCrypto => c !== undefined),
  };
}

/** The first codec of the remote's list that we accept (RFC 3264 §6.1: answerer keeps the offerer's order). */
export function chooseCodec(remote: RemoteAudio, accepted: readonly Codec[]): { codec: Codec; pt: number } | undefined {
  for (const p of remote.payloads) {
    const c = (['PCMU', 'PCMA', 'G722'] as Codec[]).find((k) => k === p.name && p.rate === 8000);
    if (c && accepted.includes(c)) return { codec: c, pt: p.pt };
  }
  return undefined;
}

/** The direction we answer with (RFC 3264 §6.1), given what we want locally. */
export function answerDirection(remote: MediaDirection, wanted: MediaDirection = 'sendrecv'): MediaDirection {
  const remoteSends = remote === 'sendrecv' || remote === 'sendonly';
  const remoteRecvs = remote === 'sendrecv' || remote === 'recvonly';
  const weSend = (wanted === 'sendrecv' || wanted === 'sendonly') && remoteRecvs;
  const weRecv = (wanted === 'sendrecv' || wanted === 'recvonly') && remoteSends;
  return weSend && weRecv ? 'sendrecv' : weSend ? 'sendonly' : weRecv ? 'recvonly' : 'inactive';
}

export interface LocalSdpParams {
  address: string;
  port: number;
  sessionId: string;
  sessionVersion: number;
  /** Payload types with names, in order. */
  payloads: { pt: number; name: string }[];
  telephoneEventPt: number | undefined;
  ptime: number;
  direction: MediaDirection;
  /** Default RTP/AVP. */
  profile?: 'RTP/AVP' | 'RTP/SAVP';
  /** a=crypto attribute values (SDES). */
  crypto?: readonly string[];
}

/** Writes our SDP (one audio stream, RTCP on port + 1 implied). */
export function buildLocalSdp(p: LocalSdpParams): string {
  const lines = [
    'v=0',
    `o=relais ${p.sessionId} ${p.sessionVersion} IN IP4 ${p.address}`,
    's=relais',
    `c=IN IP4 ${p.address}`,
    't=0 0',
    `m=audio ${p.port} ${p.profile ?? 'RTP/AVP'} ${[...p.payloads.map((x) => x.pt), ...(p.telephoneEventPt !== undefined ? [p.telephoneEventPt] : [])].join(' ')}`,
  ];
  for (const x of p.payloads) lines.push(`a=rtpmap:${x.pt} ${x.name}/8000`);
  if (p.telephoneEventPt !== undefined) {
    lines.push(`a=rtpmap:${p.telephoneEventPt} telephone-event/8000`, `a=fmtp:${p.telephoneEventPt} 0-16`);
  }
  for (const c of p.crypto ?? []) lines.push(`a=crypto:${c}`);
  lines.push(`a=ptime:${p.ptime}`, `a=${p.direction}`);
  return lines.join('\r\n') + '\r\n';
}

/** The negotiated state of one leg after offer/answer. */
export interface Negotiated {
  codec: Codec;
  /** Payload type for audio in both directions (we answer with the offerer's number). */
  pt: number;
  telephoneEventPt: number | undefined;
  ptime: number;
  /** Our direction. */
  direction: MediaDirection;
  remote: RemoteAudio;
}

/**
 * Offer/answer core shared by backends. `localOffer` is set when we made the offer (then `remote` is the answer).
 * Throws MediaError('media.codec_mismatch') when no codec is common: call control answers 488.
 */
export function negotiate(
  remote: RemoteAudio,
  accepted: readonly Codec[],
  opts: { wantedDirection?: MediaDirection; weOffered?: boolean } = {},
): Negotiated {
  const chosen = chooseCodec(remote, accepted);
  if (!chosen) {
    const offered = remote.payloads.map((p) => p.name).join(', ');
    throw new MediaError('media.codec_mismatch', `no common codec: remote offers ${offered}; we accept ${accepted.join(', ')}`);
  }
  const wanted = opts.wantedDirection ?? 'sendrecv';
  // As answerer we derive our direction from the offer; as offerer we keep what we offered
  // (the answer's direction only tells us what the remote will do).
  const direction = opts.weOffered ? wanted : answerDirection(remote.direction, wanted);
  return {
    codec: chosen.codec,
    pt: chosen.pt,
    telephoneEventPt: remote.telephoneEventPt,
    ptime: remote.ptime && remote.ptime >= 10 && remote.ptime <= 60 && remote.ptime % 10 === 0 ? remote.ptime : 20,
    direction,
    remote,
  };
}

/** Whether the negotiated direction lets us send to / expect media from the remote. */
export function directionSends(d: MediaDirection): boolean {
  return d === 'sendrecv' || d === 'sendonly';
}
export function directionReceives(d: MediaDirection): boolean {
  return d === 'sendrecv' || d === 'recvonly';
}
