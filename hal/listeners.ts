/** A tiny listener set used by drivers: `add` returns its own remover; `emit` never throws. */
export class Listeners<A extends unknown[]> {
  private readonly set = new Set<(...args: A) => void>();

  add(l: (...args: A) => void): () => void {
    this.set.add(l);
    return () => this.set.delete(l);
  }

  emit(...args: A): void {
    for (const l of [...this.set]) {
      try {
        l(...args);
      } catch {
        // a listener's failure is its own business; the driver keeps going
      }
    }
  }
}
