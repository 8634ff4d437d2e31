// The status LEDs' patterns for a snapshot of the appliance (read once a second by the board module).
import type { LedName, LedPattern } from './led.js';

export interface BoardSnapshot {
  health: 'ok' | 'degraded' | 'down';
  registeredPhones: number;
  activeCalls: number;
  ringingCalls: number;
  updating: boolean;
  error: boolean;
}

/** The pattern of each LED for a snapshot: a pure function, tested on its own. */
export function ledPatterns(s: BoardSnapshot): Record<LedName, LedPattern> {
  return {
    power: s.health === 'ok' ? 'on' : s.health === 'degraded' ? 'blink-slow' : 'blink-fast',
    phones: s.registeredPhones > 0 ? 'on' : 'off',
    calls: s.ringingCalls > 0 ? 'blink-fast' : s.activeCalls > 0 ? 'on' : 'off',
    update: s.updating ? 'blink-slow' : 'off',
    error: s.error || s.health === 'down' ? 'on' : 'off',
  };
}
