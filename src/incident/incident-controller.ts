import { Type } from "@sinclair/typebox";
import type { Logger } from "pino";
import type { IncidentState, PillarBus } from "../bus/events.js";
import { CommandFailure, type CommandDef } from "../commands/command-service.js";
import type { EventPublisher } from "../events/event-publisher.js";
import { uuidv7 } from "../util/uuid-v7.js";
import type { IncidentStore } from "./incident-store.js";

export interface IncidentSnapshot {
  state: IncidentState;
  incidentId: string | null;
  openedAt: string | null;
  presses: number;
  acknowledgedBy: string | null;
  acknowledgedAt: string | null;
  /** Opened by a press the self-test asked for (not an alarm). */
  test: boolean;
}

/**
 * The pillar's incident state machine: idle → alarm (a press) → acknowledged (the center's
 * `incident.ack`) → idle (the center's `incident.close`, or by itself `closeAfterAckS` after the
 * acknowledgement). An unacknowledged alarm never ends by itself. Presses during an incident
 * are sent and join the same `incidentId`. Stuck button and tamper go to the center as events.
 */
export class IncidentController {
  private state: IncidentState = "idle";
  private incidentId: string | null = null;
  private openedAt = 0;
  private presses = 0;
  private acknowledgedBy: string | null = null;
  private acknowledgedAt = 0;
  private test = false;
  /** Until when (ms) a press that opens an incident is the self-test's (0: none expected). */
  private testUntil = 0;
  private closeTimer: NodeJS.Timeout | undefined;
  private offs: (() => void)[] = [];

  constructor(
    private readonly o: {
      bus: PillarBus;
      events: EventPublisher;
      log: Logger;
      closeAfterAckS: () => number;
      store: IncidentStore;
    },
  ) {}

  async start(): Promise<void> {
    const { bus, events } = this.o;
    await this.restore();
    this.offs.push(
      bus.on("button.pressed", (p) => this.onPress(p.at)),
      bus.on("button.stuck", (p) =>
        events.publish("button.stuck", p.at, { incidentId: this.incidentId, data: { heldMs: p.heldMs } }),
      ),
      bus.on("button.recovered", (p) => events.publish("button.recovered", p.at, { data: { heldMs: p.heldMs } })),
      bus.on("tamper.changed", (p) => events.publish(p.open ? "tamper.open" : "tamper.closed", p.at)),
    );
  }

  async stop(): Promise<void> {
    for (const off of this.offs) off();
    this.offs = [];
    if (this.closeTimer) clearTimeout(this.closeTimer);
    await this.o.store.settle();
  }

  /** Pick up an incident that was open when the pillar stopped (reboot, power cut, crash). */
  private async restore(): Promise<void> {
    const saved = await this.o.store.load();
    if (!saved || saved.state === "idle" || !saved.incidentId) return;
    Object.assign(this, {
      incidentId: saved.incidentId,
      openedAt: saved.openedAt,
      presses: saved.presses,
      acknowledgedBy: saved.acknowledgedBy,
      acknowledgedAt: saved.acknowledgedAt,
      test: saved.test === true,
    });
    this.o.log.warn({ incidentId: saved.incidentId, state: saved.state }, "open incident restored after restart");
    this.setState(saved.state, Date.now());
    if (saved.state === "acknowledged") this.armClose(saved.incidentId);
  }

  private persist(): void {
    this.o.store.save({
      state: this.state,
      incidentId: this.incidentId,
      openedAt: this.openedAt,
      presses: this.presses,
      acknowledgedBy: this.acknowledgedBy,
      acknowledgedAt: this.acknowledgedAt,
      test: this.test,
    });
  }

  private armClose(incidentId: string): void {
    const leftMs = this.acknowledgedAt + this.o.closeAfterAckS() * 1000 - Date.now();
    this.closeTimer = setTimeout(() => this.close(incidentId, "auto-close after acknowledgement"), Math.max(0, leftMs));
  }

  snapshot(): IncidentSnapshot {
    return {
      state: this.state,
      incidentId: this.incidentId,
      openedAt: this.openedAt ? new Date(this.openedAt).toISOString() : null,
      presses: this.presses,
      acknowledgedBy: this.acknowledgedBy,
      acknowledgedAt:
        this.acknowledgedAt && this.state === "acknowledged" ? new Date(this.acknowledgedAt).toISOString() : null,
      test: this.state !== "idle" && this.test,
    };
  }

  private onPress(at: number): void {
    if (this.state === "idle") {
      this.incidentId = uuidv7(at);
      this.openedAt = at;
      this.presses = 0;
      this.acknowledgedBy = null;
      this.test = at <= this.testUntil;
      this.testUntil = 0;
      this.setState("alarm", at);
    }
    this.presses++;
    this.o.log.info(
      { incidentId: this.incidentId, press: this.presses },
      this.presses === 1 ? "alarm: button pressed" : "repeat press joins incident",
    );
    this.o.events.publish("button.press", at, {
      incidentId: this.incidentId,
      // openedAt: a center that missed the first press still counts from it
      data: {
        press: this.presses,
        incidentState: this.state,
        openedAt: new Date(this.openedAt).toISOString(),
        ...(this.test ? { test: true } : {}),
      },
    });
    this.persist();
    if (this.incidentId)
      this.o.bus.emit("incident.press", { incidentId: this.incidentId, press: this.presses, at, test: this.test });
  }

  private setState(state: IncidentState, at: number): void {
    this.state = state;
    this.o.bus.emit("incident.state", { state, incidentId: this.incidentId, at, test: state !== "idle" && this.test });
  }

  acknowledge(incidentId: string, operator: string | undefined): IncidentSnapshot {
    this.requireCurrent(incidentId);
    if (this.state === "alarm") {
      const at = Date.now();
      this.acknowledgedBy = operator ?? null;
      this.acknowledgedAt = at;
      this.setState("acknowledged", at);
      this.o.events.publish("incident.acknowledged", at, { incidentId, data: { operator: operator ?? null } });
      this.armClose(incidentId);
      this.persist();
    }
    return this.snapshot();
  }

  /**
   * The self-test is about to ask for a press: a press that opens an incident before `untilMs`
   * (ms since epoch; 0 cancels) opens a test incident (`data.test` in its events, no call).
   */
  expectTestPress(untilMs: number): void {
    this.testUntil = untilMs;
  }

  /** Closes the open incident if it is a test incident (the self-test saw its press). */
  closeTest(): void {
    if (this.state !== "idle" && this.test && this.incidentId) this.close(this.incidentId, "self-test press");
  }

  close(incidentId: string, reason: string): IncidentSnapshot {
    this.requireCurrent(incidentId);
    if (this.state === "alarm" && !this.test)
      throw new CommandFailure("not_acknowledged", "acknowledge the incident before closing it");
    if (this.closeTimer) clearTimeout(this.closeTimer);
    const at = Date.now();
    this.o.events.publish("incident.closed", at, {
      incidentId,
      data: { reason, presses: this.presses, durationMs: at - this.openedAt, ...(this.test ? { test: true } : {}) },
    });
    this.incidentId = null;
    this.setState("idle", at);
    this.persist();
    return this.snapshot();
  }

  private requireCurrent(incidentId: string): void {
    if (this.state === "idle" || incidentId !== this.incidentId) {
      throw new CommandFailure("not_found", `no open incident ${incidentId} (current: ${this.incidentId ?? "none"})`);
    }
  }

  /** The center's commands for incidents. */
  commands(): CommandDef[] {
    const id = Type.String({ minLength: 1, maxLength: 64 });
    return [
      {
        name: "incident.ack",
        description: "acknowledge the open incident; the pillar shows 'help is coming'",
        args: { incidentId: id, operator: Type.Optional(Type.String({ maxLength: 100 })) },
        handle: (a: { incidentId: string; operator?: string }) => this.acknowledge(a.incidentId, a.operator),
      } as CommandDef,
      {
        name: "incident.close",
        description: "close an acknowledged incident",
        args: { incidentId: id, reason: Type.Optional(Type.String({ maxLength: 200 })) },
        handle: (a: { incidentId: string; reason?: string }) =>
          this.close(a.incidentId, a.reason ?? "closed by the center"),
      } as CommandDef,
    ];
  }
}
