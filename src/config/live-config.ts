import type { PillarConfig } from "../../config/schema.js";

/**
 * The config the running pillar uses now. Services read `get()` when they need a value (so a
 * newly applied config, e.g. after a flash, takes effect in the next event) and may listen to
 * `onChange` for what they must redo.
 */
export class LiveConfig {
  private readonly listeners = new Set<(next: PillarConfig, prev: PillarConfig) => void>();

  constructor(
    private current: PillarConfig,
    /** The file it was loaded from, if any. */
    readonly path?: string,
  ) {}

  get(): PillarConfig {
    return this.current;
  }

  set(next: PillarConfig): void {
    const prev = this.current;
    this.current = next;
    for (const l of [...this.listeners]) l(next, prev);
  }

  onChange(l: (next: PillarConfig, prev: PillarConfig) => void): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
}
