import type { Logger } from "pino";

/**
 * A small typed, synchronous event bus between the HAL-facing services and the rest.
 * A listener that throws is logged and never breaks the emitter or the other listeners:
 * the button path must keep working whatever a later listener (camera, recorder…) does.
 */
export class TypedBus<M extends object> {
  private readonly listeners = new Map<keyof M, Set<(payload: never) => void>>();

  constructor(private readonly log?: Logger) {}

  on<K extends keyof M>(name: K, listener: (payload: M[K]) => void): () => void {
    let set = this.listeners.get(name);
    if (!set) {
      set = new Set();
      this.listeners.set(name, set);
    }
    set.add(listener as (payload: never) => void);
    return () => this.off(name, listener);
  }

  once<K extends keyof M>(name: K, listener: (payload: M[K]) => void): () => void {
    const off = this.on(name, (p) => {
      off();
      listener(p);
    });
    return off;
  }

  off<K extends keyof M>(name: K, listener: (payload: M[K]) => void): void {
    this.listeners.get(name)?.delete(listener as (payload: never) => void);
  }

  emit<K extends keyof M>(name: K, payload: M[K]): void {
    const set = this.listeners.get(name);
    if (!set) return;
    for (const l of [...set]) {
      try {
        (l as (payload: M[K]) => void)(payload);
      } catch (err) {
        this.log?.error({ err, event: String(name) }, "bus listener failed");
      }
    }
  }

  /** Resolve with the next payload of `name` that matches `pred` (for tests and sequencing). */
  next<K extends keyof M>(name: K, pred: (p: M[K]) => boolean = () => true, timeoutMs = 10_000): Promise<M[K]> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new Error(`timed out waiting for bus event ${String(name)}`));
      }, timeoutMs);
      const off = this.on(name, (p) => {
        if (!pred(p)) return;
        clearTimeout(timer);
        off();
        resolve(p);
      });
    });
  }
}
