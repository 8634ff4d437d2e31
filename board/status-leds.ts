// Drives the status LEDs from a snapshot of the appliance, read once a second (LEDs only observe).
import type { Clock, Module, ModuleHealth, TimerHandle } from '../services/shared/index.js';
import type { LedDriver, LedName, LedPattern } from './led.js';

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

export class StatusLeds implements Module {
  readonly name = 'board';
  private timer: TimerHandle | undefined;
  private running = false;

  constructor(
    private readonly driver: LedDriver,
    private readonly clock: Clock,
    private readonly snapshot: () => BoardSnapshot,
    private readonly periodMs = 1000,
  ) {}

  async start(): Promise<void> {
    this.running = true;
    this.tick();
  }

  refresh(): void {
    const patterns = ledPatterns(this.snapshot());
    for (const [led, pattern] of Object.entries(patterns) as [LedName, LedPattern][]) this.driver.set(led, pattern);
  }

  private tick(): void {
    if (!this.running) return;
    this.refresh();
    this.timer = this.clock.setTimeout(() => this.tick(), this.periodMs);
  }

  async stop(): Promise<void> {
    this.running = false;
    this.clock.clearTimeout(this.timer);
    this.driver.close();
  }

  health(): ModuleHealth {
    return { status: 'ok', detail: { driver: this.driver.kind } };
  }
}
