// LEDs through the Linux LED class (/sys/class/leds/<name>), as the Pi's gpio-leds overlay exposes them:
// blinking is done by the kernel's timer trigger, so no Node timer runs per LED.
import fs from 'node:fs';
import path from 'node:path';
import { BLINK, type LedDriver, type LedName, type LedPattern } from '../led.js';

export type SysfsLedMap = Partial<Record<LedName, string>>;

/** Default mapping on a Raspberry Pi 4 / CM4 with the Relais overlay; ACT and PWR are the on-board LEDs. */
export const RPI_LEDS: SysfsLedMap = {
  power: 'PWR',
  calls: 'ACT',
  phones: 'relais:green:phones',
  update: 'relais:amber:update',
  error: 'relais:red:error',
};

export class SysfsBoard implements LedDriver {
  readonly kind = 'sysfs';

  constructor(
    private readonly map: SysfsLedMap = RPI_LEDS,
    private readonly root = '/sys/class/leds',
  ) {}

  /** True when at least one mapped LED exists on this machine. */
  static accessible(map: SysfsLedMap = RPI_LEDS, root = '/sys/class/leds'): boolean {
    return Object.values(map).some((name) => name !== undefined && fs.existsSync(path.join(root, name)));
  }

  set(led: LedName, pattern: LedPattern): void {
    const name = this.map[led];
    if (!name) return;
    const dir = path.join(this.root, name);
    if (!fs.existsSync(dir)) return;
    if (pattern === 'off' || pattern === 'on') {
      this.write(dir, 'trigger', 'none');
      this.write(dir, 'brightness', pattern === 'on' ? '1' : '0');
    } else {
      const [on, off] = BLINK[pattern];
      this.write(dir, 'trigger', 'timer');
      this.write(dir, 'delay_on', String(on));
      this.write(dir, 'delay_off', String(off));
    }
  }

  close(): void {
    for (const led of Object.keys(this.map) as LedName[]) this.set(led, 'off');
  }

  private write(dir: string, file: string, value: string): void {
    try {
      fs.writeFileSync(path.join(dir, file), value);
    } catch {
      // An LED that cannot be written must never take the PBX down.
    }
  }
}
