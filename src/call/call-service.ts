import type { Logger } from "pino";
import type { Microphone, Speaker } from "../../hal/audio.js";
import type { PillarBus } from "../bus/events.js";
import { staleness, type FreshnessSettings } from "../commands/freshness.js";
import { uuidv7 } from "../util/uuid-v7.js";
import type { CameraFeed } from "./camera-feed.js";
import { CallSession, type CallSettings, type CallState, type CenterRole, type SessionKind } from "./call-session.js";
import { PeerSession, type PeerState } from "./peer-session.js";
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

/** What the call needs of the uplink (MqttUplink fits). */
export interface SignalingTransport {
  readonly topics: { sub(suffix: string): string };
  publish(topic: string, payload: string, o: { qos?: 0 | 1; retain?: boolean }): Promise<void>;
  subscribe(filter: string, handler: (topic: string, payload: Buffer) => void): () => void;
}

export interface CallServiceDeps {
  bus: PillarBus;
  transport: SignalingTransport;
  camera: CameraFeed;
  mic: Microphone;
  speaker: Speaker;
  settings: () => CallSettings;
  pillarId: () => string;
  /** issuedAt/expiresAt rules for the center's signaling (default: 60 s, 5 s, optional). */
  freshness?: () => FreshnessSettings;
  log: Logger;
}

/** Peer connections alive at once when the config does not say (the active one + one closing). */
export const DEFAULT_MAX_PEERS = 2;

const parse = {
  request: parser(RequestMsg),
  answer: parser(AnswerMsg),
  candidate: parser(CenterCandidateMsg),
  pickup: parser(PickupMsg),
  hangup: parser(HangupMsg),
};

/**
 * The call: one WebRTC session at a time between the pillar and an officer, signaled over MQTT
 * (src/call/signaling.ts). A press offers an alarm session at once (video only: the officer
 * sees the caller); the officer's pickup opens two-way audio; a second officer gets `busy`.
 * Ends by hang-up from either side, the call limit (warning tone first), a lost connection or
 * the incident's close; an alarm nobody picks up goes to the secondary center.
 */
export class CallService {
  private session: CallSession | undefined;
  private offs: (() => void)[] = [];
  private incident: { state: string; incidentId: string | null } = { state: "idle", incidentId: null };
  private volumes: { speaker: number; micGainDb: number } | undefined;
  /** Peer connections alive: the active one and those still closing (bounded by maxPeerSessions). */
  private readonly peers = new Set<PeerSession>();

  constructor(private readonly d: CallServiceDeps) {}

  async start(): Promise<void> {
    const { transport: t, bus, camera } = this.d;
    const on = <M extends { issuedAt?: string; expiresAt?: string }>(
      suffix: string,
      parse: (p: Buffer) => M,
      handle: (m: M) => void | Promise<void>,
    ) =>
      t.subscribe(t.topics.sub(suffix), (_topic, payload) => {
        Promise.resolve()
          .then(() => {
            const m = parse(payload);
            const why = staleness(m, this.d.freshness?.() ?? { maxAgeS: 60, clockToleranceS: 5, required: false });
            if (why) throw new Error(why);
            return handle(m);
          })
          .catch((err: Error) => this.d.log.warn({ topic: suffix, err: err.message }, "signaling message refused"));
      });
    this.offs.push(
      on(T.request, parse.request, (m) => this.onRequest(m)),
      on(T.answer, parse.answer, (m) => this.onAnswer(m)),
      on(T.centerCandidate, parse.candidate, (m) => this.onCandidate(m)),
      on(T.pickup, parse.pickup, (m) => this.onPickup(m)),
      on(T.hangup, parse.hangup, (m) => this.onHangup(m)),
      bus.on("incident.state", (s) => void this.onIncident(s.state, s.incidentId)),
      bus.on("uplink.connected", () => this.onReconnect()),
      camera.onPacket((p) => this.session?.peer.sendVideo(p)),
      this.d.mic.onRtp((p) =>
        this.session?.state === "answered" || this.session?.state === "warning"
          ? this.session.peer.sendAudio(p)
          : undefined,
      ),
    );
  }

  async stop(): Promise<void> {
    for (const off of this.offs) off();
    this.offs = [];
    await this.end("shutdown");
  }

  /** The active session, for /state and the console. */
  snapshot(): Record<string, unknown> | null {
    const s = this.session;
    return s
      ? {
          sessionId: s.id,
          kind: s.kind,
          state: s.state,
          incidentId: s.incidentId,
          center: s.center,
          officer: s.officer,
          endsAt: new Date(s.endsAt).toISOString(),
        }
      : null;
  }

  currentVolumes(): { speaker: number; micGainDb: number } {
    return this.volumes ?? this.d.settings().volumes;
  }

  /**
   * Whether a `call.volume` may change the volumes now: during an answered call only the
   * console that answered it (its call token); with no call bound, the center.
   */
  mayControl(sessionId: string | undefined, token: string | undefined): boolean {
    const s = this.session;
    if (!s?.bound) return true;
    const ok = s.id === sessionId && s.holds(token);
    if (!ok) this.d.log.warn({ sessionId: s.id, officer: s.officer }, "call.volume refused: not the call's owner");
    return ok;
  }

  /** `call.volume`: applies at once (to a running speaker too) and stays until restart. */
  setVolumes(v: { speaker?: number; micGainDb?: number }): { speaker: number; micGainDb: number } {
    const next = { ...this.currentVolumes(), ...v };
    this.volumes = next;
    this.d.speaker.setVolume(next.speaker);
    this.d.mic.setGain(next.micGainDb);
    return next;
  }

  /** Offer a session (alarm: to every console; look-in: to the officer who asked). */
  async offer(
    kind: SessionKind,
    incidentId: string | null,
    center: CenterRole,
    to: string | null,
  ): Promise<CallSession | undefined> {
    const cfg = this.d.settings();
    if (!cfg.enabled || this.session) return undefined;
    const id = uuidv7(Date.now());
    const log = this.d.log.child({ sessionId: id });
    const peer: PeerSession = new PeerSession({
      name: id,
      iceServers: cfg.iceServers,
      bindAddress: cfg.bindAddress,
      log,
      onCandidate: (candidate, mid) => this.sendCandidate(s, candidate, mid),
      onState: (st) => this.onPeerState(s, st),
      onAudio: (p) => (s.state === "answered" || s.state === "warning" ? this.d.speaker.play(p) : undefined),
      onVideoOpen: () => peer.sendBurst(this.d.camera.gop),
    });
    const s = new CallSession(id, kind, incidentId, center, to, peer, Date.now(), cfg.callLimitS);
    this.session = s;
    this.peers.add(peer);
    log.info({ kind, incidentId, center, to }, "offering call session");
    let sdp: string;
    try {
      [, sdp] = await Promise.all([this.d.camera.acquire(), peer.createOffer()]);
    } catch (err) {
      if (s.ended) {
        // closed by a newer request while making the offer: tell the one who asked
        if (to) this.busy(to, null, "busy");
        return undefined;
      }
      await this.end("offer_failed", s);
      throw err;
    }
    if (s.ended) {
      // superseded before its offer went out: the officer who asked still hears back
      if (to) this.busy(to, null, "busy");
      return undefined;
    }
    const offer: OfferMsg = {
      v: 1,
      pillarId: this.d.pillarId(),
      sessionId: id,
      kind,
      incidentId,
      center,
      to,
      sdp,
      limitS: cfg.callLimitS,
      at: new Date().toISOString(),
    };
    s.offerPayload = JSON.stringify(offer);
    this.publish(this.offerTopic(center), s.offerPayload);
    this.publishState(s);
    const warnAt = (cfg.callLimitS - cfg.warningBeforeEndS) * 1000;
    s.after(warnAt, () => this.warn(s));
    s.after(cfg.callLimitS * 1000, () => void this.end("limit", s));
    if (kind === "alarm" && center === "primary" && cfg.secondaryCenterTopic) {
      s.after(cfg.answerTimeoutS * 1000, () => void this.reroute(s));
    }
    return s;
  }

  private offerTopic(center: CenterRole): string {
    const secondary = this.d.settings().secondaryCenterTopic;
    return center === "secondary" && secondary ? `${secondary}/offer` : this.d.transport.topics.sub(T.offer);
  }

  private async onIncident(state: string, incidentId: string | null): Promise<void> {
    this.incident = { state, incidentId };
    // Let the press event reach the outbox first: the call never delays the button path.
    await new Promise((r) => setImmediate(r));
    if (this.incident.incidentId !== incidentId || this.incident.state !== state) return;
    const s = this.session;
    if (state === "alarm") {
      if (s?.kind === "alarm" && s.incidentId === incidentId) return;
      if (s) await this.end("alarm", s);
      await this.offer("alarm", incidentId, "primary", null);
    } else if (state === "idle" && s?.kind === "alarm") {
      await this.end("incident_closed", s);
    }
  }

  /** Peer connections open now (the active one and any still closing). */
  get peerCount(): number {
    return this.peers.size;
  }

  private async onRequest(m: RequestMsg): Promise<void> {
    const s = this.session;
    if (s && (s.remoteSet || s.state === "answered")) {
      // Only the console that has the call may have it offered again (e.g. after a page reload).
      if (!s.mayAct(m.officer, m.callToken)) return this.refuse(s, m.officer, null);
    }
    // A storm of requests must not build a storm of peer connections: beyond the bound, busy.
    if (this.peers.size >= (this.d.settings().maxPeerSessions ?? DEFAULT_MAX_PEERS))
      return this.busy(m.officer, null, "busy");
    // Decided here, synchronously: ending the old session and offering the new one cannot
    // interleave with another request (the camera stays acquired across the swap).
    const ending = s ? this.end("reoffered", s) : undefined;
    const alarm = this.incident.state === "alarm" && m.kind !== "lookin";
    await Promise.all([
      ending,
      this.offer(alarm ? "alarm" : "lookin", alarm ? this.incident.incidentId : null, "primary", m.officer),
    ]);
  }

  /** The session a center message is about, or a `busy`/`no_session`/`not_owner` answer to its sender. */
  private target(sessionId: string, officer: string, token: string): CallSession | undefined {
    const s = this.session;
    // pickup and hang-up need a bound session: an unanswered offer is ended by the pillar only
    if (s && s.id === sessionId && s.bound && s.mayAct(officer, token)) return s;
    if (s && s.id === sessionId) this.refuse(s, officer, sessionId);
    else this.busy(officer, sessionId, s ? "busy" : "no_session");
    return undefined;
  }

  /** Someone other than the answering console acted on the call: refused, logged, told. */
  private refuse(s: CallSession, officer: string, sessionId: string | null): void {
    this.d.log.warn(
      { sessionId: s.id, owner: s.officer, officer, sameName: s.officer === officer },
      "refused: the call belongs to the console that answered it",
    );
    this.busy(officer, sessionId, s.officer === officer ? "not_owner" : "busy");
  }

  private onAnswer(m: AnswerMsg): void {
    const s = this.session;
    if (!s || s.id !== m.sessionId || !s.mayAct(m.officer) || s.bound || s.remoteSet) {
      if (s && s.id === m.sessionId) this.refuse(s, m.officer, m.sessionId);
      else this.busy(m.officer, m.sessionId, s ? "busy" : "no_session");
      return;
    }
    s.bind(m.officer, m.callToken);
    s.remoteSet = true;
    s.peer.setAnswer(m.sdp);
    this.d.log.info({ sessionId: s.id, officer: m.officer }, "officer connected to the session");
  }

  private onCandidate(m: CenterCandidateMsg): void {
    const s = this.session;
    if (s && s.id === m.sessionId && s.mayAct(m.officer, m.callToken)) s.peer.addCandidate(m.candidate, m.mid);
  }

  private async onPickup(m: PickupMsg): Promise<void> {
    const s = this.target(m.sessionId, m.officer, m.callToken);
    if (!s || s.ended || s.state === "answered" || s.state === "warning") return;
    s.answeredAt = Date.now();
    this.setState(s, "answered");
    const v = this.currentVolumes();
    this.d.speaker.setVolume(v.speaker);
    this.d.mic.setGain(v.micGainDb);
    await Promise.all([this.d.speaker.start(), this.d.mic.start()]);
    this.d.log.info({ sessionId: s.id, officer: m.officer }, "call answered: two-way audio");
  }

  private async onHangup(m: HangupMsg): Promise<void> {
    const s = this.target(m.sessionId, m.officer, m.callToken);
    if (s) await this.end(m.reason ? `hangup: ${m.reason}` : "hangup", s);
  }

  private onPeerState(s: CallSession, st: PeerState): void {
    if (s.ended || this.session !== s) return;
    if (st === "connected" && s.state === "offered") this.setState(s, "connected");
    if (st === "failed" || st === "closed") void this.end("connection_lost", s);
    if (st === "disconnected")
      s.after(3000, () => s.peer.peerState === "disconnected" && void this.end("connection_lost", s));
  }

  private warn(s: CallSession): void {
    if (s.ended) return;
    this.setState(s, "warning");
    this.d.speaker.beep(400, 880);
  }

  private async reroute(s: CallSession): Promise<void> {
    if (s.ended || s.state === "answered" || s.state === "warning") return;
    this.d.log.warn({ sessionId: s.id }, "alarm call not picked up: offering it to the secondary center");
    await this.end("answer_timeout", s);
    if (this.incident.state !== "idle") await this.offer("alarm", s.incidentId, "secondary", null);
  }

  /** End the active session (or `only` that one): state `ended`, peer closed, devices released. */
  async end(reason: string, only?: CallSession): Promise<void> {
    const s = this.session;
    if (!s || (only && only !== s) || s.ended) return;
    this.session = undefined;
    s.clearTimers();
    this.setState(s, "ended", reason);
    const closed = s.peer.close().finally(() => this.peers.delete(s.peer));
    this.d.log.info({ sessionId: s.id, reason }, "call session ended");
    await Promise.all([closed, this.d.speaker.stop(), this.d.mic.stop(), this.d.camera.release()]);
  }

  private setState(s: CallSession, state: CallState, reason?: string): void {
    s.state = state;
    this.publishState(s, reason);
    this.d.bus.emit("call.state", {
      sessionId: s.id,
      kind: s.kind,
      state,
      incidentId: s.incidentId,
      officer: s.officer,
      reason,
      at: Date.now(),
    });
  }

  private publishState(s: CallSession, reason?: string): void {
    const msg: SessionMsg = {
      v: 1,
      pillarId: this.d.pillarId(),
      sessionId: s.id,
      kind: s.kind,
      incidentId: s.incidentId,
      center: s.center,
      state: s.state,
      officer: s.officer,
      ...(reason ? { reason } : {}),
      endsAt: new Date(s.endsAt).toISOString(),
      at: new Date().toISOString(),
    };
    this.publish(this.d.transport.topics.sub(T.session), JSON.stringify(msg), true);
  }

  private sendCandidate(s: CallSession, candidate: string, mid: string): void {
    const payload = JSON.stringify({ sessionId: s.id, candidate, mid });
    s.candidates.push(payload);
    if (s.offerPayload) this.publish(this.d.transport.topics.sub(T.pillarCandidate), payload);
  }

  private busy(to: string, sessionId: string | null, reason: BusyMsg["reason"]): void {
    const a = this.session;
    const message =
      reason === "busy"
        ? `the pillar is in a call with ${a?.officer ?? "another officer"}`
        : reason === "not_owner"
          ? "this call belongs to the console that answered it (wrong or missing callToken)"
          : "no such session on this pillar";
    const msg: BusyMsg = {
      v: 1,
      pillarId: this.d.pillarId(),
      to,
      sessionId,
      activeSessionId: a?.id ?? null,
      activeOfficer: a?.officer ?? null,
      reason,
      message,
      at: new Date().toISOString(),
    };
    this.d.log.info({ to, reason }, "signaling refused");
    this.publish(this.d.transport.topics.sub(T.busy), JSON.stringify(msg));
  }

  /** After a reconnect, an offer nobody answered is sent again (with its candidates). */
  private onReconnect(): void {
    const s = this.session;
    if (!s) {
      // No call: clear a retained state a previous run may have left (e.g. after a crash mid-call).
      this.d.transport
        .publish(this.d.transport.topics.sub(T.session), "", { qos: 1, retain: true })
        .catch(() => undefined);
      return;
    }
    if (s.remoteSet || !s.offerPayload) return;
    this.publish(this.offerTopic(s.center), s.offerPayload);
    for (const c of s.candidates) this.publish(this.d.transport.topics.sub(T.pillarCandidate), c);
    this.publishState(s);
  }

  private publish(topic: string, payload: string, retain = false): void {
    this.d.transport
      .publish(topic, payload, { qos: 1, retain })
      .catch((err: Error) => this.d.log.warn({ topic, err: err.message }, "signaling publish failed"));
  }
}
