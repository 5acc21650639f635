import { Type, type Static } from "@sinclair/typebox";

/**
 * The JSON Schema of a message on `pillar/v1/{id}/event` (contract v1). Centers may validate
 * with it; the tests do.
 */
export const PillarEventSchema = Type.Object(
  {
    eventId: Type.String({
      pattern: "^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$",
      description: "UUID v7; de-duplicate on it",
    }),
    pillarId: Type.String({ minLength: 2 }),
    seq: Type.Integer({
      minimum: 1,
      description: "per pillar, strictly increasing across restarts (shared with health messages)",
    }),
    type: Type.String({ minLength: 1 }),
    occurredAt: Type.String({
      pattern: "^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z$",
      description: "ISO 8601 UTC with ms, taken at the debounced edge",
    }),
    clockSynced: Type.Boolean({ description: "false when the pillar's clock is not NTP-synchronised" }),
    location: Type.Object(
      {
        lat: Type.Number({ minimum: -90, maximum: 90 }),
        lon: Type.Number({ minimum: -180, maximum: 180 }),
        address: Type.String(),
        district: Type.String(),
      },
      { additionalProperties: false },
    ),
    incidentId: Type.Optional(Type.String({ description: "the incident a press, ack or close belongs to" })),
    data: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  },
  { additionalProperties: false },
);

export type PillarEventMessage = Static<typeof PillarEventSchema>;
