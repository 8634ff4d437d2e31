// Blink codes: a number shown digit by digit on one LED (n flashes per digit, ten for 0), for the IP announcement.

export interface BlinkTimings {
  onMs: number;
  offMs: number;
  /** Dark time between two digits. */
  digitGapMs: number;
}

export const BLINK_CODE_TIMINGS: BlinkTimings = { onMs: 300, offMs: 300, digitGapMs: 1500 };

/** The steps of a blink code: [lit, ms] pairs, starting dark after digitGapMs so the first flash stands out. */
export function blinkCode(value: number, t: BlinkTimings = BLINK_CODE_TIMINGS): [boolean, number][] {
  const steps: [boolean, number][] = [[false, t.digitGapMs]];
  for (const ch of String(Math.abs(Math.trunc(value)))) {
    const flashes = ch === '0' ? 10 : Number(ch);
    for (let i = 0; i < flashes; i++) steps.push([true, t.onMs], [false, t.offMs]);
    steps.push([false, t.digitGapMs]);
  }
  return steps;
}
