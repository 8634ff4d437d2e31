// Errors that carry a code a user can look up and a message a user can act on.

export class RelaisError extends Error {
  readonly code: string;
  readonly field: string | undefined;
  readonly status: number;

  constructor(code: string, message: string, opts: { field?: string; status?: number; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'RelaisError';
    this.code = code;
    this.field = opts.field;
    this.status = opts.status ?? 400;
  }

  toJSON(): { code: string; message: string; field?: string } {
    return this.field === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, field: this.field };
  }
}

export class ConfigError extends RelaisError {
  constructor(message: string, field?: string) {
    super('config.invalid', message, field === undefined ? {} : { field });
    this.name = 'ConfigError';
  }
}

export class NotFoundError extends RelaisError {
  constructor(what: string, id: string | number) {
    super('not_found', `${what} ${id} does not exist`, { status: 404 });
    this.name = 'NotFoundError';
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
