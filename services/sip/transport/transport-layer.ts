// The transport layer (RFC 3261 §18): parses what the transports receive, stamps received/rport, routes responses.
import os from 'node:os';
import { type Logger } from '../../shared/index.js';
import {
  parseLenient,
  parseMessage,
  SipParseError,
  SipRequest,
  SipResponse,
  type SipMessage,
} from '../message/index.js';
import { type SipTransport, type TransportSink } from './sip-transport.js';
import { type Source, type Target, type TransportKind } from './source.js';
import type { FloodControl } from './flood-control.js';

export type MessageHandler = (msg: SipMessage, source: Source) => void;

/** What the transport layer asks about a source (the AuthGuard answers; docs/security.md). */
export interface SourceGuard {
  /** Whether everything from this address is to be dropped unread. */
  isBanned(address: string): boolean;
  /** Looks at a request's User-Agent; true when the request is to be dropped (a scanner, banned now). */
  screen(address: string, userAgent: string | undefined): boolean;
}

export interface TransportCounters {
  received: number;
  parseErrors: number;
  badRequestsAnswered: number;
  dropped: number;
  /** Messages from banned addresses, dropped unread. */
  blocked: number;
  /** Requests from scanners (by User-Agent), dropped. */
  scanners: number;
  /** Messages over a source's flood budget (or the shared one), dropped unread and unanswered. */
  flooded: number;
}

/** First non-internal IPv4 address: what a wildcard bind advertises in Via/Contact. */
function primaryIPv4(): string {
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}

/** NAT keep-alives phones send over UDP: bare CRLFs or NUL/space padding (RFC 5626 §3.5.1 uses CRLF on streams). */
function isKeepAlive(buf: Buffer): boolean {
  for (const b of buf) if (b !== 13 && b !== 10 && b !== 0 && b !== 32) return false;
  return true;
}

export class TransportLayer implements TransportSink {
  private readonly transports = new Map<TransportKind, SipTransport>();
  private handler: MessageHandler = () => {};
  readonly counters: TransportCounters = { received: 0, parseErrors: 0, badRequestsAnswered: 0, dropped: 0, blocked: 0, scanners: 0, flooded: 0 };
  private guard: SourceGuard | undefined;
  private flood: FloodControl | undefined;
  /** Address written in Via sent-by and Contact. */
  readonly advertisedAddress: string;

  constructor(
    bind: string,
    private readonly log: Logger,
    advertise?: string,
  ) {
    this.advertisedAddress = advertise ?? (bind === '0.0.0.0' ? primaryIPv4() : bind);
  }

  add(t: SipTransport): void {
    this.transports.set(t.kind, t);
  }

  onReceive(handler: MessageHandler): void {
    this.handler = handler;
  }

  async listen(): Promise<void> {
    for (const t of this.transports.values()) await t.listen(this);
  }

  async close(): Promise<void> {
    for (const t of this.transports.values()) await t.close();
  }

  port(kind: TransportKind = 'udp'): number {
    return this.transports.get(kind)?.port() ?? 0;
  }

  isReliable(kind: TransportKind): boolean {
    return this.transports.get(kind)?.reliable ?? false;
  }

  hasConnection(connectionId: string): boolean {
    for (const t of this.transports.values()) if (t.hasConnection(connectionId)) return true;
    return false;
  }

  /** See SipTransport.setMulticast: only the UDP transport bound to 0.0.0.0 can. */
  setMulticast(group: string, iface: string, join: boolean): boolean {
    return this.transports.get('udp')?.setMulticast?.(group, iface, join) ?? false;
  }

  // ---- receiving -----------------------------------------------------------------------------------------------

  /** Messages from banned addresses are dropped unread, scanners' requests dropped after parsing (AuthGuard). */
  setGuard(guard: SourceGuard | undefined): void {
    this.guard = guard;
  }

  /** Per-source rate limits checked before parsing (docs/security.md); undefined = none. */
  setFloodControl(flood: FloodControl | undefined): void {
    this.flood = flood;
  }

  stats(): Record<string, unknown> {
    const out: Record<string, unknown> = { ...this.counters };
    for (const [k, t] of this.transports) out[k] = t.stats();
    if (this.flood) out['flood'] = { ...this.flood.counters, sources: this.flood.tracked };
    return out;
  }

  onMessage(buf: Buffer, source: Source): void {
    const guard = this.guard;
    if (guard?.isBanned(source.address)) {
      this.counters.blocked++;
      return;
    }
    if (this.flood && !this.flood.admit(source.address)) {
      this.counters.flooded++;
      return;
    }
    if (buf.length <= 8 && isKeepAlive(buf)) return;
    this.counters.received++;
    let msg: SipMessage;
    try {
      msg = parseMessage(buf);
    } catch (err) {
      this.rejectMalformed(err, buf, source);
      return;
    }
    if (msg instanceof SipRequest) {
      if (guard?.screen(source.address, msg.get('user-agent'))) {
        this.counters.scanners++;
        return;
      }
      try {
        this.stampVia(msg, source);
      } catch (err) {
        this.rejectMalformed(err, buf, source);
        return;
      }
    }
    try {
      this.handler(msg, source);
    } catch (err) {
      // A bug above must not take the process down; the message is lost, the stack keeps running.
      this.log.error('sip message handler failed', { error: err instanceof Error ? err.stack : String(err) });
    }
  }

  onFramingError(reason: string, partial: Buffer, source: Source): void {
    this.rejectMalformed(new SipParseError(reason), partial, source);
  }

  /**
   * §18.2.1: add "received" when sent-by differs from the packet source; RFC 3581 §4: fill in an empty rport
   * (and then always add received).
   */
  private stampVia(req: SipRequest, source: Source): void {
    const via = req.via();
    const rport = via.rport;
    if (via.host !== source.address || rport === null) {
      via.params['received'] = source.address;
      if (rport === null) via.params['rport'] = String(source.port);
      req.setTopVia(via);
    }
  }

  /** Malformed: 400 (or 505) with the reason when the request carries enough to address a response, else drop. */
  private rejectMalformed(err: unknown, buf: Buffer, source: Source): void {
    this.counters.parseErrors++;
    const e = err instanceof SipParseError ? err : new SipParseError(String(err));
    const partial = parseLenient(buf);
    if (partial instanceof SipRequest && partial.method !== 'ACK') {
      try {
        const res = SipResponse.to(partial, e.sipStatus, e.reason);
        // Only what addresses the reply must be sound: Via routes it, Call-ID and CSeq let the client match it.
        // From/To are copied verbatim even when they are what is malformed.
        if (!res.has('call-id') || !res.has('cseq') || !res.has('from') || !res.has('to')) throw new Error('not answerable');
        let sourceVia;
        try {
          sourceVia = res.via();
        } catch {
          // A Via of another SIP version (SIP/7.0/UDP) or otherwise unreadable, copied verbatim: the answer goes
          // back where the request came from (as rport would), over the same connection for TCP.
          sourceVia = undefined;
        }
        if (sourceVia && (sourceVia.host !== source.address || sourceVia.rport === null)) {
          sourceVia.params['received'] = source.address;
          if (sourceVia.rport === null) sourceVia.params['rport'] = String(source.port);
          res.setTopVia(sourceVia);
        }
        this.counters.badRequestsAnswered++;
        this.log.debug('malformed request answered', { status: e.sipStatus, reason: e.reason, from: `${source.address}:${source.port}` });
        const back: Target = { transport: source.transport, address: source.address, port: source.port, ...(source.connectionId ? { connectionId: source.connectionId } : {}) };
        void (sourceVia ? this.sendResponse(res, source) : this.sendRaw(res.serialize(), back)).catch(() => {});
        return;
      } catch {
        /* not enough to build a response: drop below */
      }
    }
    this.counters.dropped++;
    this.noteMalformed(e.reason, source);
  }

  private lastWarnAt = -Infinity;
  private droppedSinceWarn = 0;

  /** Dropped messages are logged at warn at most every 10 s (a flood must not flood the log), else at debug. */
  private noteMalformed(reason: string, source: Source): void {
    this.droppedSinceWarn++;
    const now = performance.now();
    const fields = { reason, from: `${source.address}:${source.port}`, transport: source.transport };
    if (now - this.lastWarnAt >= 10_000) {
      this.log.warn('malformed SIP message dropped', { ...fields, droppedSinceLastWarning: this.droppedSinceWarn });
      this.lastWarnAt = now;
      this.droppedSinceWarn = 0;
    } else {
      this.log.debug('malformed SIP message dropped', fields);
    }
  }

  // ---- sending -------------------------------------------------------------------------------------------------

  /** Sends bytes to a target on its transport; resolves the flow used (with connectionId for TCP). */
  sendRaw(buf: Buffer, target: Target): Promise<Source> {
    const t = this.transports.get(target.transport);
    if (!t) return Promise.reject(new Error(`no ${target.transport} transport`));
    return t.send(buf, target);
  }

  sendRequest(req: SipRequest, target: Target): Promise<Source> {
    return this.sendRaw(req.serialize(), target);
  }

  /** Where a response goes (§18.2.2 with RFC 3581 §4): the same connection, else received/rport, else sent-by. */
  responseTarget(res: SipResponse, source: Source): Target {
    const via = res.via();
    const viaTransport = via.transport.toLowerCase();
    const transport = (viaTransport === 'tcp' || viaTransport === 'tls' ? viaTransport : source.transport) as TransportKind;
    if (source.transport !== 'udp' && source.connectionId && this.hasConnection(source.connectionId)) {
      return { transport: source.transport, address: source.address, port: source.port, connectionId: source.connectionId };
    }
    const address = via.received ?? via.host.replace(/^\[|\]$/g, '');
    const rport = via.rport;
    const port = typeof rport === 'number' && rport > 0 ? rport : (via.port ?? 5060);
    return { transport, address, port };
  }

  sendResponse(res: SipResponse, source: Source): Promise<Source> {
    return this.sendRaw(res.serialize(), this.responseTarget(res, source));
  }
}
