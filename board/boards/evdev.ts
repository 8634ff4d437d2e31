// The reset button as the kernel's gpio-keys input device (/dev/input/eventN), read in plain Node.
//
// Why gpio-keys and not onoff: the kernel debounces the line and reports press/release as input events; the
// line, pull-up and key code are set once in config.txt (dtoverlay=gpio-key), so no GPIO numbering (which moved
// to 512+ with Linux 6.6) lives in Relais; and no native addon has to be cross-compiled for the image (onoff
// needs the `epoll` addon and the deprecated /sys/class/gpio interface). See docs/appliance.md "Reset button".
import fs from 'node:fs';
import type { ButtonInput } from '../button.js';

/** linux/input-event-codes.h */
export const EV_KEY = 1;
export const KEY_RESTART = 408;

/** struct input_event: a struct timeval (two longs) then u16 type, u16 code, s32 value. */
export function inputEventSize(arch64 = ['arm64', 'x64', 'ppc64', 's390x', 'riscv64', 'loong64', 'mips64el'].includes(process.arch)): number {
  return arch64 ? 24 : 16;
}

/** Key edges in a chunk of input events: true = pressed, false = released; autorepeat (2) is ignored. */
export function parseKeyEvents(buf: Buffer, keyCode: number, size = inputEventSize()): boolean[] {
  const out: boolean[] = [];
  for (let off = 0; off + size <= buf.length; off += size) {
    const type = buf.readUInt16LE(off + size - 8);
    const code = buf.readUInt16LE(off + size - 6);
    const value = buf.readInt32LE(off + size - 4);
    if (type === EV_KEY && code === keyCode && (value === 0 || value === 1)) out.push(value === 1);
  }
  return out;
}

/**
 * Finds the event device that has `keyCode` in its key bitmap (/proc/bus/input/devices: "B: KEY=" is a bitmap
 * in words of the kernel's long, most significant word first).
 */
export function findKeyDevice(devices: string, keyCode: number, wordBits = inputEventSize() === 24 ? 64 : 32): string | undefined {
  for (const block of devices.split(/\n\s*\n/)) {
    const handler = /^H: Handlers=.*\b(event\d+)\b/m.exec(block)?.[1];
    const keys = /^B: KEY=([0-9a-f ]+)$/im.exec(block)?.[1];
    if (!handler || !keys) continue;
    const words = keys.trim().split(/\s+/).reverse();
    const word = words[Math.floor(keyCode / wordBits)];
    if (word === undefined) continue;
    if ((BigInt(`0x${word}`) >> BigInt(keyCode % wordBits)) & 1n) return `/dev/input/${handler}`;
  }
  return undefined;
}

export class EvdevButton implements ButtonInput {
  readonly kind = 'gpio-keys';
  private stream: fs.ReadStream | undefined;
  private readonly listeners: ((pressed: boolean) => void)[] = [];

  constructor(
    readonly device: string,
    private readonly keyCode = KEY_RESTART,
    private readonly onError: (err: Error) => void = () => {},
  ) {
    // A ReadStream keeps one libuv pool thread in a blocking read on the device; the button is the only such reader.
    this.stream = fs.createReadStream(device, { highWaterMark: inputEventSize() * 16 });
    let rest = Buffer.alloc(0);
    this.stream.on('data', (chunk: Buffer | string) => {
      const buf = Buffer.concat([rest, Buffer.from(chunk)]);
      const whole = buf.length - (buf.length % inputEventSize());
      rest = buf.subarray(whole);
      for (const pressed of parseKeyEvents(buf.subarray(0, whole), this.keyCode)) for (const l of this.listeners) l(pressed);
    });
    this.stream.on('error', (err) => this.onError(err));
  }

  /** The event device of the reset key on this machine, if any. */
  static find(keyCode = KEY_RESTART, devicesFile = '/proc/bus/input/devices'): string | undefined {
    try {
      return findKeyDevice(fs.readFileSync(devicesFile, 'utf8'), keyCode);
    } catch {
      return undefined;
    }
  }

  onChange(listener: (pressed: boolean) => void): void {
    this.listeners.push(listener);
  }

  close(): void {
    this.stream?.destroy();
    this.stream = undefined;
  }
}
