// Simulated board for dev machines and CI: remembers LED patterns and reports changes to a listener.
import type { LedDriver, LedName, LedPattern } from '../led.js';

export class SimBoard implements LedDriver {
  readonly kind = 'sim';
  readonly state = new Map<LedName, LedPattern>();

  constructor(private readonly onChange?: (led: LedName, pattern: LedPattern) => void) {}

  set(led: LedName, pattern: LedPattern): void {
    if (this.state.get(led) === pattern) return;
    this.state.set(led, pattern);
    this.onChange?.(led, pattern);
  }

  close(): void {}
}
