// Ring engine: rings an ordered list of targets (users, extensions, external numbers) in a ring mode and returns exactly one winner.
import { Abort, type Clock } from '../shared/index.js';
import type { Extension } from '../directory/index.js';
import { forkInvite, type ForkBranch, type SipResponse } from '../sip/index.js';
import type { Call, Party } from './call.js';
import type { CallBinding, CallDialog, CallSipHost, CallUacOptions, OutboundRoute } from './sip-host.js';
import { statusOf } from './sip-host.js';

/**
 * How the targets are rung (docs/calls.md "Ring engine"):
 * - `simultaneous`: every contact of every target at once, for the ring time;
 * - `sequential`: one target after the other, as listed, each for the ring time;
 * - `random`: the free targets in random order, each for the ring time;
 * - `longest_idle`: the free targets, the one whose user answered a call longest ago (or never) first.
 * "Free" = not in a call already (random and longest idle skip busy targets; the others ring them anyway).
 */
export type RingMode = 'simultaneous' | 'sequential' | 'random' | 'longest_idle';

export const RING_MODES: readonly RingMode[] = ['simultaneous', 'sequential', 'random', 'longest_idle'];

/** Who to ring. A user rings every registered phone of each of its extensions. */
export type RingTarget = { kind: 'user'; userId: number } | { kind: 'extension'; number: string } | { kind: 'external'; number: string };

/** A target once resolved: the party the caller will be talking to and the branches to fork to. */
export interface ResolvedTarget {
  target: RingTarget;
  party: Party;
  /** Extensions behind the target (empty for external numbers). */
  extensions: Extension[];
}

export interface RingRequest {
  call: Call;
  /** Who the callees see calling (From of the INVITEs). */
  caller: Party;
  /** The caller's extension number, when one (outbound route and caller ID choice for external targets). */
  callerExtension?: string | undefined;
  targets: RingTarget[];
  mode: RingMode;
  /** Ring time of each target (sequential, random, longest idle) or of the whole fork (simultaneous). Default 30 s. */
  ringTimeMs?: number | undefined;
  /** The SDP offer sent to every callee (the callee-side media endpoint's, or the caller's in pass-through). */
  offer: string;
  /** 180/183 from a callee (the caller hears ringing or early media). */
  onProgress?: ((r: SipResponse, target: ResolvedTarget) => void) | undefined;
  /** Aborting CANCELs everything (caller hung up). */
  signal?: AbortSignal | undefined;
  /** Called before each target rings (a queue marks the agent offered, a scenario logs it). */
  onTry?: ((target: ResolvedTarget) => void) | undefined;
}

export type RingFailureReason = 'no-answer' | 'busy' | 'unavailable' | 'cancelled' | 'declined';

export type RingResult =
  | { ok: true; dialog: CallDialog; target: ResolvedTarget; binding: CallBinding | undefined }
  | { ok: false; status: number; reason: RingFailureReason; timedOut: boolean; cancelled: boolean };

/** What the engine needs of the rest of the box (narrow, so tests drive it with fakes). */
export interface RingEngineDeps {
  sip: Pick<CallSipHost, 'createUac'>;
  registrar: { lookup(extensionNumber: string): CallBinding[] };
  extensions: { findByNumber(number: string): Extension | undefined; listByUser(userId: number): Extension[] };
  trunks?: { routeOutbound(number: string, callerExtension: string): OutboundRoute | undefined } | undefined;
  clock: Clock;
  domain: string;
  /** An extension already in a call (random / longest idle skip it). */
  isBusy?: ((ext: Extension) => boolean) | undefined;
  /** Do-not-disturb: the extension's phones are not rung. */
  isDnd?: ((ext: Extension) => boolean) | undefined;
  /** Releases a dialog that answered too late (BYE). */
  release: (dialog: CallDialog) => void;
  /** History/log hook: `call.outbound` when a trunk is used. */
  event?: ((call: Call, type: string, data: Record<string, unknown>) => void) | undefined;
  random?: (() => number) | undefined;
}

/** Final status for a caller when every contact failed (RFC 3261 §16.7 step 6, simplified for a PBX). */
export function pickFailureStatus(statuses: number[], timedOut: boolean): number {
  if (statuses.some((s) => s === 486 || s === 600)) return 486;
  if (statuses.includes(603)) return 603;
  if (timedOut) return 480;
  return 480;
}

export const DEFAULT_RING_TIME_MS = 30_000;

interface Branch {
  target: ResolvedTarget;
  binding: CallBinding | undefined;
  uri: string;
  opts: CallUacOptions;
}

export class RingEngine {
  /** userId → when that user last answered a call (longest idle). */
  private readonly lastAnswered = new Map<number, number>();

  constructor(private readonly deps: RingEngineDeps) {}

  /** A user answered a call (longest idle counts from here). */
  noteAnswered(userId: number, at: number): void {
    this.lastAnswered.set(userId, at);
  }

  lastAnsweredAt(userId: number): number | undefined {
    return this.lastAnswered.get(userId);
  }

  /** Turns a target into its party and extensions; undefined when it names nothing (unknown user/extension). */
  resolve(t: RingTarget): ResolvedTarget | undefined {
    if (t.kind === 'external') return { target: t, party: { number: t.number, displayName: t.number, isExtension: false }, extensions: [] };
    const exts = t.kind === 'user' ? this.deps.extensions.listByUser(t.userId) : [this.deps.extensions.findByNumber(t.number)].filter((e): e is Extension => !!e);
    const first = exts[0];
    if (!first) return undefined;
    return { target: t, party: partyOfExtension(first), extensions: exts };
  }

  /** Rings the targets in the mode; exactly one winner, every other branch CANCELled (or BYEd if it answered too). */
  async ring(req: RingRequest): Promise<RingResult> {
    const ringTime = req.ringTimeMs ?? DEFAULT_RING_TIME_MS;
    const resolved = req.targets.map((t) => this.resolve(t)).filter((r): r is ResolvedTarget => !!r);
    const statuses: number[] = [];
    let anyTimedOut = false;
    let tried = 0;
    if (req.mode === 'simultaneous') {
      for (const r of resolved) req.onTry?.(r);
      const branches = resolved.flatMap((r) => this.branches(req, r));
      return this.finish(await this.forkBranches(req, branches, ringTime), statuses, resolved.length > 0 && branches.length === 0);
    }
    let order = resolved;
    if (req.mode === 'random' || req.mode === 'longest_idle') {
      order = resolved.filter((r) => !r.extensions.some((e) => this.deps.isBusy?.(e) === true));
      if (order.length < resolved.length) statuses.push(486);
      if (req.mode === 'random') order = shuffle(order, this.deps.random ?? Math.random);
      else order = [...order].sort((a, b) => this.idleSince(a) - this.idleSince(b));
    }
    for (const r of order) {
      if (req.signal?.aborted) return { ok: false, status: 487, reason: 'cancelled', timedOut: false, cancelled: true };
      const branches = this.branches(req, r);
      if (branches.length === 0) continue;
      tried++;
      req.onTry?.(r);
      const out = await this.forkBranches(req, branches, ringTime);
      if (out.ok || out.cancelled) return this.finish(out, statuses, false);
      anyTimedOut ||= out.timedOut;
      statuses.push(out.status);
    }
    const status = pickFailureStatus(statuses, anyTimedOut);
    return { ok: false, status, reason: failureReason(status, anyTimedOut, tried === 0), timedOut: anyTimedOut, cancelled: false };
  }

  private idleSince(r: ResolvedTarget): number {
    const uid = r.party.userId;
    return uid === null || uid === undefined ? 0 : (this.lastAnswered.get(uid) ?? 0);
  }

  private finish(
    out: { ok: true; dialog: CallDialog; branch: Branch } | { ok: false; status: number; timedOut: boolean; cancelled: boolean },
    earlier: number[],
    noContacts: boolean,
  ): RingResult {
    if (out.ok) return { ok: true, dialog: out.dialog, target: out.branch.target, binding: out.branch.binding };
    if (out.cancelled) return { ok: false, status: 487, reason: 'cancelled', timedOut: false, cancelled: true };
    const status = pickFailureStatus([...earlier, out.status], out.timedOut);
    return { ok: false, status, reason: failureReason(status, out.timedOut, noContacts), timedOut: out.timedOut, cancelled: false };
  }

  /** The INVITE branches of one target: each registered contact of its extensions, or the trunk route of a number. */
  private branches(req: RingRequest, r: ResolvedTarget): Branch[] {
    if (r.target.kind === 'external') {
      const route = this.deps.trunks?.routeOutbound(r.target.number, req.callerExtension ?? '');
      if (!route) return [];
      const presented = route.callerId ?? req.caller.number;
      const fromDomain = route.fromDomain ?? this.deps.domain;
      // The provider shows the number we present; the extension's name only goes out with a presentable number.
      const display = presented === 'anonymous' ? 'Anonymous' : req.caller.displayName.replace(/"/g, '');
      const opts: CallUacOptions = { localSdp: req.offer, headers: { From: `"${display}" <sip:${presented}@${fromDomain}>` } };
      if (route.target) opts.target = route.target;
      if (route.auth) opts.auth = route.auth;
      this.deps.event?.(req.call, 'call.outbound', { trunk: route.trunkName });
      req.call.presentedAs = presented;
      return [{ target: r, binding: undefined, uri: route.uri, opts }];
    }
    const from = `"${req.caller.displayName.replace(/"/g, '')}" <sip:${req.caller.number}@${this.deps.domain}>`;
    const out: Branch[] = [];
    for (const ext of r.extensions) {
      if (this.deps.isDnd?.(ext) === true) continue;
      for (const b of this.deps.registrar.lookup(ext.number)) {
        out.push({
          target: r,
          binding: b,
          uri: b.contact,
          opts: {
            localSdp: req.offer,
            headers: { From: from, To: `<sip:${ext.number}@${this.deps.domain}>` },
            target: {
              address: b.source.address,
              port: b.source.port,
              transport: b.source.transport,
              ...(b.source.connectionId ? { connectionId: b.source.connectionId } : {}),
            },
          },
        });
      }
    }
    return out;
  }

  private async forkBranches(
    req: RingRequest,
    branches: Branch[],
    ringTimeMs: number,
  ): Promise<{ ok: true; dialog: CallDialog; branch: Branch } | { ok: false; status: number; timedOut: boolean; cancelled: boolean }> {
    if (branches.length === 0) return { ok: false, status: 480, timedOut: false, cancelled: false };
    // Hanging up the call aborts its pending attempts (Call.attempts), which CANCELs every branch.
    const ctl = new Abort();
    req.call.attempts.add(ctl);
    const onAbort = (): void => ctl.abort();
    req.signal?.addEventListener('abort', onAbort);
    if (req.signal?.aborted) ctl.abort();
    try {
      const starts: ForkBranch<CallDialog>[] = branches.map((b) => (c) => this.deps.sip.createUac(b.uri, { ...b.opts, signal: c.signal, onProvisional: c.onProvisional }));
      const out = await forkInvite(starts, {
        timeoutMs: ringTimeMs,
        clock: this.deps.clock,
        signal: ctl,
        release: this.deps.release,
        onProvisional: (r, i) => {
          if (r.status === 180 || r.status === 183) req.onProgress?.(r, branches[i]!.target);
        },
      });
      if (out.ok) return { ok: true, dialog: out.dialog, branch: branches[out.branch]! };
      return { ok: false, status: pickFailureStatus(out.failures.map(statusOf), out.timedOut), timedOut: out.timedOut, cancelled: out.cancelled };
    } finally {
      req.call.attempts.delete(ctl);
      req.signal?.removeEventListener('abort', onAbort);
    }
  }
}

function failureReason(status: number, timedOut: boolean, noContacts: boolean): RingFailureReason {
  if (status === 486) return 'busy';
  if (status === 603) return 'declined';
  if (timedOut) return 'no-answer';
  return noContacts ? 'unavailable' : 'unavailable';
}

export function partyOfExtension(ext: Extension): Party {
  return { number: ext.number, displayName: ext.displayName || ext.number, extensionId: ext.id, userId: ext.userId, isExtension: true };
}

function shuffle<T>(list: T[], random: () => number): T[] {
  const a = [...list];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}
