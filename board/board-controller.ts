// The board module: status LEDs from the appliance's snapshot, the reset button's actions, and the overlays
// (IP blink code, factory-reset confirmation) that take the LEDs over for a while. State readable for the API.
import os from 'node:os';
import type { Clock, Logger, Module, ModuleHealth, TimerHandle } from '../services/shared/index.js';
import { TypedEmitter } from '../services/shared/index.js';
import { blinkCode, BLINK_CODE_TIMINGS, type BlinkTimings } from './blink-code.js';
import { BUTTON_TIMINGS, ResetButton, type ButtonAction, type ButtonInput, type ButtonPhase, type ButtonTimings } from './button.js';
import type { BoardDefinition } from './boards/definitions.js';
import { LED_NAMES, type LedDriver, type LedName, type LedPattern } from './led.js';
import { ledPatterns, type BoardSnapshot } from './status-leds.js';

export type BoardOverlay = 'none' | 'ip-code' | 'reset-confirm' | 'resetting';

/** What GET /api/system/board shows. */
export interface BoardState {
  board: string;
  title: string;
  driver: string;
  simulated: boolean;
  leds: Record<LedName, LedPattern>;
  overlay: BoardOverlay;
  button: {
    input: string | undefined;
    phase: ButtonPhase;
    pressed: boolean;
    heldMs: number;
    lastAction: { action: ButtonAction; heldMs: number; at: string } | undefined;
  };
}

export interface BoardEvents {
  [event: string]: unknown[];
  /** An LED changed pattern (console mirrors the front panel). */
  led: [led: LedName, pattern: LedPattern];
  /** The button did something: announce-ip, confirming, factory-reset, cancelled. */
  button: [action: ButtonAction, heldMs: number];
  /** A short press: the addresses the console is reachable at. */
  'ip-announced': [addresses: string[]];
  /** The factory reset was confirmed and requested; Relais restarts into first run. */
  'factory-reset': [];
}

export interface BoardControllerOptions {
  definition: BoardDefinition;
  leds: LedDriver;
  button: ButtonInput | undefined;
  clock: Clock;
  logger: Logger;
  snapshot: () => BoardSnapshot;
  /** The box's LAN addresses (IPv4 first); default: the machine's non-internal interfaces. */
  addresses?: () => string[];
  /** Wipes the data (safely) and restarts into first run. */
  factoryReset: () => void | Promise<void>;
  periodMs?: number;
  buttonTimings?: ButtonTimings;
  blinkTimings?: BlinkTimings;
}

export function lanAddresses(): string[] {
  const v4: string[] = [];
  const v6: string[] = [];
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) {
      if (a.internal) continue;
      (a.family === 'IPv4' ? v4 : v6).push(a.address);
    }
  }
  return [...v4, ...v6];
}

export class BoardController implements Module {
  readonly name = 'board';
  readonly observer = new TypedEmitter<BoardEvents>();
  readonly button: ResetButton;
  private readonly leds = new Map<LedName, LedPattern>();
  private overlay: BoardOverlay = 'none';
  private pollTimer: TimerHandle | undefined;
  private overlayTimer: TimerHandle | undefined;
  private running = false;
  private readonly log: Logger;

  constructor(private readonly opts: BoardControllerOptions) {
    this.log = opts.logger.child({ module: 'board' });
    this.button = new ResetButton(opts.clock, opts.buttonTimings ?? BUTTON_TIMINGS);
    this.button.on('action', (action, heldMs) => this.onButton(action, heldMs));
    opts.button?.onChange((pressed) => this.button.edge(pressed));
  }

  async start(): Promise<void> {
    this.running = true;
    this.poll();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.opts.clock.clearTimeout(this.pollTimer);
    this.opts.clock.clearTimeout(this.overlayTimer);
    this.button.close();
    this.opts.button?.close();
    for (const led of LED_NAMES) this.opts.leds.set(led, 'off');
    this.opts.leds.close();
  }

  health(): ModuleHealth {
    return { status: 'ok', detail: { board: this.opts.definition.id, driver: this.opts.leds.kind, button: this.opts.button?.kind ?? null } };
  }

  state(): BoardState {
    const b = this.button.state();
    return {
      board: this.opts.definition.id,
      title: this.opts.definition.title,
      driver: this.opts.leds.kind,
      simulated: this.opts.leds.kind === 'sim',
      leds: Object.fromEntries(LED_NAMES.map((led) => [led, this.leds.get(led) ?? 'off'])) as Record<LedName, LedPattern>,
      overlay: this.overlay,
      button: { input: this.opts.button?.kind, ...b },
    };
  }

  /** Applies the status patterns now (after an overlay, or when something changed that should show at once). */
  refresh(): void {
    if (this.overlay !== 'none') return;
    const patterns = ledPatterns(this.opts.snapshot());
    for (const led of LED_NAMES) this.set(led, patterns[led]);
  }

  /** A short press without a button: the console's "show IP" and tests. */
  announceIp(): string[] {
    const addresses = (this.opts.addresses ?? lanAddresses)();
    const v4 = addresses.find((a) => /^\d+\.\d+\.\d+\.\d+$/.test(a));
    this.log.info('reset button: console address', { addresses, console: addresses.map((a) => `http://${a.includes(':') ? `[${a}]` : a}/`) });
    this.observer.emit('ip-announced', addresses);
    if (v4 && this.overlay === 'none') this.playBlinkCode(Number(v4.split('.')[3]));
    return addresses;
  }

  private onButton(action: ButtonAction, heldMs: number): void {
    this.log.info('reset button', { action, heldMs });
    this.observer.emit('button', action, heldMs);
    if (action === 'announce-ip') this.announceIp();
    else if (action === 'confirming') this.showOverlay('reset-confirm', { power: 'blink-fast', phones: 'blink-fast', calls: 'blink-fast', update: 'blink-fast', error: 'blink-fast' });
    else if (action === 'cancelled') this.endOverlay();
    else if (action === 'factory-reset') {
      this.showOverlay('resetting', { power: 'off', phones: 'off', calls: 'off', update: 'off', error: 'on' });
      this.log.warn('factory reset confirmed on the board: data moved to the factory backup, restarting into first run');
      this.observer.emit('factory-reset');
      void Promise.resolve()
        .then(() => this.opts.factoryReset())
        .catch((err: unknown) => {
          this.log.error('factory reset failed', { error: (err as Error).message });
          this.endOverlay();
        });
    }
  }

  private playBlinkCode(value: number): void {
    const steps = blinkCode(value, this.opts.blinkTimings ?? BLINK_CODE_TIMINGS);
    this.showOverlay('ip-code', { power: 'off', phones: 'off', calls: 'off', update: 'off', error: 'off' });
    let i = 0;
    const next = (): void => {
      if (this.overlay !== 'ip-code') return;
      const step = steps[i++];
      if (!step) return this.endOverlay();
      this.set('update', step[0] ? 'on' : 'off');
      this.overlayTimer = this.opts.clock.setTimeout(next, step[1]);
    };
    next();
  }

  private showOverlay(overlay: BoardOverlay, patterns: Record<LedName, LedPattern>): void {
    this.opts.clock.clearTimeout(this.overlayTimer);
    this.overlay = overlay;
    for (const led of LED_NAMES) this.set(led, patterns[led]);
  }

  private endOverlay(): void {
    if (this.overlay === 'resetting') return;
    this.opts.clock.clearTimeout(this.overlayTimer);
    this.overlay = 'none';
    this.refresh();
  }

  private set(led: LedName, pattern: LedPattern): void {
    if (this.leds.get(led) === pattern) return;
    this.leds.set(led, pattern);
    this.opts.leds.set(led, pattern);
    this.observer.emit('led', led, pattern);
  }

  private poll(): void {
    if (!this.running) return;
    this.refresh();
    this.pollTimer = this.opts.clock.setTimeout(() => this.poll(), this.opts.periodMs ?? 1000);
  }
}
