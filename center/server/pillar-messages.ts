import { type TSchema, Type } from "@sinclair/typebox";
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import { BusyMsg, OfferMsg, PillarCandidateMsg, SessionMsg } from "../../src/call/signaling.js";
import { PillarEventSchema } from "../../src/events/event-schema.js";
import { PillarIncidentStateSchema } from "../../src/incident/incident-state-schema.js";
import { SelftestReportSchema } from "../../src/selftest/report.js";
import { CommandResultSchema, PillarHealthSchema, PillarStatusSchema } from "../../src/uplink/status-schema.js";
import { parseBoundedJson } from "../../src/util/bounded-json.js";

/** What the console takes from the broker; everything else is ignored. */
export type PillarMsgKind =
  | "status"
  | "health"
  | "event"
  | "incident"
  | "selftest"
  | "offer"
  | "candidate"
  | "session"
  | "busy"
  | "result"
  | "snapshot";

/** A pillar message that passed the size, depth and schema checks, as the page receives it. */
export interface PillarMsg {
  kind: PillarMsgKind;
  pillarId: string;
  /** For `result`: the command's name. */
  command?: string;
  /** null: a cleared retained message (e.g. no call session any more). */
  payload: unknown;
  retain: boolean;
  /** When the console received it (ISO, the center's clock). */
  receivedAt: string;
}

/** `pillar/v1/{id}/snapshot` (docs/recording.md): a JPEG of the press moment, base64. */
export const SnapshotSchema = Type.Object(
  {
    v: Type.Literal(1),
    pillarId: Type.String({ maxLength: 64 }),
    incidentId: Type.String({ minLength: 1, maxLength: 64 }),
    pressAt: Type.String({ maxLength: 40 }),
    frameAt: Type.String({ maxLength: 40 }),
    mime: Type.Literal("image/jpeg"),
    bytes: Type.Integer({ minimum: 1, maximum: 300_000 }),
    jpeg: Type.String({ minLength: 4, maxLength: 400_000, pattern: "^/9j/[A-Za-z0-9+/]*={0,2}$" }),
  },
  { additionalProperties: false },
);

const ajv = new Ajv2020({ allErrors: true, strict: false });
const compile = (s: TSchema): ValidateFunction => ajv.compile(s);

/** Issue 11's self-test report (on its own topic and in the selftest command's result). */
const selfTestValid = compile(SelftestReportSchema);

/** Per kind: its JSON Schema and bounds (bytes, nesting) checked before JSON.parse. */
const KINDS: Record<PillarMsgKind, { validate: ValidateFunction; maxBytes: number; maxDepth: number }> = {
  status: { validate: compile(PillarStatusSchema), maxBytes: 4096, maxDepth: 3 },
  health: { validate: compile(PillarHealthSchema), maxBytes: 64 * 1024, maxDepth: 6 },
  event: { validate: compile(PillarEventSchema), maxBytes: 32 * 1024, maxDepth: 6 },
  incident: { validate: compile(PillarIncidentStateSchema), maxBytes: 4096, maxDepth: 2 },
  selftest: { validate: selfTestValid, maxBytes: 64 * 1024, maxDepth: 6 },
  offer: { validate: compile(OfferMsg), maxBytes: 96 * 1024, maxDepth: 2 },
  candidate: { validate: compile(PillarCandidateMsg), maxBytes: 4096, maxDepth: 2 },
  session: { validate: compile(SessionMsg), maxBytes: 4096, maxDepth: 2 },
  busy: { validate: compile(BusyMsg), maxBytes: 4096, maxDepth: 2 },
  result: { validate: compile(CommandResultSchema), maxBytes: 64 * 1024, maxDepth: 8 },
  snapshot: { validate: compile(SnapshotSchema), maxBytes: 420 * 1024, maxDepth: 1 },
};

const TOPIC =
  /^pillar\/v1\/([a-z0-9][a-z0-9-]{1,62})\/(status|health|event|incident|selftest|snapshot|webrtc\/offer|webrtc\/candidate\/pillar|webrtc\/session|webrtc\/busy|cmd\/([a-z][a-z0-9.]{0,63})\/result)$/;
const SUFFIX: Record<string, PillarMsgKind> = {
  "webrtc/offer": "offer",
  "webrtc/candidate/pillar": "candidate",
  "webrtc/session": "session",
  "webrtc/busy": "busy",
};

/** Which pillar and kind a topic is about, or null for a topic the console does not read. */
export function classifyTopic(
  topic: string,
  secondaryOfferTopic?: string,
): { kind: PillarMsgKind; pillarId: string | null; command?: string } | null {
  if (secondaryOfferTopic && topic === secondaryOfferTopic) return { kind: "offer", pillarId: null };
  const m = TOPIC.exec(topic);
  if (!m) return null;
  const suffix = m[2]!;
  if (m[3]) return { kind: "result", pillarId: m[1]!, command: m[3] };
  return { kind: SUFFIX[suffix] ?? (suffix as PillarMsgKind), pillarId: m[1]! };
}

/**
 * Check one broker message: bounded parse, then its schema, then that a message naming a pillar
 * names the one in its topic. Returns the message for the page or throws an Error saying why.
 * An empty payload clears a retained topic (status, session, selftest) and is passed on as null.
 */
export function checkPillarMessage(
  topic: string,
  payload: Buffer,
  retain: boolean,
  secondaryOfferTopic?: string,
): PillarMsg | null {
  const c = classifyTopic(topic, secondaryOfferTopic);
  if (!c) return null;
  const k = KINDS[c.kind];
  const at = new Date().toISOString();
  if (payload.length === 0) {
    if (!c.pillarId || !["status", "session", "selftest", "incident"].includes(c.kind))
      throw new Error("empty payload");
    return { kind: c.kind, pillarId: c.pillarId, payload: null, retain, receivedAt: at };
  }
  const doc = parseBoundedJson(payload, k);
  if (!k.validate(doc))
    throw new Error((k.validate.errors ?? []).map((e) => `${e.instancePath || "/"} ${e.message}`).join("; "));
  // a self-test's result carries its report: checked like the report itself
  const result = (doc as { result?: unknown }).result;
  if (c.command === "selftest" && result !== undefined && result !== null && !selfTestValid(result))
    throw new Error(
      `self-test report: ${(selfTestValid.errors ?? []).map((e) => `${e.instancePath} ${e.message}`).join("; ")}`,
    );
  const named = (doc as { pillarId?: unknown }).pillarId;
  const pillarId = c.pillarId ?? (typeof named === "string" ? named : null);
  if (!pillarId || !/^[a-z0-9][a-z0-9-]{1,62}$/.test(pillarId)) throw new Error("no valid pillarId");
  if (typeof named === "string" && named !== pillarId) throw new Error(`pillarId "${named}" is not the topic's`);
  return {
    kind: c.kind,
    pillarId,
    ...(c.command ? { command: c.command } : {}),
    payload: doc,
    retain,
    receivedAt: at,
  };
}
