import type { Logger } from "pino";

/**
 * At most `perWindow` warnings per `windowMs`; the rest are counted and reported in one line when
 * the next window opens. A flood of refused logins must not become a flood of log lines (each a
 * write on the console's one thread).
 */
export class LogBudget {
  private windowStart = 0;
  private inWindow = 0;
  private dropped = 0;

  constructor(
    private readonly log: Logger,
    private readonly perWindow = 20,
    private readonly windowMs = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  warn(fields: Record<string, unknown>, message: string): void {
    const t = this.now();
    if (t - this.windowStart > this.windowMs) {
      if (this.dropped) this.log.warn({ count: this.dropped }, `${message}: more not logged one by one`);
      this.windowStart = t;
      this.inWindow = 0;
      this.dropped = 0;
    }
    if (this.inWindow++ < this.perWindow) this.log.warn(fields, message);
    else this.dropped++;
  }
}
