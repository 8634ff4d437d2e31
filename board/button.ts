// The reset button: a press-duration state machine over a ButtonInput (evdev on the box, the simulated board in tests).
//
//  short press (50 ms to 2 s)          → announce-ip
//  held 10 s                           → confirming (the LEDs show the confirmation pattern)
//  released while confirming (5 s)     → factory-reset
//  held past the confirmation window   → cancelled (a stuck or jammed button never wipes the box)
//  released between 2 s and 10 s      → cancelled
import type { Clock, TimerHandle } from '../services/shared/index.js';
import { TypedEmitter } from '../services/shared/index.js';

/** A source of press/release edges: the kernel's gpio-keys device, or the simulated board. */
export interface ButtonInput {
  readonly kind: string;
  onChange(listener: (pressed: boolean) => void): void;
  close(): void;
}

export type ButtonPhase = 'idle' | 'held' | 'confirming' | 'stuck';
export type ButtonAction = 'announce-ip' | 'confirming' | 'factory-reset' | 'cancelled';

export interface ButtonTimings {
  /** Shorter presses are contact bounce (the kernel debounces gpio-keys too). */
  minPressMs: number;
  /** Longest press that still counts as short. */
  shortMaxMs: number;
  /** Hold this long to reach the confirmation pattern. */
  resetHoldMs: number;
  /** Release within this long after the confirmation pattern starts to confirm the reset. */
  confirmWindowMs: number;
}

export const BUTTON_TIMINGS: ButtonTimings = { minPressMs: 50, shortMaxMs: 2000, resetHoldMs: 10_000, confirmWindowMs: 5000 };

export interface ButtonEvents {
  [event: string]: unknown[];
  action: [action: ButtonAction, heldMs: number];
}

export class ResetButton extends TypedEmitter<ButtonEvents> {
  private phase: ButtonPhase = 'idle';
  private pressedAt = 0;
  private timer: TimerHandle | undefined;
  private last: { action: ButtonAction; heldMs: number; at: string } | undefined;

  constructor(
    private readonly clock: Clock,
    readonly timings: ButtonTimings = BUTTON_TIMINGS,
  ) {
    super();
  }

  /** Feeds an edge from the input (true = pressed). Repeated edges of the same kind are ignored. */
  edge(pressed: boolean): void {
    if (pressed) {
      if (this.phase !== 'idle') return;
      this.phase = 'held';
      this.pressedAt = this.clock.monotonic();
      this.timer = this.clock.setTimeout(() => this.reachedResetHold(), this.timings.resetHoldMs);
      return;
    }
    if (this.phase === 'idle') return;
    const held = this.clock.monotonic() - this.pressedAt;
    const phase = this.phase;
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.phase = 'idle';
    if (phase === 'confirming') this.fire('factory-reset', held);
    else if (phase === 'held' && held >= this.timings.minPressMs && held <= this.timings.shortMaxMs) this.fire('announce-ip', held);
    else if (phase === 'held' && held > this.timings.shortMaxMs) this.fire('cancelled', held);
    // 'stuck' was already reported as cancelled when the window closed; a bounce below minPressMs is nothing.
  }

  state(): { phase: ButtonPhase; pressed: boolean; heldMs: number; lastAction: { action: ButtonAction; heldMs: number; at: string } | undefined } {
    const pressed = this.phase !== 'idle';
    return { phase: this.phase, pressed, heldMs: pressed ? Math.round(this.clock.monotonic() - this.pressedAt) : 0, lastAction: this.last };
  }

  close(): void {
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.phase = 'idle';
  }

  private reachedResetHold(): void {
    this.phase = 'confirming';
    this.fire('confirming', this.timings.resetHoldMs);
    this.timer = this.clock.setTimeout(() => {
      this.phase = 'stuck';
      this.timer = undefined;
      this.fire('cancelled', this.timings.resetHoldMs + this.timings.confirmWindowMs);
    }, this.timings.confirmWindowMs);
  }

  private fire(action: ButtonAction, heldMs: number): void {
    this.last = { action, heldMs: Math.round(heldMs), at: new Date(this.clock.now()).toISOString() };
    this.emit('action', action, Math.round(heldMs));
  }
}
