import { type TSchema, Type } from "@sinclair/typebox";
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import { AnswerMsg, CenterCandidateMsg, HangupMsg, PickupMsg, RequestMsg } from "../../src/call/signaling.js";
import { parseBoundedJson } from "../../src/util/bounded-json.js";

const Correlation = Type.String({ minLength: 1, maxLength: 64 });
const IncidentId = Type.String({ minLength: 1, maxLength: 64 });
const Fresh = { issuedAt: Type.String({ minLength: 20, maxLength: 35 }) };
const strict = { additionalProperties: false } as const;

/** The self-test command's name on the pillar (agreed in the issue 12 protocol notes). */
export const SELFTEST_COMMAND = "selftest";

/** What the page may publish, by topic suffix, with the schema its payload must meet. */
const ALLOWED: Record<string, TSchema> = {
  "webrtc/request": RequestMsg,
  "webrtc/answer": AnswerMsg,
  "webrtc/candidate/center": CenterCandidateMsg,
  "webrtc/pickup": PickupMsg,
  "webrtc/hangup": HangupMsg,
  "cmd/incident.ack": Type.Object(
    {
      correlationId: Correlation,
      incidentId: IncidentId,
      operator: Type.Optional(Type.String({ maxLength: 100 })),
      ...Fresh,
    },
    strict,
  ),
  "cmd/incident.close": Type.Object(
    {
      correlationId: Correlation,
      incidentId: IncidentId,
      reason: Type.Optional(Type.String({ maxLength: 200 })),
      ...Fresh,
    },
    strict,
  ),
  [`cmd/${SELFTEST_COMMAND}`]: Type.Object({ correlationId: Correlation, ...Fresh }, strict),
};

const ajv = new Ajv2020({ allErrors: true, strict: false });
const validators = new Map<string, ValidateFunction>(Object.entries(ALLOWED).map(([k, s]) => [k, ajv.compile(s)]));
const TOPIC = /^pillar\/v1\/([a-z0-9][a-z0-9-]{1,62})\/(.+)$/;

/** A page's publish, checked: the topic and the payload to send (stamped with the center's clock). */
export interface CheckedPublish {
  topic: string;
  payload: Record<string, unknown>;
}

/**
 * Check `POST /api/publish`'s body `{topic, payload}`: bounded JSON, a topic the console may
 * publish to (the center's side of signaling, incident ack/close, the self-test command) and a
 * payload that meets that message's schema. `issuedAt` is set from the server's clock (the
 * center's, not the browser's: pillars refuse stale ones). Returns [status, error] when refused.
 */
export function checkPublish(text: string): CheckedPublish | [number, string] {
  let doc: { topic?: unknown; payload?: unknown };
  try {
    doc = parseBoundedJson(text, { maxBytes: 96 * 1024, maxDepth: 4 }) as typeof doc;
  } catch (err) {
    return [400, `body refused: ${(err as Error).message}`];
  }
  if (!doc || typeof doc !== "object") return [400, "body must be an object"];
  const m = typeof doc.topic === "string" ? TOPIC.exec(doc.topic) : null;
  const validate = m ? validators.get(m[2]!) : undefined;
  if (!m || !validate) return [403, `the console may not publish to ${String(doc.topic).slice(0, 200)}`];
  if (!doc.payload || typeof doc.payload !== "object" || Array.isArray(doc.payload))
    return [400, "payload must be an object"];
  const payload = { ...(doc.payload as Record<string, unknown>), issuedAt: new Date().toISOString() };
  if (!validate(payload))
    return [400, (validate.errors ?? []).map((e) => `${e.instancePath || "/"} ${e.message}`).join("; ")];
  return { topic: doc.topic as string, payload };
}
