// Board definitions: which LED names (Linux LED class) and which input key each supported board uses.
// The GPIO lines themselves are set in the image's config.txt overlays (docs/appliance.md "Board wiring").
import fs from 'node:fs';
import type { LedName } from '../led.js';
import { KEY_RESTART } from './evdev.js';
import type { SysfsLedMap } from './sysfs.js';

export type BoardId = 'rpi4' | 'cm4-hat' | 'sim';
export const BOARD_IDS: readonly BoardId[] = ['rpi4', 'cm4-hat', 'sim'];

export interface BoardDefinition {
  id: BoardId;
  title: string;
  /** LED class names per status LED. */
  leds: SysfsLedMap;
  /** BCM GPIO line of each LED that the overlay drives (on-board LEDs have none). */
  ledGpios: Partial<Record<LedName, number>>;
  /** The reset button: BCM GPIO line (active low, pull-up) and the key code the gpio-key overlay reports. */
  button: { gpio: number; keyCode: number } | undefined;
}

export const BOARDS: Record<BoardId, BoardDefinition> = {
  // A Pi 4 with three LEDs and a push button on the 40-pin header; PWR and ACT are the on-board LEDs.
  rpi4: {
    id: 'rpi4',
    title: 'Raspberry Pi 4 Model B',
    leds: { power: 'PWR', calls: 'ACT', phones: 'relais:green:phones', update: 'relais:amber:update', error: 'relais:red:error' },
    ledGpios: { phones: 23, update: 24, error: 25 },
    button: { gpio: 17, keyCode: KEY_RESTART },
  },
  // A CM4 on the Relais SIP/FXO hat carrier: five LEDs and the recessed reset button on the hat.
  'cm4-hat': {
    id: 'cm4-hat',
    title: 'Compute Module 4 with the Relais hat',
    leds: { power: 'relais:green:power', phones: 'relais:green:phones', calls: 'relais:green:calls', update: 'relais:amber:update', error: 'relais:red:error' },
    ledGpios: { power: 5, phones: 6, calls: 13, update: 19, error: 26 },
    button: { gpio: 16, keyCode: KEY_RESTART },
  },
  sim: {
    id: 'sim',
    title: 'Simulated board (no GPIO on this machine)',
    leds: {},
    ledGpios: {},
    button: undefined,
  },
};

/** The board from the device tree's model string ("Raspberry Pi 4 Model B Rev 1.4", "Raspberry Pi Compute Module 4 Rev 1.0"). */
export function boardFromModel(model: string | undefined): BoardId {
  if (!model) return 'sim';
  if (/Compute Module 4/i.test(model)) return 'cm4-hat';
  if (/Raspberry Pi 4/i.test(model)) return 'rpi4';
  return 'sim';
}

export function readDeviceTreeModel(file = '/proc/device-tree/model'): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8').replace(/\0/g, '').trim();
  } catch {
    return undefined;
  }
}
