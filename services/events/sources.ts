// Publishers of the appliance's own parts on the event bus: calls, phone registrations, trunk registrations.
import type { CallEvents, CallInfo } from '../call/index.js';
import type { Binding } from '../sip/index.js';
import type { TypedEmitter } from '../shared/index.js';
import type { CallView, EventBus, RegistrationView, TrunkStatusView } from './event-bus.js';

export function callView(c: CallInfo): CallView {
  const party = (p: CallInfo['caller']): CallView['caller'] => ({ number: p.number, displayName: p.displayName, isExtension: p.isExtension });
  return {
    id: c.id,
    direction: c.direction,
    state: c.state,
    caller: party(c.caller),
    callee: party(c.callee),
    startedAt: c.startedAt,
    answeredAt: c.answeredAt ?? null,
    endedAt: c.endedAt ?? null,
    cause: c.cause ?? null,
    did: c.did ?? null,
  };
}

export function registrationView(b: Binding): RegistrationView {
  return {
    extension: b.extensionNumber,
    contact: b.contact,
    address: `${b.source.address}:${b.source.port}`,
    transport: b.source.transport,
    userAgent: b.userAgent ?? null,
    expiresAt: b.expiresAt,
  };
}

/** Calls: started (first sight of a call), ringing, answered, ended; the snapshot lists the calls in progress. */
export function publishCalls(bus: EventBus, observer: TypedEmitter<CallEvents>, active: () => CallInfo[]): void {
  // The call service says "ringing" first; the console also wants "started" for a call it has never seen.
  const seen = new Set<string>();
  const first = (c: CallInfo): void => {
    if (seen.has(c.id)) return;
    seen.add(c.id);
    bus.publish('call.started', callView(c));
  };
  observer.on('call.ringing', (c) => {
    first(c);
    bus.publish('call.ringing', callView(c));
  });
  observer.on('call.answered', (c) => {
    first(c);
    bus.publish('call.answered', callView(c));
  });
  observer.on('call.ended', (c) => {
    first(c);
    seen.delete(c.id);
    bus.publish('call.ended', callView(c));
  });
  bus.addSnapshotSource({ key: 'calls', audience: null, read: () => active().map(callView) });
}

export interface RegistrationSource {
  on(event: 'registered' | 'unregistered' | 'expired', listener: (b: Binding) => void): unknown;
  allBindings(): Binding[];
}

export function publishRegistrations(bus: EventBus, registrar: RegistrationSource): void {
  registrar.on('registered', (b) => bus.publish('registration.added', registrationView(b)));
  registrar.on('unregistered', (b) => bus.publish('registration.removed', { ...registrationView(b), reason: 'unregistered' }));
  registrar.on('expired', (b) => bus.publish('registration.removed', { ...registrationView(b), reason: 'expired' }));
  bus.addSnapshotSource({ key: 'registrations', audience: null, read: () => registrar.allBindings().map(registrationView) });
}

export interface TrunkStatusSource {
  on(event: 'status', listener: (e: { trunk: string; status: { state: string; lastError: string | undefined } }) => void): unknown;
  status(): { name: string; enabled: boolean; registration: { state: string; lastError: string | undefined } | 'ip' }[];
}

export function trunkStatusViews(trunks: TrunkStatusSource): TrunkStatusView[] {
  return trunks.status().map((t) => ({
    trunk: t.name,
    state: !t.enabled ? 'disabled' : t.registration === 'ip' ? 'ip' : t.registration.state,
    detail: t.registration === 'ip' ? undefined : t.registration.lastError,
  }));
}

export function publishTrunks(bus: EventBus, trunks: TrunkStatusSource): void {
  trunks.on('status', (e) => bus.publish('trunk.status', { trunk: e.trunk, state: e.status.state, detail: e.status.lastError }));
  bus.addSnapshotSource({ key: 'trunks', audience: 'trunks', read: () => trunkStatusViews(trunks) });
}

export interface VoicemailSource {
  onDeposited: ((e: { extension: string; id: number; file: string; durationMs: number; caller: string }) => void) | undefined;
  repo: { get(id: number): { extensionId: number | null } | undefined };
}

/** New voicemail messages (the console's bell, e-mail notifications): voicemail.new with the mailbox it is in. */
export function publishVoicemail(bus: EventBus, vm: VoicemailSource): void {
  const previous = vm.onDeposited;
  vm.onDeposited = (e) => {
    previous?.(e);
    const inExtension = (vm.repo.get(e.id)?.extensionId ?? null) !== null;
    bus.publish('voicemail.new', { id: e.id, extension: inExtension ? e.extension : null, number: inExtension ? null : e.extension, caller: e.caller });
  };
}
