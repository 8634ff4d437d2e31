// A typed wrapper over EventEmitter: event names and argument tuples checked at compile time.
import { EventEmitter } from 'node:events';

export type EventMap = { [event: string]: unknown[] };

export class TypedEmitter<E extends EventMap> {
  /**
   * Made at the first listener: most emitters made per message (a request as its handler sees it) never get one,
   * and an EventEmitter each was measurable garbage on the REGISTER path.
   */
  private emitter: EventEmitter | undefined;

  private get listeners(): EventEmitter {
    if (!this.emitter) {
      this.emitter = new EventEmitter();
      this.emitter.setMaxListeners(0);
    }
    return this.emitter;
  }

  on<K extends keyof E & string>(event: K, listener: (...args: E[K]) => void): this {
    this.listeners.on(event, listener as (...args: unknown[]) => void);
    return this;
  }

  once<K extends keyof E & string>(event: K, listener: (...args: E[K]) => void): this {
    this.listeners.once(event, listener as (...args: unknown[]) => void);
    return this;
  }

  off<K extends keyof E & string>(event: K, listener: (...args: E[K]) => void): this {
    this.emitter?.off(event, listener as (...args: unknown[]) => void);
    return this;
  }

  emit<K extends keyof E & string>(event: K, ...args: E[K]): boolean {
    // An 'error' nobody listens to throws, as EventEmitter does.
    if (!this.emitter && event !== 'error') return false;
    return this.listeners.emit(event, ...args);
  }

  listenerCount<K extends keyof E & string>(event: K): number {
    return this.emitter ? this.emitter.listenerCount(event) : 0;
  }

  removeAllListeners(): void {
    this.emitter?.removeAllListeners();
  }

  /** Resolves with the arguments of the next `event` (tests wait for events, never sleep). */
  waitFor<K extends keyof E & string>(event: K, timeoutMs = 10_000): Promise<E[K]> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.listeners.off(event, handler);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for event "${event}"`));
      }, timeoutMs);
      const handler = (...args: unknown[]): void => {
        clearTimeout(timer);
        resolve(args as E[K]);
      };
      this.listeners.once(event, handler);
    });
  }
}
