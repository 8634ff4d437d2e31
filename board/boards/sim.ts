// Simulated board for dev machines and CI: remembers LED patterns, and has a button a test or the console presses.
import type { ButtonInput } from '../button.js';
import type { LedDriver, LedName, LedPattern } from '../led.js';

export class SimBoard implements LedDriver, ButtonInput {
  readonly kind = 'sim';
  readonly state = new Map<LedName, LedPattern>();
  /** Every LED change in order (tests read blink codes from it). */
  readonly history: { led: LedName; pattern: LedPattern }[] = [];
  private pressed = false;
  private readonly buttonListeners: ((pressed: boolean) => void)[] = [];

  constructor(private readonly onLed?: (led: LedName, pattern: LedPattern) => void) {}

  set(led: LedName, pattern: LedPattern): void {
    if (this.state.get(led) === pattern) return;
    this.state.set(led, pattern);
    this.history.push({ led, pattern });
    if (this.history.length > 1000) this.history.splice(0, this.history.length - 1000);
    this.onLed?.(led, pattern);
  }

  onChange(listener: (pressed: boolean) => void): void {
    this.buttonListeners.push(listener);
  }

  /** The simulated reset button goes down (true) or up (false). */
  setButton(pressed: boolean): void {
    if (this.pressed === pressed) return;
    this.pressed = pressed;
    for (const l of this.buttonListeners) l(pressed);
  }

  buttonPressed(): boolean {
    return this.pressed;
  }

  close(): void {}
}
