import type { Logger } from "pino";
import type { PillarIo } from "../../hal/pillar-io.js";
import type { PillarBus } from "../bus/events.js";

/**
 * Starts the pillar's I/O without letting a hardware failure stop the pillar: when the driver
 * cannot start (co-processor unplugged, GPIO chip missing) a `hal`/`start.failed` fault is
 * raised, the rest keeps running (health reports the fault), and the start is retried with
 * backoff until it works.
 */
export class IoSupervisor {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private running = false;
  private failed = false;

  constructor(private readonly o: { io: PillarIo; bus: PillarBus; log: Logger; retryMs?: number }) {}

  async start(): Promise<void> {
    this.stopped = false;
    await this.attempt(this.o.retryMs ?? 2000);
  }

  private async attempt(delayMs: number): Promise<void> {
    if (this.stopped) return;
    try {
      await this.o.io.start();
      this.running = true;
      if (this.failed) this.o.bus.emit("fault.cleared", { component: "hal", code: "start.failed", at: Date.now() });
      this.failed = false;
    } catch (err) {
      this.o.log.error(
        { err: (err as Error).message, driver: this.o.io.driver, retryInMs: delayMs },
        "I/O driver did not start",
      );
      if (!this.failed) {
        this.failed = true;
        this.o.bus.emit("fault.raised", {
          component: "hal",
          code: "start.failed",
          message: (err as Error).message,
          at: Date.now(),
        });
      }
      await this.o.io.stop().catch(() => undefined);
      this.timer = setTimeout(() => void this.attempt(Math.min(delayMs * 2, 60_000)), delayMs);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.running) await this.o.io.stop();
    this.running = false;
  }
}
