/**
 * Debounces a raw contact: a new level counts once it has been stable for `windowMs`.
 * The reported time is that of the raw edge that started the stable period (the moment the
 * contact really changed), the confirmation time is when the window ran out.
 * Timer-based (setTimeout), so tests drive it with fake timers.
 */
export class Debouncer {
  private stable = false;
  private raw = false;
  private lastEdgeAt = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly windowMs: () => number,
    private readonly onStable: (active: boolean, edgeAt: number, confirmedAt: number) => void,
  ) {}

  /** Current debounced level. */
  get level(): boolean {
    return this.stable;
  }

  /** Start from a known level without reporting it. */
  reset(level: boolean): void {
    this.cancel();
    this.stable = level;
    this.raw = level;
  }

  /** Feed one raw edge. */
  edge(active: boolean, at: number): void {
    this.raw = active;
    this.lastEdgeAt = at;
    this.cancel();
    if (active === this.stable) return; // bounced back before the window ran out
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.raw === this.stable) return;
      this.stable = this.raw;
      this.onStable(this.stable, this.lastEdgeAt, Date.now());
    }, this.windowMs());
  }

  cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
