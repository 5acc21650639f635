import { Type, type Static } from "@sinclair/typebox";

/**
 * JSON Schemas of the pillar's retained status, its health message and its command results
 * (contract v1, README "MQTT contract"). The console validates every message with them before
 * anything is shown; unknown extra fields of health (a feature's own section) are allowed.
 */
const Text = (max: number) => Type.String({ maxLength: max });
const IsoTime = Type.String({ minLength: 10, maxLength: 40, pattern: "^\\d{4}-\\d{2}-\\d{2}T" });
const PillarId = Type.String({ minLength: 2, maxLength: 64, pattern: "^[a-z0-9][a-z0-9-]{1,62}$" });

/** Where a pillar stands (the config's `location`), announced in its status. */
export const PillarLocationSchema = Type.Object(
  {
    lat: Type.Number({ minimum: -90, maximum: 90 }),
    lon: Type.Number({ minimum: -180, maximum: 180 }),
    address: Text(200),
    district: Text(100),
  },
  { additionalProperties: false },
);

/** `pillar/v1/{id}/status`, retained: online on connect, offline as the last will or on shutdown. */
export const PillarStatusSchema = Type.Object(
  {
    state: Type.Union([Type.Literal("online"), Type.Literal("offline")]),
    pillarId: PillarId,
    version: Text(64),
    startedAt: IsoTime,
    uptimeS: Type.Integer({ minimum: 0 }),
    at: IsoTime,
    reason: Type.Optional(Text(200)),
    location: Type.Optional(PillarLocationSchema),
  },
  { additionalProperties: false },
);

export const PillarFaultSchema = Type.Object(
  { component: Text(64), code: Text(64), message: Text(500), since: IsoTime },
  { additionalProperties: false },
);

/** `pillar/v1/{id}/health`: the fields the center reads; sections of features pass through. */
export const PillarHealthSchema = Type.Object(
  {
    pillarId: PillarId,
    at: IsoTime,
    uptimeS: Type.Integer({ minimum: 0 }),
    seq: Type.Optional(Type.Integer({ minimum: 1 })),
    faults: Type.Array(PillarFaultSchema, { maxItems: 64 }),
    components: Type.Optional(Type.Record(Type.String({ maxLength: 64 }), Text(64))),
  },
  { additionalProperties: true },
);

/** `pillar/v1/{id}/cmd/{name}/result`. */
export const CommandResultSchema = Type.Object(
  {
    correlationId: Type.Union([Text(64), Type.Null()]),
    command: Type.Optional(Text(64)),
    ok: Type.Boolean(),
    result: Type.Optional(Type.Unknown()),
    error: Type.Optional(Type.Object({ code: Text(64), message: Text(1000) }, { additionalProperties: true })),
    at: Type.Optional(IsoTime),
  },
  { additionalProperties: false },
);

export type PillarStatus = Static<typeof PillarStatusSchema>;
export type PillarHealth = Static<typeof PillarHealthSchema>;
export type CommandResultMsg = Static<typeof CommandResultSchema>;
