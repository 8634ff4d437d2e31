// A typed wrapper over EventEmitter: event names and argument tuples checked at compile time.
import { EventEmitter } from 'node:events';

export type EventMap = { [event: string]: unknown[] };

export class TypedEmitter<E extends EventMap> {
  private readonly emitter = new EventEmitter();

  constructor() {
    this.emitter.setMaxListeners(0);
  }

  on<K extends keyof E & string>(event: K, listener: (...args: E[K]) => void): this {
    this.emitter.on(event, listener as (...args: unknown[]) => void);
    return this;
  }

  once<K extends keyof E & string>(event: K, listener: (...args: E[K]) => void): this {
    this.emitter.once(event, listener as (...args: unknown[]) => void);
    return this;
  }

  off<K extends keyof E & string>(event: K, listener: (...args: E[K]) => void): this {
    this.emitter.off(event, listener as (...args: unknown[]) => void);
    return this;
  }

  emit<K extends keyof E & string>(event: K, ...args: E[K]): boolean {
    return this.emitter.emit(event, ...args);
  }

  listenerCount<K extends keyof E & string>(event: K): number {
    return this.emitter.listenerCount(event);
  }

  removeAllListeners(): void {
    this.emitter.removeAllListeners();
  }

  /** Resolves with the arguments of the next `event` (tests wait for events, never sleep). */
  waitFor<K extends keyof E & string>(event: K, timeoutMs = 10_000): Promise<E[K]> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.emitter.off(event, handler);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for event "${event}"`));
      }, timeoutMs);
      const handler = (...args: unknown[]): void => {
        clearTimeout(timer);
        resolve(args as E[K]);
      };
      this.emitter.once(event, handler);
    });
  }
}
