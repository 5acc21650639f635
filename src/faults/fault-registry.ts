import type { Logger } from "pino";
import type { Fault, PillarBus } from "../bus/events.js";
import type { EventPublisher } from "../events/event-publisher.js";

/**
 * Keeps the set of active faults and reports each change to the center exactly once: a `fault`
 * event when a fault is raised, `fault.cleared` when it goes away. Every component reports
 * through the bus (`fault.raised`/`fault.cleared`), so nothing fails silently.
 */
export class FaultRegistry {
  private readonly active = new Map<string, Fault>();
  private offs: (() => void)[] = [];

  constructor(private readonly o: { bus: PillarBus; events: EventPublisher; log: Logger }) {}

  async start(): Promise<void> {
    const { bus } = this.o;
    this.offs.push(
      bus.on("fault.raised", (f) => this.raise(f)),
      bus.on("fault.cleared", (f) => this.clear(f.component, f.code, f.at, f.message)),
    );
  }

  async stop(): Promise<void> {
    for (const off of this.offs) off();
    this.offs = [];
  }

  list(): Fault[] {
    return [...this.active.values()];
  }

  has(component?: string): boolean {
    return component ? this.list().some((f) => f.component === component) : this.active.size > 0;
  }

  private raise(f: Fault): void {
    const key = `${f.component}/${f.code}`;
    if (this.active.has(key)) return;
    this.active.set(key, f);
    this.o.log.error({ fault: f }, "fault raised");
    this.o.events.publish("fault", f.at, { data: { component: f.component, code: f.code, message: f.message } });
  }

  private clear(component: string, code: string, at: number, message?: string): void {
    const key = `${component}/${code}`;
    const f = this.active.get(key);
    if (!f) return;
    this.active.delete(key);
    this.o.log.info({ component, code, activeForMs: at - f.at }, "fault cleared");
    const data = { component, code, activeForMs: at - f.at, ...(message ? { message } : {}) };
    this.o.events.publish("fault.cleared", at, { data });
  }
}
