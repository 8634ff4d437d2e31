// Parallel forking of one INVITE to several branches (RFC 3261 §16.7): the single implementation the B2BUA and call control's ring engine share.
import { Abort, type AbortSignalLike, type Clock, type TimerHandle } from '../../shared/index.js';
import type { SipResponse } from '../message/index.js';

/** One branch: starts its INVITE with the fork's abort signal (abort = CANCEL) and provisional callback. */
export type ForkBranch<D> = (ctl: { signal: AbortSignalLike; onProvisional: (r: SipResponse) => void }) => Promise<D>;

export interface ForkOptions<D> {
  /** Every branch is CANCELled after this long (absent: no limit). Needs `clock`. */
  timeoutMs?: number | undefined;
  clock?: Clock | undefined;
  /** Aborting cancels every branch (caller CANCEL, call ended). */
  signal?: AbortSignalLike | undefined;
  /** 1xx of branch i. */
  onProvisional?: ((r: SipResponse, branch: number) => void) | undefined;
  /**
   * A 2xx that came after the winner (two phones answered within milliseconds): RFC 3261 §16.7 step 10 — the
   * dialog is ACKed by the stack and must be released with BYE here, so there is never a second bridged party.
   */
  release: (dialog: D) => void;
}

export type ForkOutcome<D> =
  | { ok: true; dialog: D; branch: number }
  | {
      ok: false;
      /** Each branch's failure (SipError from the stack), branch order; branches aborted by the fork itself excluded. */
      failures: unknown[];
      timedOut: boolean;
      /** Ended by `signal` (not by a timeout, not by the branches' own failures). */
      cancelled: boolean;
    };

/** Rings every branch at once; the first 2xx wins and the other branches are CANCELled. */
export function forkInvite<D>(branches: ForkBranch<D>[], opts: ForkOptions<D>): Promise<ForkOutcome<D>> {
  return new Promise((resolve) => {
    if (branches.length === 0) {
      resolve({ ok: false, failures: [], timedOut: false, cancelled: false });
      return;
    }
    let pending = branches.length;
    let settled = false;
    let timedOut = false;
    let cancelled = false;
    const failures: unknown[] = [];
    const controllers = branches.map(() => new Abort());
    const abortAll = (): void => controllers.forEach((c) => c.abort());
    const onAbort = (): void => {
      cancelled = true;
      abortAll();
    };
    if (opts.signal?.aborted) cancelled = true;
    opts.signal?.addEventListener('abort', onAbort);
    let timer: TimerHandle | undefined;
    const done = (r: ForkOutcome<D>): void => {
      settled = true;
      opts.clock?.clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      resolve(r);
    };
    if (opts.timeoutMs !== undefined && opts.clock) {
      timer = opts.clock.setTimeout(() => {
        timedOut = true;
        abortAll();
      }, opts.timeoutMs);
    }
    branches.forEach((start, i) => {
      const ctl = controllers[i]!;
      let p: Promise<D>;
      try {
        p = start({ signal: ctl, onProvisional: (r) => opts.onProvisional?.(r, i) });
      } catch (err) {
        p = Promise.reject(err);
      }
      p.then(
        (dialog) => {
          if (settled) {
            opts.release(dialog);
            return;
          }
          controllers.forEach((c, j) => j !== i && c.abort());
          done({ ok: true, dialog, branch: i });
        },
        (err: unknown) => {
          // A branch we CANCELled because another won (or the caller left) says nothing about the callee.
          if (!ctl.aborted || timedOut) failures.push(err);
          if (--pending === 0 && !settled) done({ ok: false, failures, timedOut, cancelled: cancelled && !timedOut });
        },
      );
      if (cancelled) ctl.abort();
    });
  });
}
