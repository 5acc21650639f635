import type { Logger } from "pino";
import { staleness, type FreshnessSettings } from "../commands/freshness.js";
import type { CallSession, CenterRole } from "./call-session.js";
import {
  AnswerMsg,
  CenterCandidateMsg,
  HangupMsg,
  parser,
  PickupMsg,
  RequestMsg,
  SIGNALING_TOPICS as T,
  type BusyMsg,
  type OfferMsg,
  type SessionMsg,
} from "./signaling.js";

const parse = {
  request: parser(RequestMsg),
  answer: parser(AnswerMsg),
  candidate: parser(CenterCandidateMsg),
  pickup: parser(PickupMsg),
  hangup: parser(HangupMsg),
};

/** Handlers of the center's signaling messages (each validated and checked fresh first). */
export interface CenterHandlers {
  request(m: RequestMsg): void | Promise<void>;
  answer(m: AnswerMsg): void | Promise<void>;
  candidate(m: CenterCandidateMsg): void | Promise<void>;
  pickup(m: PickupMsg): void | Promise<void>;
  hangup(m: HangupMsg): void | Promise<void>;
}

/** What the call needs of the uplink (MqttUplink fits). */
export interface SignalingTransport {
  readonly topics: { sub(suffix: string): string };
  publish(topic: string, payload: string, o: { qos?: 0 | 1; retain?: boolean }): Promise<void>;
  subscribe(filter: string, handler: (topic: string, payload: Buffer) => void): () => void;
}

/**
 * The pillar → center half of the signaling contract (src/call/signaling.ts): offers, trickled
 * candidates, the retained session state and `busy` refusals. Live-only messages (QoS 1, a
 * failed publish is logged: an offer is re-sent after a reconnect, the state is retained).
 */
export class CallSignaler {
  constructor(
    private readonly d: {
      transport: SignalingTransport;
      pillarId: () => string;
      secondaryCenterTopic: () => string | undefined;
      log: Logger;
    },
  ) {}

  /**
   * Subscribe to the center's messages: each is parsed (bounded, schema-checked, unknown fields
   * refused) and checked for freshness before its handler runs; a refused one is logged only.
   */
  listen(freshness: () => FreshnessSettings, h: CenterHandlers): (() => void)[] {
    const t = this.d.transport;
    const on = <M extends { issuedAt?: string; expiresAt?: string }>(
      suffix: string,
      parseIt: (p: Buffer) => M,
      handle: (m: M) => void | Promise<void>,
    ) =>
      t.subscribe(t.topics.sub(suffix), (_topic, payload) => {
        Promise.resolve()
          .then(() => {
            const m = parseIt(payload);
            const why = staleness(m, freshness());
            if (why) throw new Error(why);
            return handle(m);
          })
          .catch((err: Error) => this.d.log.warn({ topic: suffix, err: err.message }, "signaling message refused"));
      });
    return [
      on(T.request, parse.request, (m) => h.request(m)),
      on(T.answer, parse.answer, (m) => h.answer(m)),
      on(T.centerCandidate, parse.candidate, (m) => h.candidate(m)),
      on(T.pickup, parse.pickup, (m) => h.pickup(m)),
      on(T.hangup, parse.hangup, (m) => h.hangup(m)),
    ];
  }

  private sub(suffix: string): string {
    return this.d.transport.topics.sub(suffix);
  }

  private offerTopic(center: CenterRole): string {
    const secondary = this.d.secondaryCenterTopic();
    return center === "secondary" && secondary ? `${secondary}/offer` : this.sub(T.offer);
  }

  /** The fields every pillar → center session message starts with. */
  private header(s: CallSession) {
    return {
      v: 1 as const,
      pillarId: this.d.pillarId(),
      sessionId: s.id,
      kind: s.kind,
      incidentId: s.incidentId,
      center: s.center,
    };
  }

  /** Publish the session's offer (kept on the session for a re-send). */
  offer(s: CallSession, sdp: string, limitS: number, rejoin: boolean): void {
    const offer: OfferMsg = {
      ...this.header(s),
      to: rejoin ? s.officer : s.to,
      sdp,
      limitS,
      ...(rejoin ? { rejoin: true } : {}),
      at: new Date().toISOString(),
    };
    s.offerPayload = JSON.stringify(offer);
    // Only the offer: candidates gathered before it are not sent now. A console that learnt them
    // early starts ICE and DTLS before the pillar has its answer, and libdatachannel then fails
    // the DTLS handshake now and then (seen as "certificate verify failed" in the tests).
    this.publish(this.offerTopic(s.center), s.offerPayload);
  }

  /** The session's offer and candidates again (after a reconnect, or for a console that reloaded). */
  resend(s: CallSession): void {
    if (!s.offerPayload) return;
    this.publish(this.offerTopic(s.center), s.offerPayload);
    for (const c of s.candidates) this.publish(this.sub(T.pillarCandidate), c);
  }

  candidate(s: CallSession, candidate: string, mid: string): void {
    const payload = JSON.stringify({ sessionId: s.id, candidate, mid });
    s.candidates.push(payload);
    if (s.offerPayload) this.publish(this.sub(T.pillarCandidate), payload);
  }

  /** The retained session state. */
  state(s: CallSession, reason?: string): void {
    const msg: SessionMsg = {
      ...this.header(s),
      state: s.state,
      officer: s.officer,
      ...(reason ? { reason } : {}),
      endsAt: new Date(s.endsAt).toISOString(),
      ...(s.state === "rejoining" && s.graceUntil ? { graceEndsAt: new Date(s.graceUntil).toISOString() } : {}),
      at: new Date().toISOString(),
    };
    this.publish(this.sub(T.session), JSON.stringify(msg), true);
  }

  /** No call: clear a retained state a previous run may have left (e.g. after a crash mid-call). */
  clearState(): void {
    this.d.transport.publish(this.sub(T.session), "", { qos: 1, retain: true }).catch(() => undefined);
  }

  /** A refusal addressed to one officer; `active` is the call the pillar is in, if any. */
  busy(to: string, sessionId: string | null, reason: BusyMsg["reason"], active: CallSession | undefined): void {
    const message =
      reason === "busy"
        ? active?.kind === "alarm" && active.officer
          ? `answered by ${active.officer}`
          : `the pillar is in a call with ${active?.officer ?? "another officer"}`
        : reason === "not_owner"
          ? "this call belongs to the console that answered it (wrong or missing callToken)"
          : "no such session on this pillar";
    const msg: BusyMsg = {
      v: 1,
      pillarId: this.d.pillarId(),
      to,
      sessionId,
      activeSessionId: active?.id ?? null,
      activeOfficer: active?.officer ?? null,
      reason,
      message,
      at: new Date().toISOString(),
    };
    this.d.log.info({ to, reason }, "signaling refused");
    this.publish(this.sub(T.busy), JSON.stringify(msg));
  }

  private publish(topic: string, payload: string, retain = false): void {
    this.d.transport
      .publish(topic, payload, { qos: 1, retain })
      .catch((err: Error) => this.d.log.warn({ topic, err: err.message }, "signaling publish failed"));
  }
}
