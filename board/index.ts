// Board: status LEDs (Linux LED class), the reset button (gpio-keys), board definitions, the simulated board.
export { type LedDriver, type LedName, type LedPattern, LED_NAMES, BLINK } from './led.js';
export { SimBoard } from './boards/sim.js';
export { SysfsBoard, RPI_LEDS, type SysfsLedMap } from './boards/sysfs.js';
export { EvdevButton, findKeyDevice, parseKeyEvents, inputEventSize, KEY_RESTART, EV_KEY } from './boards/evdev.js';
export { BOARDS, BOARD_IDS, boardFromModel, readDeviceTreeModel, type BoardId, type BoardDefinition } from './boards/definitions.js';
export { ledPatterns, type BoardSnapshot } from './status-leds.js';
export { ResetButton, BUTTON_TIMINGS, type ButtonInput, type ButtonAction, type ButtonPhase, type ButtonTimings } from './button.js';
export { blinkCode, BLINK_CODE_TIMINGS, type BlinkTimings } from './blink-code.js';
export { FactoryReset, RESET_MARKER, RESET_BACKUP } from './factory-reset.js';
export { BoardController, lanAddresses, type BoardState, type BoardEvents, type BoardOverlay, type BoardControllerOptions } from './board-controller.js';

import { BOARDS, boardFromModel, readDeviceTreeModel, type BoardDefinition, type BoardId } from './boards/definitions.js';
import { EvdevButton } from './boards/evdev.js';
import { SimBoard } from './boards/sim.js';
import { SysfsBoard } from './boards/sysfs.js';
import type { ButtonInput } from './button.js';
import type { LedDriver } from './led.js';

export interface OpenedBoard {
  definition: BoardDefinition;
  leds: LedDriver;
  button: ButtonInput | undefined;
  /** Set when the board is simulated: its LEDs and button, for the API and tests. */
  sim: SimBoard | undefined;
}

/**
 * The board to drive: `auto` reads the device-tree model (Pi 4 → rpi4, CM4 → cm4-hat) and falls back to the
 * simulated board when neither its LEDs nor its button exist (dev machines, CI, containers).
 */
export function openBoard(choice: BoardId | 'auto', opts: { model?: string; onButtonError?: (err: Error) => void } = {}): OpenedBoard {
  const id = choice === 'auto' ? boardFromModel(opts.model ?? readDeviceTreeModel()) : choice;
  const definition = BOARDS[id];
  if (id !== 'sim') {
    const device = definition.button ? EvdevButton.find(definition.button.keyCode) : undefined;
    const ledsThere = SysfsBoard.accessible(definition.leds);
    if (ledsThere || device || choice !== 'auto') {
      return {
        definition,
        leds: new SysfsBoard(definition.leds),
        button: device ? new EvdevButton(device, definition.button!.keyCode, opts.onButtonError) : undefined,
        sim: undefined,
      };
    }
  }
  const sim = new SimBoard();
  return { definition: BOARDS.sim, leds: sim, button: sim, sim };
}
