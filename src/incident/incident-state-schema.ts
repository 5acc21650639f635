import { type Static, Type } from "@sinclair/typebox";
import { PillarLocationSchema } from "../uplink/status-schema.js";

const IsoTime = Type.String({ minLength: 10, maxLength: 40, pattern: "^\\d{4}-\\d{2}-\\d{2}T" });
const Id = Type.String({ minLength: 1, maxLength: 64 });
const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);

/**
 * `pillar/v1/{id}/incident`, retained (contract v1, README "MQTT contract"): the pillar's open
 * incident as it stands now, published on every change (press, acknowledgement, close) and again
 * on every connect to the broker. A center that starts, restarts or reconnects learns from it
 * what is open, with the time of the incident's first press (`openedAt`), without waiting for
 * the next press. `state: "idle"` (and `incidentId: null`) says nothing is open.
 */
export const PillarIncidentStateSchema = Type.Object(
  {
    v: Type.Literal(1),
    pillarId: Type.String({ minLength: 2, maxLength: 64, pattern: "^[a-z0-9][a-z0-9-]{1,62}$" }),
    state: Type.Union([Type.Literal("idle"), Type.Literal("alarm"), Type.Literal("acknowledged")]),
    incidentId: Nullable(Id),
    openedAt: Type.Union([IsoTime, Type.Null()], { description: "the incident's first press (UTC)" }),
    presses: Type.Integer({ minimum: 0, maximum: 1_000_000 }),
    acknowledgedBy: Nullable(Type.String({ maxLength: 100 })),
    acknowledgedAt: Type.Union([IsoTime, Type.Null()]),
    clockSynced: Type.Boolean(),
    location: PillarLocationSchema,
    test: Type.Optional(Type.Boolean({ description: "true: opened by a press the self-test asked for" })),
    at: IsoTime,
  },
  { additionalProperties: false },
);

export type PillarIncidentState = Static<typeof PillarIncidentStateSchema>;
