// ITU-T G.711 µ-law and A-law: encode/decode tables built once, and PCMU<->PCMA byte maps for in-place transcoding.

const BIAS = 0x84;
const CLIP = 32635;

function linearToUlaw(sample: number): number {
  let s = sample;
  const sign = s < 0 ? 0x80 : 0;
  if (s < 0) s = -s;
  if (s > CLIP) s = CLIP;
  s += BIAS;
  let exponent = 7;
  for (let mask = 0x4000; (s & mask) === 0 && exponent > 0; mask >>= 1) exponent--;
  const mantissa = (s >> (exponent + 3)) & 0x0f;
  return ~(sign | (exponent << 4) | mantissa) & 0xff;
}

function ulawToLinear(u: number): number {
  const x = ~u & 0xff;
  const t = (((x & 0x0f) << 3) + BIAS) << ((x & 0x70) >> 4);
  return x & 0x80 ? BIAS - t : t - BIAS;
}

function linearToAlaw(sample: number): number {
  let s = sample;
  let mask: number;
  if (s >= 0) mask = 0xd5;
  else {
    mask = 0x55;
    s = -s - 1;
  }
  if (s > 32767) s = 32767;
  // Segment end points of the 13-bit A-law curve, in 16-bit units.
  const segEnd = [0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff, 0x1fff, 0x3fff, 0x7fff];
  let seg = 0;
  while (seg < 8 && s > segEnd[seg]!) seg++;
  if (seg >= 8) return 0x7f ^ mask;
  let aval = seg << 4;
  aval |= seg < 2 ? (s >> 4) & 0x0f : (s >> (seg + 3)) & 0x0f;
  return aval ^ mask;
}

function alawToLinear(a: number): number {
  const x = a ^ 0x55;
  let t = (x & 0x0f) << 4;
  const seg = (x & 0x70) >> 4;
  if (seg === 0) t += 8;
  else if (seg === 1) t += 0x108;
  else t = (t + 0x108) << (seg - 1);
  return x & 0x80 ? t : -t;
}

/** Decoded value of every µ-law / A-law byte. */
export const ULAW_DECODE = new Int16Array(256);
export const ALAW_DECODE = new Int16Array(256);
/** Encoded byte of every 16-bit sample, indexed by (sample + 32768) >> 2 (14-bit resolution is below both laws' step). */
export const ULAW_ENCODE = new Uint8Array(16384);
export const ALAW_ENCODE = new Uint8Array(16384);
/** Byte maps for in-place transcoding of a payload. */
export const ULAW_TO_ALAW = new Uint8Array(256);
export const ALAW_TO_ULAW = new Uint8Array(256);

for (let i = 0; i < 256; i++) {
  ULAW_DECODE[i] = ulawToLinear(i);
  ALAW_DECODE[i] = alawToLinear(i);
}
for (let i = 0; i < 16384; i++) {
  const s = (i << 2) - 32768 + 2;
  ULAW_ENCODE[i] = linearToUlaw(s);
  ALAW_ENCODE[i] = linearToAlaw(s);
}
for (let i = 0; i < 256; i++) {
  ULAW_TO_ALAW[i] = linearToAlaw(ULAW_DECODE[i]!);
  ALAW_TO_ULAW[i] = linearToUlaw(ALAW_DECODE[i]!);
}

export const ULAW_SILENCE = 0xff;
export const ALAW_SILENCE = 0xd5;

export function encodeUlawSample(s: number): number {
  return ULAW_ENCODE[(s + 32768) >> 2]!;
}
export function encodeAlawSample(s: number): number {
  return ALAW_ENCODE[(s + 32768) >> 2]!;
}

/** Decodes `n` bytes of `src` from `from` into `dst` at `at` (no allocation). */
export function decodeInto(table: Int16Array, src: Uint8Array, from: number, n: number, dst: Int16Array, at: number): void {
  for (let i = 0; i < n; i++) dst[at + i] = table[src[from + i]!]!;
}

/** Encodes `n` samples of `src` from `from` into `dst` at `at` (no allocation). */
export function encodeInto(table: Uint8Array, src: Int16Array, from: number, n: number, dst: Uint8Array, at: number): void {
  for (let i = 0; i < n; i++) dst[at + i] = table[(src[from + i]! + 32768) >> 2]!;
}

/** Maps `n` bytes in place through a 256-entry table (PCMU<->PCMA). */
export function mapInPlace(table: Uint8Array, buf: Uint8Array, from: number, n: number): void {
  for (let i = from, end = from + n; i < end; i++) buf[i] = table[buf[i]!]!;
}
