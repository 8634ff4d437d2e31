// Structural validation of untrusted JSON/YAML values, collecting every issue with the path where it is.
export type Path = readonly (string | number)[];

export interface Issue {
  path: Path;
  message: string;
  /** What would be right (shown after the location). */
  hint?: string;
}

/** `queues[2].strategy` */
export function formatPath(path: Path): string {
  let s = '';
  for (const p of path) s += typeof p === 'number' ? `[${p}]` : s === '' ? p : `.${p}`;
  return s;
}

export type Obj = Record<string, unknown>;

export function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describe(v: unknown): string {
  if (v === null || v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return `the text "${v}"`;
  return `${typeof v} ${String(v)}`;
}

export interface StrOpts {
  pattern?: RegExp;
  hint?: string;
}

/** Collects issues; getters return undefined (and record an issue) when a value is wrong. */
export class Checker {
  readonly issues: Issue[] = [];

  fail(path: Path, message: string, hint?: string): undefined {
    this.issues.push(hint === undefined ? { path, message } : { path, message, hint });
    return undefined;
  }

  get ok(): boolean {
    return this.issues.length === 0;
  }

  /** A mapping with only the given keys; unknown keys are reported on their own path. */
  obj(v: unknown, path: Path, keys: readonly string[]): Obj | undefined {
    if (!isObj(v)) return this.fail(path, `expected a mapping, got ${describe(v)}`);
    for (const k of Object.keys(v)) {
      if (!keys.includes(k)) this.fail([...path, k], `unknown field "${k}" (known: ${keys.join(', ')})`);
    }
    return v;
  }

  list(o: Obj, key: string, path: Path): unknown[] {
    const v = o[key];
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) {
      this.fail([...path, key], `expected a list, got ${describe(v)}`);
      return [];
    }
    return v;
  }

  str(o: Obj, key: string, path: Path, opts: StrOpts & { required?: boolean } = {}): string | undefined {
    return this.strValue(o[key], [...path, key], opts);
  }

  strValue(v: unknown, p: Path, opts: StrOpts & { required?: boolean } = {}): string | undefined {
    if (v === undefined || v === null) {
      if (opts.required) return this.fail(p, `missing (required)`);
      return undefined;
    }
    // YAML reads 100 or 1234 as numbers: digits-only identifiers are accepted as numbers too.
    if (typeof v === 'number' && Number.isInteger(v) && v >= 0) v = String(v);
    if (typeof v !== 'string') return this.fail(p, `expected text, got ${describe(v)}`);
    if (opts.pattern && !opts.pattern.test(v)) return this.fail(p, `"${v}" is not valid${opts.hint ? `: ${opts.hint}` : ''}`);
    return v;
  }

  int(o: Obj, key: string, path: Path, opts: { min?: number; max?: number; required?: boolean } = {}): number | undefined {
    const v = o[key];
    if (v === undefined || v === null) {
      if (opts.required) return this.fail([...path, key], `missing (required)`);
      return undefined;
    }
    if (typeof v !== 'number' || !Number.isInteger(v)) return this.fail([...path, key], `expected a whole number, got ${describe(v)}`);
    if (opts.min !== undefined && v < opts.min) return this.fail([...path, key], `${v} is below the minimum ${opts.min}`);
    if (opts.max !== undefined && v > opts.max) return this.fail([...path, key], `${v} is above the maximum ${opts.max}`);
    return v;
  }

  bool(o: Obj, key: string, path: Path): boolean | undefined {
    const v = o[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'boolean') return this.fail([...path, key], `expected true or false, got ${describe(v)}`);
    return v;
  }

  enm<T extends string>(o: Obj, key: string, path: Path, values: readonly T[], required = false): T | undefined {
    const v = o[key];
    if (v === undefined || v === null) {
      if (required) return this.fail([...path, key], `missing (required; one of ${values.join(', ')})`);
      return undefined;
    }
    if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) {
      return this.fail([...path, key], `unknown value ${typeof v === 'string' ? `"${v}"` : describe(v)}`, `expected one of ${values.join(', ')}`);
    }
    return v as T;
  }

  strList(o: Obj, key: string, path: Path, opts: StrOpts = {}): string[] | undefined {
    const v = o[key];
    if (v === undefined || v === null) return undefined;
    if (!Array.isArray(v)) return this.fail([...path, key], `expected a list, got ${describe(v)}`);
    const out: string[] = [];
    v.forEach((item, i) => {
      const s = this.strValue(item, [...path, key, i], { ...opts, required: true });
      if (s !== undefined) out.push(s);
    });
    return out;
  }
}
