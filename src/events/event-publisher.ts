import type { LiveConfig } from "../config/live-config.js";
import type { MessageClass } from "../outbox/journal-codec.js";
import type { Outbox } from "../outbox/outbox.js";
import { uuidv7 } from "../util/uuid-v7.js";
import type { ClockSyncProbe } from "./clock-sync.js";
import type { PillarEventMessage } from "./event-schema.js";

/** Event types of the uplink contract (README "MQTT contract"). */
export type PillarEventType =
  | "button.press"
  | "button.stuck"
  | "button.recovered"
  | "tamper.open"
  | "tamper.closed"
  | "incident.acknowledged"
  | "incident.closed"
  | "fault"
  | "fault.cleared"
  | (string & {});

/** Types that are telemetry: dropped first (oldest first) if the journal nears its bound. */
const TELEMETRY_TYPES = new Set<string>(["incident.closed", "fault.cleared", "button.recovered", "tamper.closed"]);

/** The envelope, derived from its JSON Schema (event-schema.ts); `type` names the contract's types. */
export type PillarEvent = Omit<PillarEventMessage, "type"> & { type: PillarEventType };

/** Builds event envelopes (id, seq, time, place) and hands them to the outbox. */
export class EventPublisher {
  constructor(
    private readonly deps: { config: LiveConfig; outbox: Outbox; clock: ClockSyncProbe; eventTopic: () => string },
  ) {}

  /**
   * Publish an event that occurred at `at` (ms). Returns the event and a promise that resolves
   * once it is durable in the journal.
   */
  publish(
    type: PillarEventType,
    at: number,
    extra: { incidentId?: string | null; data?: Record<string, unknown> } = {},
  ): { event: PillarEvent; durable: Promise<boolean> } {
    const c = this.deps.config.get();
    let event: PillarEvent | undefined;
    const cls: MessageClass = TELEMETRY_TYPES.has(type) ? "telemetry" : "alarm";
    const { durable } = this.deps.outbox.submit(this.deps.eventTopic(), cls, (seq) => {
      event = {
        eventId: uuidv7(at),
        pillarId: c.pillar.id,
        seq,
        type,
        occurredAt: new Date(at).toISOString(),
        clockSynced: this.deps.clock.isSynced(),
        location: {
          lat: c.location.lat,
          lon: c.location.lon,
          address: c.location.address,
          district: c.location.district,
        },
        ...(extra.incidentId ? { incidentId: extra.incidentId } : {}),
        ...(extra.data ? { data: extra.data } : {}),
      };
      return event;
    });
    return { event: event!, durable };
  }
}
