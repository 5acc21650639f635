import type { Logger } from "pino";
import type { PillarBus } from "../bus/events.js";
import type { ClockSyncProbe } from "../events/clock-sync.js";
import type { IncidentController } from "./incident-controller.js";
import type { PillarIncidentState } from "./incident-state-schema.js";

/** What the publisher needs of the uplink: a live publish (retained). */
export interface RetainedPublisher {
  publish(topic: string, payload: string, o: { qos?: 0 | 1; retain?: boolean }): Promise<void>;
  isConnected(): boolean;
}

/**
 * Keeps the retained `pillar/v1/{id}/incident` (incident-state-schema.ts) in step with the
 * incident controller: after every state change or press (coalesced: one message per turn of the
 * event loop) and on every connect (the retained copy may be older than what happened while the
 * link was down). A live message, not an event: a failed publish is re-done at the next connect.
 */
export class IncidentStatePublisher {
  private offs: (() => void)[] = [];
  private queued = false;

  constructor(
    private readonly o: {
      bus: PillarBus;
      incidents: IncidentController;
      uplink: RetainedPublisher;
      clock: ClockSyncProbe;
      pillarId: () => string;
      location: () => PillarIncidentState["location"];
      topic: () => string;
      log: Logger;
    },
  ) {}

  async start(): Promise<void> {
    const { bus } = this.o;
    this.offs.push(
      bus.on("incident.state", () => this.schedule()),
      bus.on("incident.press", () => this.schedule()),
      bus.on("uplink.connected", () => this.schedule()),
    );
    if (this.o.uplink.isConnected()) this.schedule();
  }

  async stop(): Promise<void> {
    for (const off of this.offs) off();
    this.offs = [];
  }

  /** The message as it would be published now. */
  current(): PillarIncidentState {
    const s = this.o.incidents.snapshot();
    const open = s.state !== "idle";
    return {
      v: 1,
      pillarId: this.o.pillarId(),
      state: s.state,
      incidentId: open ? s.incidentId : null,
      openedAt: open ? s.openedAt : null,
      presses: open ? s.presses : 0,
      acknowledgedBy: open ? s.acknowledgedBy : null,
      acknowledgedAt: open ? s.acknowledgedAt : null,
      clockSynced: this.o.clock.isSynced(),
      location: this.o.location(),
      ...(open && s.test ? { test: true } : {}),
      at: new Date().toISOString(),
    };
  }

  private schedule(): void {
    if (this.queued) return;
    this.queued = true;
    queueMicrotask(() => {
      this.queued = false;
      if (!this.offs.length || !this.o.uplink.isConnected()) return;
      this.o.uplink
        .publish(this.o.topic(), JSON.stringify(this.current()), { qos: 1, retain: true })
        .catch((err: Error) =>
          this.o.log.warn({ err: err.message }, "incident state not published (again at the next connect)"),
        );
    });
  }
}
