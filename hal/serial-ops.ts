/**
 * Runs async operations one after another, in call order (start, stop, restart of one device).
 * A failed operation rejects its own caller only; the next one still runs. This is what makes
 * "start, stop, start, stop, start" leave exactly one process behind, however the calls overlap.
 */
export class SerialOps {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(op: () => Promise<T>): Promise<T> {
    const next = this.tail.then(op, op);
    this.tail = next.catch(() => undefined);
    return next;
  }

  /** Resolves once every operation queued so far has finished. */
  idle(): Promise<void> {
    return this.tail.then(() => undefined);
  }
}
