// Board: status LEDs (Linux LED class on the Pi, simulated elsewhere).
export { type LedDriver, type LedName, type LedPattern, LED_NAMES, BLINK } from './led.js';
export { SimBoard } from './boards/sim.js';
export { SysfsBoard, RPI_LEDS, type SysfsLedMap } from './boards/sysfs.js';
export { StatusLeds, ledPatterns, type BoardSnapshot } from './status-leds.js';

import { SimBoard } from './boards/sim.js';
import { SysfsBoard } from './boards/sysfs.js';
import type { LedDriver } from './led.js';

/** The real LEDs when the machine has them, the simulated board otherwise (dev machines, CI). */
export function detectBoard(): LedDriver {
  return SysfsBoard.accessible() ? new SysfsBoard() : new SimBoard();
}
