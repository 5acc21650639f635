import type { Logger } from "pino";
import type { CallPeers } from "./call-peers.js";
import type { CallSession, CenterRole, SessionKind } from "./call-session.js";
import type { CallSignaler, CenterHandlers } from "./call-signaler.js";
import type { AnswerMsg, BusyMsg, CenterCandidateMsg, HangupMsg, PickupMsg, RequestMsg } from "./signaling.js";

/** What the center's messages act on: the call service's session, its state and its actions. */
export interface CallActions {
  session(): CallSession | undefined;
  incident(): { state: string; incidentId: string | null };
  readonly peers: CallPeers;
  offer(kind: SessionKind, incidentId: string | null, center: CenterRole, to: string | null): Promise<unknown>;
  end(reason: string, only?: CallSession): Promise<void>;
  rejoin(s: CallSession, officer: string): Promise<void>;
  /** Open two-way audio on `s` (already checked: bound to `officer`, not yet picked up). */
  pickUp(s: CallSession, officer: string): Promise<void>;
  /** The session's offer and state again, for a console that lost them. */
  resendOffer(s: CallSession): void;
  busy(to: string, sessionId: string | null, reason: BusyMsg["reason"]): void;
}

/**
 * What each console message (request, answer, candidate, pickup, hang-up) may do to the call:
 * who claims it, who may re-join it, who is refused and told why. Kept apart from CallService
 * (the session's lifecycle: offer, timers, connection loss, end) because these ownership rules
 * are the security-relevant half of the signaling and read best on their own.
 */
export class CenterMessages implements CenterHandlers {
  constructor(
    private readonly call: CallActions,
    private readonly signal: CallSignaler,
    private readonly log: Logger,
  ) {}

  async request(m: RequestMsg): Promise<void> {
    const s = this.call.session();
    if (s?.bound) {
      // Only the console that claimed the call may have it again: a re-join (e.g. a page reload).
      if (!s.mayAct(m.officer, m.callToken)) return this.refuse(s, m.officer, m.sessionId ?? null);
      return this.call.rejoin(s, m.officer);
    }
    const alarm = this.call.incident().state === "alarm" && m.kind !== "lookin";
    if (s && alarm && s.kind === "alarm" && s.to === null && s.offerPayload) {
      // An unclaimed alarm offer stays everyone's: the console that asked (reloaded) gets it again.
      this.log.info({ sessionId: s.id, officer: m.officer }, "unclaimed alarm offer sent again");
      this.call.resendOffer(s);
      return;
    }
    // A storm of requests must not build a storm of peer connections: beyond the bound, busy.
    if (this.call.peers.size >= this.call.peers.max) return this.call.busy(m.officer, null, "busy");
    // Decided here, synchronously: ending the old session and offering the new one cannot
    // interleave with another request (the camera stays acquired across the swap).
    const ending = s ? this.call.end("reoffered", s) : undefined;
    await Promise.all([
      ending,
      this.call.offer(alarm ? "alarm" : "lookin", alarm ? this.call.incident().incidentId : null, "primary", m.officer),
    ]);
  }

  answer(m: AnswerMsg): void {
    const s = this.call.session();
    this.log.debug({ sessionId: m.sessionId, officer: m.officer }, "answer received");
    const rejoin = s?.bound && !s.remoteSet && s.offerPayload !== undefined && s.mayAct(m.officer, m.callToken);
    if (!s || s.id !== m.sessionId || s.remoteSet || (s.bound && !rejoin) || !s.mayAct(m.officer, m.callToken)) {
      if (s && s.id === m.sessionId) this.refuse(s, m.officer, m.sessionId);
      else this.call.busy(m.officer, m.sessionId, s ? "busy" : "no_session");
      return;
    }
    s.remoteSet = true;
    s.peer.setAnswer(m.sdp);
    if (rejoin) {
      this.log.info({ sessionId: s.id, officer: m.officer }, "console re-joined: answer taken");
      return;
    }
    s.bind(m.officer, m.callToken);
    this.signal.state(s); // every console sees at once who has the call
    this.log.info({ sessionId: s.id, officer: m.officer }, "officer connected to the session");
  }

  candidate(m: CenterCandidateMsg): void {
    const s = this.call.session();
    if (s && s.id === m.sessionId && s.mayAct(m.officer, m.callToken)) s.peer.addCandidate(m.candidate, m.mid);
  }

  async pickup(m: PickupMsg): Promise<void> {
    const s = this.target(m.sessionId, m.officer, m.callToken);
    if (!s || s.ended || s.talking || s.answeredAt !== undefined) return;
    await this.call.pickUp(s, m.officer);
  }

  async hangup(m: HangupMsg): Promise<void> {
    const s = this.target(m.sessionId, m.officer, m.callToken);
    if (s) await this.call.end(m.reason ? `hangup: ${m.reason}` : "hangup", s);
  }

  /** The session a center message is about, or a `busy`/`no_session`/`not_owner` answer to its sender. */
  private target(sessionId: string, officer: string, token: string): CallSession | undefined {
    const s = this.call.session();
    // pickup and hang-up need a bound session: an unanswered offer is ended by the pillar only
    if (s && s.id === sessionId && s.bound && s.mayAct(officer, token)) return s;
    if (s && s.id === sessionId) this.refuse(s, officer, sessionId);
    else this.call.busy(officer, sessionId, s ? "busy" : "no_session");
    return undefined;
  }

  /** Someone other than the answering console acted on the call: refused, logged, told. */
  private refuse(s: CallSession, officer: string, sessionId: string | null): void {
    this.log.warn(
      { sessionId: s.id, owner: s.officer, officer, sameName: s.officer === officer },
      "refused: the call belongs to the console that answered it",
    );
    this.call.busy(officer, sessionId, s.officer === officer ? "not_owner" : "busy");
  }
}
