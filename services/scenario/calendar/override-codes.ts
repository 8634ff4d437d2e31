// The override's feature codes and their BLF lamps (docs/scenarios.md "Day, night and holiday"): *60 day, *61 night,
// *62 holiday, *63 back to automatic. A phone key subscribed to a code (dialog event package) is lit (confirmed)
// while that code's state is on, and off (no dialog) otherwise; *63 is lit while any manual override is on.
import type { OverrideMode } from './condition.js';
import type { SiteCalendar } from './site-calendar.js';

export const OVERRIDE_CODES: Readonly<Record<string, OverrideMode>> = { '*60': 'day', '*61': 'night', '*62': 'holiday', '*63': 'auto' };

/** The presence layer's part the lamps use (services/sip/presence PresenceServer). */
export interface OverrideLampHost {
  addStateProvider(match: (entity: string) => boolean, provider: (entity: string) => 'idle' | 'confirmed'): void;
  setDialogState(entity: string, state: 'idle' | 'confirmed', detail?: { id?: string }): void;
}

/** Is the lamp of this code lit in this override mode? */
export function lampLit(code: string, mode: OverrideMode): boolean {
  const target = OVERRIDE_CODES[code];
  if (target === undefined) return false;
  return target === 'auto' ? mode !== 'auto' : mode === target;
}

/** Makes the codes subscribable and keeps their lamps in step with the override (however it was changed). */
export function attachOverrideLamps(presence: OverrideLampHost, calendar: SiteCalendar): void {
  const codes = Object.keys(OVERRIDE_CODES);
  presence.addStateProvider(
    (entity) => codes.includes(entity),
    (entity) => (lampLit(entity, calendar.override().mode) ? 'confirmed' : 'idle'),
  );
  calendar.on('override', (state) => {
    for (const code of codes) presence.setDialogState(code, lampLit(code, state.mode) ? 'confirmed' : 'idle', { id: `override-${code.slice(1)}` });
  });
}
