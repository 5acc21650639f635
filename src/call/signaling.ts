import { parseBoundedJson } from "../util/bounded-json.js";
import { Type, type Static, type TSchema } from "@sinclair/typebox";
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import { FreshnessFields } from "../commands/freshness.js";

/**
 * The WebRTC signaling contract (v1) between a pillar and a control center, carried on the
 * pillar's MQTT connection below `pillar/v1/{id}/webrtc/`. The pillar always makes the offer.
 * See docs/call.md "Signaling" for the sequence.
 */
export const SIGNALING_TOPICS = {
  /** pillar → center: a session offer (QoS 1). Also sent to `{secondaryCenterTopic}/offer`. */
  offer: "webrtc/offer",
  /** pillar → center: the pillar's trickled ICE candidates. */
  pillarCandidate: "webrtc/candidate/pillar",
  /** pillar → center: the session's state, retained (the last one is always there). */
  session: "webrtc/session",
  /** pillar → center: a refusal addressed to one officer (another officer has the call). */
  busy: "webrtc/busy",
  /**
   * center → pillar: ask for a session: a look-in; the offer of a waiting (unclaimed) alarm call
   * again; or, with the claiming console's callToken, a re-join of its call (docs/call.md).
   */
  request: "webrtc/request",
  /** center → pillar: the SDP answer to an offer. */
  answer: "webrtc/answer",
  /** center → pillar: the console's ICE candidates. */
  centerCandidate: "webrtc/candidate/center",
  /** center → pillar: the officer picks up: two-way audio opens. */
  pickup: "webrtc/pickup",
  /** center → pillar: the officer hangs up. */
  hangup: "webrtc/hangup",
} as const;

const Id = Type.String({ minLength: 1, maxLength: 128 });
const Officer = Type.String({ minLength: 1, maxLength: 128, description: "who acts: an officer or console id" });
const Sdp = Type.String({ minLength: 10, maxLength: 65_536 });
export const SessionKind = Type.Union([Type.Literal("alarm"), Type.Literal("lookin")]);
export const SessionState = Type.Union([
  Type.Literal("offered"),
  Type.Literal("connected"),
  Type.Literal("answered"),
  Type.Literal("warning"),
  Type.Literal("rejoining"),
  Type.Literal("ended"),
]);

const strict = { additionalProperties: false } as const;

/**
 * The call's ownership token: a secret the answering console makes (≥ 128 random bits) and sends
 * with its answer; the pillar keeps only its SHA-256. Pickup, hang-up, candidates, a re-offer
 * and `call.volume` during the call must carry it: an officer id alone is only a name.
 */
const CallToken = Type.String({ minLength: 16, maxLength: 128, pattern: "^[A-Za-z0-9_-]+$" });

/** Messages from the center (validated; unknown fields refused; issuedAt checked for freshness). */
export const RequestMsg = Type.Object(
  {
    officer: Officer,
    kind: Type.Optional(SessionKind),
    requestId: Type.Optional(Id),
    sessionId: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 128,
        description: "re-join: the claimed session this console had (with its callToken)",
      }),
    ),
    callToken: Type.Optional(CallToken),
    ...FreshnessFields,
  },
  strict,
);
export const AnswerMsg = Type.Object(
  { sessionId: Id, officer: Officer, sdp: Sdp, callToken: CallToken, ...FreshnessFields },
  strict,
);
export const CenterCandidateMsg = Type.Object(
  {
    sessionId: Id,
    officer: Officer,
    callToken: CallToken,
    candidate: Type.String({ maxLength: 2048 }),
    mid: Type.String({ maxLength: 64 }),
    ...FreshnessFields,
  },
  strict,
);
export const PickupMsg = Type.Object(
  { sessionId: Id, officer: Officer, callToken: CallToken, ...FreshnessFields },
  strict,
);
export const HangupMsg = Type.Object(
  {
    sessionId: Id,
    officer: Officer,
    callToken: CallToken,
    reason: Type.Optional(Type.String({ maxLength: 200 })),
    ...FreshnessFields,
  },
  strict,
);

/** Messages from the pillar (the same schemas are used by tests and the console). */
/** The fields every pillar → center session message starts with. */
const SessionHeader = {
  v: Type.Literal(1),
  pillarId: Id,
  sessionId: Id,
  kind: SessionKind,
  incidentId: Type.Union([Id, Type.Null()]),
  center: Type.Union([Type.Literal("primary"), Type.Literal("secondary")]),
};
export const OfferMsg = Type.Object(
  {
    ...SessionHeader,
    to: Type.Union([Officer, Type.Null()], { description: "the officer who asked, or null: any officer may take it" }),
    sdp: Sdp,
    limitS: Type.Integer(),
    rejoin: Type.Optional(
      Type.Literal(true, { description: "a new offer of a claimed session for its console to re-join" }),
    ),
    at: Type.String(),
  },
  strict,
);
export const PillarCandidateMsg = Type.Object({ sessionId: Id, candidate: Type.String(), mid: Type.String() }, strict);
export const SessionMsg = Type.Object(
  {
    ...SessionHeader,
    state: SessionState,
    officer: Type.Union([Officer, Type.Null()]),
    reason: Type.Optional(Type.String()),
    endsAt: Type.Optional(Type.String()),
    graceEndsAt: Type.Optional(
      Type.String({ description: "rejoining: the call ends then unless its console re-joins" }),
    ),
    at: Type.String(),
  },
  strict,
);
export const BusyMsg = Type.Object(
  {
    v: Type.Literal(1),
    pillarId: Id,
    to: Officer,
    sessionId: Type.Union([Id, Type.Null()]),
    activeSessionId: Type.Union([Id, Type.Null()]),
    activeOfficer: Type.Union([Officer, Type.Null()]),
    reason: Type.Union([
      Type.Literal("busy"),
      Type.Literal("no_session"),
      Type.Literal("disabled"),
      Type.Literal("not_owner"),
    ]),
    message: Type.String(),
    at: Type.String(),
  },
  strict,
);

export type RequestMsg = Static<typeof RequestMsg>;
export type AnswerMsg = Static<typeof AnswerMsg>;
export type CenterCandidateMsg = Static<typeof CenterCandidateMsg>;
export type PickupMsg = Static<typeof PickupMsg>;
export type HangupMsg = Static<typeof HangupMsg>;
export type OfferMsg = Static<typeof OfferMsg>;
export type SessionMsg = Static<typeof SessionMsg>;
export type BusyMsg = Static<typeof BusyMsg>;

const ajv = new Ajv2020({ allErrors: true, strict: false });

/** A signaling message: an SDP (≤ 64 KiB) and a few fields; flat (nothing nests deeper than 2). */
export const SIGNALING_BOUNDS = { maxBytes: 96 * 1024, maxDepth: 4 } as const;

/** Parse and validate one MQTT payload; throws an Error naming every problem. */
export function parser<T extends TSchema>(schema: T): (payload: Buffer | string) => Static<T> {
  const validate: ValidateFunction = ajv.compile(schema);
  return (payload) => {
    let doc: unknown;
    try {
      doc = parseBoundedJson(payload, SIGNALING_BOUNDS);
    } catch (err) {
      throw new Error(`refused (not JSON, too large or too deep): ${(err as Error).message}`);
    }
    if (!validate(doc)) {
      throw new Error((validate.errors ?? []).map((e) => `${e.instancePath || "/"} ${e.message}`).join("; "));
    }
    return doc as Static<T>;
  };
}
