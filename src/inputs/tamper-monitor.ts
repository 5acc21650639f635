import type { DigitalInput } from "../../hal/digital-input.js";
import type { PillarBus } from "../bus/events.js";
import { Debouncer } from "./debouncer.js";

/** Debounces the tamper switch into `tamper.changed` (open = the housing was opened). */
export class TamperMonitor {
  private debouncer: Debouncer | undefined;
  private offs: (() => void)[] = [];

  constructor(private readonly o: { input: DigitalInput; bus: PillarBus; debounceMs: () => number }) {}

  async start(): Promise<void> {
    const { input, bus } = this.o;
    this.debouncer = new Debouncer(this.o.debounceMs, (open, at) => bus.emit("tamper.changed", { open, at }));
    this.debouncer.reset(false);
    this.offs.push(
      input.onChange((active, at) => {
        bus.emit("input.edge", { input: "tamper", active, at });
        this.debouncer?.edge(active, at);
      }),
      input.onFault((err) =>
        bus.emit("fault.raised", { component: "tamper", code: "line.failed", message: err.message, at: Date.now() }),
      ),
      input.onRecover(() => bus.emit("fault.cleared", { component: "tamper", code: "line.failed", at: Date.now() })),
    );
    if (input.read()) this.debouncer.edge(true, Date.now());
  }

  isOpen(): boolean {
    return this.debouncer?.level ?? false;
  }

  async stop(): Promise<void> {
    for (const off of this.offs) off();
    this.offs = [];
    this.debouncer?.cancel();
  }
}
