// The override's feature codes and their BLF lamps (docs/scenarios.md "Day, night and holiday"): *60 day, *61 night,
// *62 holiday, *63 back to automatic. A phone key subscribed to a code (dialog event package) is lit (its dialog
// `override-NN` confirmed) while that code's state is on; when it goes off the next NOTIFY reports that dialog as
// terminated (RFC 4235), then no dialog. *63 is lit while any manual override is on.
import type { OverrideMode } from './condition.js';
import type { SiteCalendar } from './site-calendar.js';

export const OVERRIDE_CODES: Readonly<Record<string, OverrideMode>> = { '*60': 'day', '*61': 'night', '*62': 'holiday', '*63': 'auto' };

/** The presence layer's part the lamps use (services/sip/presence PresenceServer). */
export interface OverrideLampHost {
  addStateProvider(match: (entity: string) => boolean, provider: (entity: string) => 'idle' | { state: 'confirmed'; detail: { id: string } }[]): void;
  setDialogState(entity: string, state: 'idle' | 'confirmed', detail?: { id?: string }): void;
}

/** Is the lamp of this code lit in this override mode? */
export function lampLit(code: string, mode: OverrideMode): boolean {
  const target = OVERRIDE_CODES[code];
  if (target === undefined) return false;
  return target === 'auto' ? mode !== 'auto' : mode === target;
}

/** The dialog id of a code's lamp in dialog-info (`override-60` for *60). */
function lampId(code: string): string {
  return `override-${code.slice(1)}`;
}

/** Makes the codes subscribable and keeps their lamps in step with the override (however it was changed). */
export function attachOverrideLamps(presence: OverrideLampHost, calendar: SiteCalendar): void {
  const codes = Object.keys(OVERRIDE_CODES);
  presence.addStateProvider(
    (entity) => codes.includes(entity),
    // The same dialog id as setDialogState below: a phone that saw the lamp lit sees that very dialog terminated.
    (entity) => (lampLit(entity, calendar.override().mode) ? [{ state: 'confirmed', detail: { id: lampId(entity) } }] : 'idle'),
  );
  calendar.on('override', (state) => {
    for (const code of codes) presence.setDialogState(code, lampLit(code, state.mode) ? 'confirmed' : 'idle', { id: lampId(code) });
  });
}

/** What the feature handler needs from call control (services/call FeatureCall and the SIP stack). */
export interface OverrideFeatureCall {
  caller: { number: string; userId: number | null };
  callerEndpoint: { localSdp: string; play(items: { file: string }[] | { silenceMs: number }[]): Promise<unknown> };
  code: string;
}

export interface OverrideFeatureDeps {
  calendar: SiteCalendar;
  /** May this phone's user switch the office (administrators and users with the `scenarios` right)? */
  mayOverride(userId: number | null): boolean;
  /** Answers the call (200 + ACK); false when the caller hung up first. */
  answer(f: OverrideFeatureCall): Promise<boolean>;
  /** Refuses the call with a SIP status (403 for someone without the right). */
  refuse(f: OverrideFeatureCall, status: number, reason: string): void;
  /** The confirmation prompt's file for a mode, in the site's language (undefined when prompts are missing). */
  confirmation(mode: OverrideMode): string | undefined;
}

/**
 * The handler of *60-*63: switches the override (persisted, lamps follow), answers and says the new mode, then call
 * control hangs up. A phone whose user lacks the right gets 403 and nothing changes.
 */
export function overrideFeatureHandler(deps: OverrideFeatureDeps): (f: OverrideFeatureCall) => Promise<void> {
  return async (f) => {
    const mode = OVERRIDE_CODES[f.code];
    if (mode === undefined) return deps.refuse(f, 404, 'Not Found');
    if (!deps.mayOverride(f.caller.userId)) return deps.refuse(f, 403, 'Forbidden');
    deps.calendar.setOverride(mode, `phone:${f.caller.number}`);
    if (!(await deps.answer(f))) return;
    const file = deps.confirmation(mode);
    await f.callerEndpoint.play(file ? [{ file }] : [{ silenceMs: 500 }]);
  };
}
