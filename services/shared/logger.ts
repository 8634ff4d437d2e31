// Structured JSON-line logger (one object per line on stderr), with child loggers carrying bindings.

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'silent';

const LEVELS: Record<LogLevel, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, silent: 100 };

export const LOG_LEVELS = Object.keys(LEVELS) as LogLevel[];

export type LogFields = Record<string, unknown>;

export interface LogSink {
  write(line: string): void;
}

const stderrSink: LogSink = { write: (line) => process.stderr.write(line) };

export class Logger {
  private readonly threshold: number;

  constructor(
    readonly level: LogLevel = 'info',
    private readonly bindings: LogFields = {},
    private readonly sink: LogSink = stderrSink,
  ) {
    this.threshold = LEVELS[level];
  }

  child(bindings: LogFields): Logger {
    return new Logger(this.level, { ...this.bindings, ...bindings }, this.sink);
  }

  isEnabled(level: LogLevel): boolean {
    return LEVELS[level] >= this.threshold;
  }

  trace(msg: string, fields?: LogFields): void {
    this.log('trace', msg, fields);
  }
  debug(msg: string, fields?: LogFields): void {
    this.log('debug', msg, fields);
  }
  info(msg: string, fields?: LogFields): void {
    this.log('info', msg, fields);
  }
  warn(msg: string, fields?: LogFields): void {
    this.log('warn', msg, fields);
  }
  error(msg: string, fields?: LogFields): void {
    this.log('error', msg, fields);
  }

  private log(level: LogLevel, msg: string, fields?: LogFields): void {
    if (LEVELS[level] < this.threshold) return;
    // Real time on purpose, not the injected Clock: a log line says when it was written, also in a test whose
    // ManualClock stands still, and the system journal next to it is in real time too.
    const entry: LogFields = { time: new Date().toISOString(), level, ...this.bindings, msg };
    if (fields) {
      for (const [k, v] of Object.entries(fields)) entry[k] = v instanceof Error ? { message: v.message, stack: v.stack } : v;
    }
    this.sink.write(JSON.stringify(entry) + '\n');
  }
}

/** A logger that writes nothing (unit tests). */
export const silentLogger = new Logger('silent');
