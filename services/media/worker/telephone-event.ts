// RFC 4733 §2.3 telephone-event payload (DTMF named events 0-15): pure parse/serialize and digit mapping.

/*
 *  0                   1                   2                   3
 * |     event     |E|R| volume    |          duration             |
 */
export const TELEPHONE_EVENT_LENGTH = 4;
const EVENT_DIGITS = '0123456789*#ABCD';

export interface TelephoneEvent {
  event: number;
  end: boolean;
  volume: number;
  duration: number;
}

/** Digit for an RFC 4733 event code 0-15, or undefined for other events (flash, tones). */
export function eventDigit(event: number): string | undefined {
  return event < 16 ? EVENT_DIGITS[event] : undefined;
}

export function digitEvent(digit: string): number {
  const i = EVENT_DIGITS.indexOf(digit.toUpperCase());
  if (i < 0) throw new RangeError(`"${digit}" is not a DTMF digit`);
  return i;
}

export function parseTelephoneEvent(buf: Buffer, offset = 0): TelephoneEvent {
  if (buf.length - offset < TELEPHONE_EVENT_LENGTH) throw new RangeError('telephone-event payload shorter than 4 bytes');
  return {
    event: buf[offset]!,
    end: (buf[offset + 1]! & 0x80) !== 0,
    volume: buf[offset + 1]! & 0x3f,
    duration: (buf[offset + 2]! << 8) | buf[offset + 3]!,
  };
}

/** Writes the 4 payload bytes at `offset` (no allocation: the sender reuses its packet buffer). */
export function writeTelephoneEvent(buf: Buffer, offset: number, e: TelephoneEvent): void {
  buf[offset] = e.event & 0xff;
  buf[offset + 1] = (e.end ? 0x80 : 0) | (e.volume & 0x3f);
  buf[offset + 2] = (e.duration >>> 8) & 0xff;
  buf[offset + 3] = e.duration & 0xff;
}

export function serializeTelephoneEvent(e: TelephoneEvent): Buffer {
  const b = Buffer.alloc(TELEPHONE_EVENT_LENGTH);
  writeTelephoneEvent(b, 0, e);
  return b;
}
