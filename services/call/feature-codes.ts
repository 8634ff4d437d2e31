// Feature-code registry: modules claim star codes (*97, *41<digits>…) and call control dispatches such calls to them.
import { RelaisError } from '../shared/index.js';
import type { Extension } from '../directory/index.js';
import type { MediaEndpoint } from '../media/index.js';
import type { Call } from './call.js';
import type { CallIncomingRequest, CallServerResponse } from './sip-host.js';

/** A caller dialling a feature code: the handler answers or rejects the INVITE itself. */
export interface FeatureCall {
  call: Call;
  req: CallIncomingRequest;
  res: CallServerResponse;
  /** The caller's media endpoint (opened on the INVITE's offer), not yet answered. */
  callerEndpoint: MediaEndpoint;
  caller: Extension;
  /** The whole dialled code, e.g. `*41123`. */
  code: string;
  /** What followed the pattern's fixed part (`123` for `*41<digits>`); '' for an exact code. */
  digits: string;
}

/**
 * Handles one feature call. It answers (or rejects) through `res`; call control hangs the call up once the
 * returned promise settles, and answers 480 if the handler left the INVITE unanswered.
 */
export type FeatureHandler = (f: FeatureCall) => Promise<void>;

export interface FeatureCodeEntry {
  /** As registered: `*97`, `*41<digits>`. */
  pattern: string;
  /** Who registered it and what it does (listed in docs and the API). */
  description: string;
}

interface Registered extends FeatureCodeEntry {
  prefix: string;
  withDigits: boolean;
  handler: FeatureHandler;
}

const PATTERN = /^([*#][0-9*#]*)(<digits>)?$/;

/**
 * Patterns (docs/calls.md "Feature codes"): a fixed code of `*`, `#` and digits, optionally followed by
 * `<digits>` (one or more digits 0-9, handed to the handler). The longest fixed part wins, so `*4` and
 * `*41<digits>` can live together; registering a pattern twice is refused.
 */
export class FeatureCodes {
  private readonly entries: Registered[] = [];

  /** Claims a pattern; returns a function that releases it. */
  register(pattern: string, handler: FeatureHandler, description = ''): () => void {
    const m = PATTERN.exec(pattern);
    if (!m) throw new RelaisError('feature.pattern_invalid', `feature code "${pattern}" must be * or # then digits, optionally followed by <digits>`, { field: 'pattern' });
    if (this.entries.some((e) => e.pattern === pattern)) throw new RelaisError('feature.exists', `feature code ${pattern} is already registered`, { field: 'pattern', status: 409 });
    const entry: Registered = { pattern, description, prefix: m[1]!, withDigits: m[2] !== undefined, handler };
    this.entries.push(entry);
    this.entries.sort((a, b) => b.prefix.length - a.prefix.length || Number(a.withDigits) - Number(b.withDigits));
    return () => {
      const i = this.entries.indexOf(entry);
      if (i >= 0) this.entries.splice(i, 1);
    };
  }

  /** The handler a dialled string goes to, with the digits after the fixed part. */
  match(dialled: string): { handler: FeatureHandler; pattern: string; digits: string } | undefined {
    for (const e of this.entries) {
      if (!e.withDigits) {
        if (dialled === e.prefix) return { handler: e.handler, pattern: e.pattern, digits: '' };
        continue;
      }
      if (!dialled.startsWith(e.prefix)) continue;
      const rest = dialled.slice(e.prefix.length);
      if (/^[0-9]+$/.test(rest)) return { handler: e.handler, pattern: e.pattern, digits: rest };
    }
    return undefined;
  }

  list(): FeatureCodeEntry[] {
    return this.entries.map((e) => ({ pattern: e.pattern, description: e.description }));
  }
}
