// Play sequence: files, tones and silence rendered 160 samples at a time by the worker's 20 ms clock; loops for MOH.

/** One rendered item: `total` samples, read from `data` cyclically (null = silence). */
export interface PlaySource {
  data: Int16Array | null;
  total: number;
}

export class Player {
  private item = 0;
  private pos = 0;

  constructor(
    readonly id: number,
    private readonly sources: PlaySource[],
    readonly loop: boolean,
    readonly interruptOnDtmf: boolean,
  ) {}

  /** Writes `n` samples into `out`; returns false once the sequence has ended (the rest of `out` is silence). */
  render(out: Int16Array, n: number): boolean {
    let i = 0;
    while (i < n) {
      const src = this.sources[this.item];
      if (!src) {
        if (!this.loop || this.sources.every((s) => s.total === 0)) {
          out.fill(0, i, n);
          return i > 0;
        }
        this.item = 0;
        this.pos = 0;
        continue;
      }
      const take = Math.min(n - i, src.total - this.pos);
      const d = src.data;
      if (d === null) out.fill(0, i, i + take);
      else {
        const len = d.length;
        for (let k = 0; k < take; k++) out[i + k] = d[(this.pos + k) % len]!;
      }
      i += take;
      this.pos += take;
      if (this.pos >= src.total) {
        this.item++;
        this.pos = 0;
      }
    }
    return true;
  }

  /** True when every sample has been rendered (not for loops). */
  get finished(): boolean {
    return !this.loop && this.item >= this.sources.length;
  }
}
