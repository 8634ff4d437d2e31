// In-band DTMF detection (ITU-T Q.23/Q.24 frequencies) with the Goertzel algorithm, for legs without RFC 4733.

const ROWS = [697, 770, 852, 941];
const COLS = [1209, 1336, 1477, 1633];
const KEYS = ['123A', '456B', '789C', '*0#D'];

/** Row and column frequencies of a DTMF key (ITU-T Q.23). */
export function dtmfFrequencies(digit: string): [number, number] {
  for (let r = 0; r < 4; r++) {
    const c = KEYS[r]!.indexOf(digit.toUpperCase());
    if (c >= 0) return [ROWS[r]!, COLS[c]!];
  }
  throw new RangeError(`"${digit}" is not a DTMF digit`);
}
const SAMPLE_RATE = 8000;
/** 20 ms blocks: bins 50 Hz wide still separate neighbouring DTMF frequencies (≥ 73 Hz apart). */
export const DTMF_BLOCK = 160;

/** Minimum mean square of a block (≈ -40 dBm0): quieter blocks are never digits. */
const MIN_ENERGY = 1.0e4;
/** The two tones must hold this share of the block's energy (speech and music spread theirs). */
const MIN_TONE_SHARE = 0.55;
/** Normal twist (row louder) up to 8 dB, reverse twist (column louder) up to 4 dB (Q.24). */
const MAX_NORMAL_TWIST = 10 ** (8 / 10);
const MAX_REVERSE_TWIST = 10 ** (4 / 10);
/** The strongest tone of a group must beat the others of its group by 6 dB. */
const RELATIVE_PEAK = 10 ** (6 / 10);

const coeffs = new Float64Array(8);
for (let i = 0; i < 8; i++) coeffs[i] = 2 * Math.cos((2 * Math.PI * (i < 4 ? ROWS[i]! : COLS[i - 4]!)) / SAMPLE_RATE);

/** Goertzel power of `freq` over `n` samples of `x` from `from` (allocation-free; also used by tests to check tones). */
export function goertzelPower(x: ArrayLike<number>, from: number, n: number, freq: number, rate = SAMPLE_RATE): number {
  const c = 2 * Math.cos((2 * Math.PI * freq) / rate);
  let s1 = 0;
  let s2 = 0;
  for (let i = 0; i < n; i++) {
    const s0 = x[from + i]! + c * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  return s1 * s1 + s2 * s2 - c * s1 * s2;
}

/**
 * Feeds 16-bit samples, calls `onDigit` once per key press: a digit must be seen in 2 consecutive blocks (40 ms)
 * and a press ends after 2 blocks without it.
 */
export class DtmfDetector {
  private readonly block = new Float64Array(DTMF_BLOCK);
  private readonly power = new Float64Array(8);
  private fill = 0;
  private candidate = -1;
  private candidateCount = 0;
  private reported = -1;
  private silentCount = 0;

  constructor(private readonly onDigit: (digit: string) => void) {}

  feed(samples: Int16Array, from: number, n: number): void {
    for (let i = 0; i < n; i++) {
      this.block[this.fill++] = samples[from + i]!;
      if (this.fill === DTMF_BLOCK) {
        this.fill = 0;
        this.analyse();
      }
    }
  }

  reset(): void {
    this.fill = 0;
    this.candidate = -1;
    this.candidateCount = 0;
    this.reported = -1;
    this.silentCount = 0;
  }

  private analyse(): void {
    const key = this.classify();
    if (key >= 0 && key === this.candidate) this.candidateCount++;
    else {
      this.candidate = key;
      this.candidateCount = key >= 0 ? 1 : 0;
    }
    if (key >= 0) this.silentCount = 0;
    else if (++this.silentCount >= 2) this.reported = -1;
    if (this.candidateCount >= 2 && this.reported !== key && key >= 0) {
      this.reported = key;
      this.onDigit(KEYS[key >> 2]![key & 3]!);
    }
  }

  /** Key index row*4+col for this block, or -1. */
  private classify(): number {
    const x = this.block;
    let energy = 0;
    for (let i = 0; i < DTMF_BLOCK; i++) energy += x[i]! * x[i]!;
    if (energy / DTMF_BLOCK < MIN_ENERGY) return -1;
    for (let k = 0; k < 8; k++) {
      const c = coeffs[k]!;
      let s1 = 0;
      let s2 = 0;
      for (let i = 0; i < DTMF_BLOCK; i++) {
        const s0 = x[i]! + c * s1 - s2;
        s2 = s1;
        s1 = s0;
      }
      this.power[k] = s1 * s1 + s2 * s2 - c * s1 * s2;
    }
    let r = 0;
    let c = 4;
    for (let k = 1; k < 4; k++) if (this.power[k]! > this.power[r]!) r = k;
    for (let k = 5; k < 8; k++) if (this.power[k]! > this.power[c]!) c = k;
    const rp = this.power[r]!;
    const cp = this.power[c]!;
    // A pure tone of amplitude A gives power (A·N/2)² and block energy N·A²/2: normalise by N/2·energy.
    if ((rp + cp) / ((DTMF_BLOCK / 2) * energy) < MIN_TONE_SHARE) return -1;
    if (rp > cp * MAX_NORMAL_TWIST || cp > rp * MAX_REVERSE_TWIST) return -1;
    for (let k = 0; k < 4; k++) if (k !== r && this.power[k]! * RELATIVE_PEAK > rp) return -1;
    for (let k = 4; k < 8; k++) if (k !== c && this.power[k]! * RELATIVE_PEAK > cp) return -1;
    return r * 4 + (c - 4);
  }
}
