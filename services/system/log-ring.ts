// A log sink that keeps the last lines in memory (the console's "logs" page) and passes every line on.
import type { LogSink } from '../shared/index.js';

export class LogRing implements LogSink {
  private readonly lines: string[] = [];

  constructor(
    private readonly next: LogSink | undefined = { write: (line) => process.stderr.write(line) },
    readonly capacity = 2000,
  ) {}

  write(line: string): void {
    this.lines.push(line.endsWith('\n') ? line.slice(0, -1) : line);
    if (this.lines.length > this.capacity) this.lines.shift();
    this.next?.write(line);
  }

  /** The last `n` lines, oldest first. */
  tail(n: number): string[] {
    return this.lines.slice(-n);
  }
}
