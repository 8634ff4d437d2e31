// Status LEDs of the box: names, patterns, and the driver seam a board implements.

export type LedName = 'power' | 'phones' | 'calls' | 'update' | 'error';
export type LedPattern = 'off' | 'on' | 'blink-slow' | 'blink-fast';

export const LED_NAMES: readonly LedName[] = ['power', 'phones', 'calls', 'update', 'error'];

/** Blink timings in ms (on, off). */
export const BLINK: Record<'blink-slow' | 'blink-fast', [number, number]> = {
  'blink-slow': [500, 500],
  'blink-fast': [100, 100],
};

export interface LedDriver {
  readonly kind: string;
  set(led: LedName, pattern: LedPattern): void;
  close(): void;
}
