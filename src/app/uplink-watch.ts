import type { PillarBus } from "../bus/events.js";

/** How long the link may be down before it counts as a fault (the LEDs show it). */
export const UPLINK_FAULT_AFTER_MS = 30_000;

/** Raises an `uplink`/`offline` fault when the broker has been unreachable for a while. */
export class UplinkWatch {
  private timer: NodeJS.Timeout | undefined;
  private raised = false;
  private offs: (() => void)[] = [];

  constructor(private readonly o: { bus: PillarBus; uplink: { isConnected(): boolean }; afterMs?: number }) {}

  async start(): Promise<void> {
    const { bus } = this.o;
    this.offs.push(
      bus.on("uplink.connected", () => {
        if (this.timer) clearTimeout(this.timer);
        this.timer = undefined;
        if (this.raised) bus.emit("fault.cleared", { component: "uplink", code: "offline", at: Date.now() });
        this.raised = false;
      }),
      bus.on("uplink.disconnected", () => this.arm()),
    );
    if (!this.o.uplink.isConnected()) this.arm();
  }

  private arm(): void {
    if (this.timer || this.raised) return;
    const afterMs = this.o.afterMs ?? UPLINK_FAULT_AFTER_MS;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.raised = true;
      this.o.bus.emit("fault.raised", {
        component: "uplink",
        code: "offline",
        message: `no broker connection for ${afterMs / 1000} s`,
        at: Date.now(),
      });
    }, afterMs);
  }

  async stop(): Promise<void> {
    for (const off of this.offs) off();
    this.offs = [];
    if (this.timer) clearTimeout(this.timer);
  }
}
