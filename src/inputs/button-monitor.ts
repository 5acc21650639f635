import type { Logger } from "pino";
import type { DigitalInput } from "../../hal/digital-input.js";
import type { PillarBus } from "../bus/events.js";
import { Debouncer } from "./debouncer.js";

export interface ButtonMonitorOptions {
  input: DigitalInput;
  bus: PillarBus;
  log: Logger;
  settings: () => { debounceMs: number; stuckAfterS: number };
}

/**
 * Turns the button line's raw edges into debounced `button.pressed`/`button.released`, and
 * raises `button.stuck` when it is held past the stuck time (`button.recovered` on release).
 * Line failures become `fault.raised`/`fault.cleared` for component `button`.
 */
export class ButtonMonitor {
  private debouncer: Debouncer | undefined;
  private pressedAt = 0;
  private stuckTimer: NodeJS.Timeout | undefined;
  private stuck = false;
  private offs: (() => void)[] = [];

  constructor(private readonly o: ButtonMonitorOptions) {}

  async start(): Promise<void> {
    const { input, bus } = this.o;
    this.debouncer = new Debouncer(
      () => this.o.settings().debounceMs,
      (active, at, confirmedAt) => (active ? this.pressed(at, confirmedAt) : this.released(at)),
    );
    this.debouncer.reset(false);
    this.offs.push(
      input.onChange((active, at) => {
        bus.emit("input.edge", { input: "button", active, at });
        this.debouncer?.edge(active, at);
      }),
      input.onFault((err) =>
        bus.emit("fault.raised", { component: "button", code: "line.failed", message: err.message, at: Date.now() }),
      ),
      input.onRecover(() => bus.emit("fault.cleared", { component: "button", code: "line.failed", at: Date.now() })),
    );
    // A button already held at start is a press (someone may be pressing while we boot).
    if (input.read()) this.debouncer.edge(true, Date.now());
  }

  async stop(): Promise<void> {
    for (const off of this.offs) off();
    this.offs = [];
    this.debouncer?.cancel();
    if (this.stuckTimer) clearTimeout(this.stuckTimer);
  }

  isStuck(): boolean {
    return this.stuck;
  }

  private pressed(at: number, confirmedAt: number): void {
    this.pressedAt = at;
    this.o.bus.emit("button.pressed", { at, confirmedAt });
    const stuckMs = this.o.settings().stuckAfterS * 1000;
    this.stuckTimer = setTimeout(
      () => {
        this.stuck = true;
        const heldMs = Date.now() - this.pressedAt;
        this.o.log.warn({ heldMs }, "button stuck");
        this.o.bus.emit("button.stuck", { at: Date.now(), heldMs });
      },
      Math.max(0, stuckMs - (Date.now() - at)),
    );
  }

  private released(at: number): void {
    if (this.stuckTimer) clearTimeout(this.stuckTimer);
    this.stuckTimer = undefined;
    const heldMs = at - this.pressedAt;
    this.o.bus.emit("button.released", { at, heldMs });
    if (this.stuck) {
      this.stuck = false;
      this.o.log.info({ heldMs }, "button recovered");
      this.o.bus.emit("button.recovered", { at, heldMs });
    }
  }
}
