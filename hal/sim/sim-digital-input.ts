import { InputLineBase } from "../input-line-base.js";

/**
 * Simulated input line, driven by hooks: `press()`/`release()` (or `set()`), contact `bounce()`,
 * and `failLink()`/`restoreLink()` to inject a dead line. Levels are logical (true = active).
 */
export class SimDigitalInput extends InputLineBase {
  private started = false;

  constructor(readonly name: string) {
    super();
  }

  async start(): Promise<void> {
    this.started = true;
  }

  async stop(): Promise<void> {
    this.started = false;
  }

  /**
   * Hook: drive the line to `active`. While started, a change is reported as an edge; while not,
   * it only sets the level the next start() finds (a button held down at power-on).
   */
  set(active: boolean, at = Date.now()): void {
    if (active === this.level) return;
    this.level = active;
    if (this.started) this.changes.emit(active, at);
  }

  press(): void {
    this.set(true);
  }

  release(): void {
    this.set(false);
  }

  /** Hook: a bouncing contact, `edges` alternating raw edges ending on `final`. */
  bounce(final: boolean, edges = 5): void {
    for (let i = 0; i < edges; i++) this.set(i % 2 === 0 ? final : !final);
    this.set(final);
  }

  /** Hook: the line stops working (e.g. a broken cable). */
  failLink(message = "simulated line failure"): void {
    this.faults.emit(new Error(`${this.name}: ${message}`));
  }

  restoreLink(): void {
    this.recovers.emit();
  }
}
