// A one-shot abort for the call path: what AbortController and AbortSignal give call set-up (abort once, tell the
// listeners, say whether it happened), without an EventTarget per call. Node's EventTarget made each ringing call pay
// for two controllers and three listener registrations (about 1.3 % of the signalling thread at 250 calls/s,
// docs/performance.md); a real AbortSignal is still accepted wherever an AbortSignalLike is read.

/** The part of AbortSignal that the SIP stack and call control read. A real AbortSignal is one. */
export interface AbortSignalLike {
  readonly aborted: boolean;
  addEventListener(type: 'abort', listener: () => void): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

/** Both halves in one object: the owner calls abort(), the rest read it as an AbortSignalLike. */
export class Abort implements AbortSignalLike {
  private done = false;
  /** Listeners in the order they were added; each at most once, as EventTarget keeps them. */
  private listeners: Array<() => void> | undefined;

  get aborted(): boolean {
    return this.done;
  }

  addEventListener(_type: 'abort', listener: () => void): void {
    // As with AbortSignal, a listener added after the abort is never called.
    if (this.done) return;
    if (!this.listeners) this.listeners = [listener];
    else if (!this.listeners.includes(listener)) this.listeners.push(listener);
  }

  removeEventListener(_type: 'abort', listener: () => void): void {
    const i = this.listeners?.indexOf(listener) ?? -1;
    if (i >= 0) this.listeners!.splice(i, 1);
  }

  /**
   * Marks the abort and calls each listener once, in order; a second call does nothing. As with EventTarget, a
   * listener removed by an earlier one is skipped (one added meanwhile is not called; nothing here adds one then).
   */
  abort(): void {
    if (this.done) return;
    this.done = true;
    const listeners = this.listeners;
    if (!listeners) return;
    for (const l of [...listeners]) if (listeners.includes(l)) l();
    this.listeners = undefined;
  }
}
