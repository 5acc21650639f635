import type { Logger } from "pino";
import type { Microphone, Speaker } from "../../hal/audio.js";
import type { PillarBus } from "../bus/events.js";
import type { FreshnessSettings } from "../commands/freshness.js";
import { uuidv7 } from "../util/uuid-v7.js";
import type { CameraFeed } from "./camera-feed.js";
import { CallSession, type CallSettings, type CallState, type CenterRole, type SessionKind } from "./call-session.js";
import { PeerSession, type PeerState } from "./peer-session.js";
import { CallSignaler, type SignalingTransport } from "./call-signaler.js";
import type { AnswerMsg, BusyMsg, CenterCandidateMsg, HangupMsg, PickupMsg, RequestMsg } from "./signaling.js";

export type { SignalingTransport } from "./call-signaler.js";

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
  /** The caller's prompts: while they speak over the call, the officer's voice waits. */
  prompts?: { readonly speaking: boolean };
}

/** Seconds the caller's side waits for the claiming console when the config does not say. */
export const DEFAULT_REJOIN_GRACE_S = 30;

/** Peer connections alive at once when the config does not say (the active one + one closing). */
export const DEFAULT_MAX_PEERS = 2;

/**
 * The call: one WebRTC session at a time between the pillar and an officer, signaled over MQTT
 * (src/call/signaling.ts). A press offers an alarm session at once (video only: the officer
 * sees the caller); the first console to answer claims it (the others get "answered by …");
 * its pickup opens two-way audio. When the officer's side drops, the session waits
 * `rejoinGraceS` for the same console (its callToken) to re-join with a new peer connection.
 * Ends by hang-up from either side, the call limit (warning first), a lost connection not
 * re-joined in time, or the incident's close; an alarm nobody picks up goes to the secondary.
 */
export class CallService {
  private session: CallSession | undefined;
  private offs: (() => void)[] = [];
  private incident: { state: string; incidentId: string | null } = { state: "idle", incidentId: null };
  private volumes: { speaker: number; micGainDb: number } | undefined;
  /** Peer connections alive: the active one and those still closing (bounded by maxPeerSessions). */
  private readonly peers = new Set<PeerSession>();
  private signal!: CallSignaler;

  constructor(private readonly d: CallServiceDeps) {}

  async start(): Promise<void> {
    const { transport: t, bus, camera } = this.d;
    this.signal = new CallSignaler({
      transport: t,
      pillarId: this.d.pillarId,
      secondaryCenterTopic: () => this.d.settings().secondaryCenterTopic,
      log: this.d.log,
    });
    const freshness = () => this.d.freshness?.() ?? { maxAgeS: 60, clockToleranceS: 5, required: false };
    this.offs.push(
      ...this.signal.listen(freshness, {
        request: (m) => this.onRequest(m),
        answer: (m) => this.onAnswer(m),
        candidate: (m) => this.onCandidate(m),
        pickup: (m) => this.onPickup(m),
        hangup: (m) => this.onHangup(m),
      }),
      bus.on("incident.state", (s) => void this.onIncident(s.state, s.incidentId)),
      bus.on("uplink.connected", () => this.onReconnect()),
      camera.onPacket((p) => this.session?.peer.sendVideo(p)),
      this.d.mic.onRtp((p) => (this.talking(this.session) ? this.session?.peer.sendAudio(p) : undefined)),
    );
  }

  async stop(): Promise<void> {
    for (const off of this.offs) off();
    this.offs = [];
    await this.end("shutdown");
  }

  /** The active session, for /state and the console. */
  snapshot(): Record<string, unknown> | null {
    return this.session?.snapshot() ?? null;
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

  /** Two-way audio is open (answered, or in its last minute). */
  private talking(s: CallSession | undefined): boolean {
    return s?.state === "answered" || s?.state === "warning";
  }

  /** A peer connection for `s` (the first, or a re-join's); its events count only while it is the session's. */
  private makePeer(s: () => CallSession, id: string): PeerSession {
    const cfg = this.d.settings();
    const peer: PeerSession = new PeerSession({
      name: id,
      iceServers: cfg.iceServers,
      bindAddress: cfg.bindAddress,
      log: this.d.log.child({ sessionId: id }),
      onCandidate: (candidate, mid) => s().peer === peer && this.signal.candidate(s(), candidate, mid),
      onState: (st) => s().peer === peer && this.onPeerState(s(), st),
      onAudio: (p) =>
        s().peer === peer && this.talking(s()) && !this.d.prompts?.speaking ? this.d.speaker.play(p) : undefined,
      onVideoOpen: () => peer.sendBurst(this.d.camera.gop),
    });
    this.peers.add(peer);
    return peer;
  }

  private closePeer(peer: PeerSession): Promise<void> {
    return peer.close().finally(() => this.peers.delete(peer));
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
    const peer = this.makePeer(() => s, id);
    const s = new CallSession(id, kind, incidentId, center, to, peer, Date.now(), cfg.callLimitS);
    this.session = s;
    this.d.log.info({ sessionId: id, kind, incidentId, center, to }, "offering call session");
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
    this.signal.offer(s, sdp, cfg.callLimitS, false);
    this.setState(s, "offered");
    const warnAt = (cfg.callLimitS - cfg.warningBeforeEndS) * 1000;
    s.after(warnAt, () => this.warn(s));
    s.after(cfg.callLimitS * 1000, () => void this.end("limit", s));
    if (kind === "alarm" && center === "primary" && cfg.secondaryCenterTopic) {
      s.after(cfg.answerTimeoutS * 1000, () => void this.reroute(s));
    }
    return s;
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
    if (s?.bound) {
      // Only the console that claimed the call may have it again: a re-join (e.g. a page reload).
      if (!s.mayAct(m.officer, m.callToken)) return this.refuse(s, m.officer, m.sessionId ?? null);
      return this.rejoin(s, m.officer);
    }
    const alarm = this.incident.state === "alarm" && m.kind !== "lookin";
    if (s && alarm && s.kind === "alarm" && s.to === null && s.offerPayload) {
      // An unclaimed alarm offer stays everyone's: the console that asked (reloaded) gets it again.
      this.d.log.info({ sessionId: s.id, officer: m.officer }, "unclaimed alarm offer sent again");
      this.signal.resend(s);
      this.signal.state(s);
      return;
    }
    // A storm of requests must not build a storm of peer connections: beyond the bound, busy.
    if (this.peers.size >= (this.d.settings().maxPeerSessions ?? DEFAULT_MAX_PEERS))
      return this.busy(m.officer, null, "busy");
    // Decided here, synchronously: ending the old session and offering the new one cannot
    // interleave with another request (the camera stays acquired across the swap).
    const ending = s ? this.end("reoffered", s) : undefined;
    await Promise.all([
      ending,
      this.offer(alarm ? "alarm" : "lookin", alarm ? this.incident.incidentId : null, "primary", m.officer),
    ]);
  }

  /**
   * The claiming console asked again (reload, network blip): the same session gets a new peer
   * connection and a new offer (`rejoin: true`, to that officer); the caller's side, the
   * incident, the timers and the binding stay. The newest re-join wins.
   */
  private async rejoin(s: CallSession, officer: string): Promise<void> {
    if (this.peers.size > (this.d.settings().maxPeerSessions ?? DEFAULT_MAX_PEERS))
      return this.busy(officer, s.id, "busy");
    const old = s.peer;
    const peer = this.makePeer(() => s, s.id);
    s.peer = peer;
    s.remoteSet = false;
    s.offerPayload = undefined;
    s.candidates = [];
    void this.closePeer(old);
    if (s.state !== "rejoining") this.awaitRejoin(s, "rejoin");
    this.d.log.info({ sessionId: s.id, officer: s.officer }, "console re-joins the call: new offer");
    let sdp: string;
    try {
      sdp = await peer.createOffer();
    } catch (err) {
      if (s.peer !== peer || s.ended) return;
      this.d.log.error({ sessionId: s.id, err: (err as Error).message }, "re-join offer failed");
      return; // the grace timer ends the call if no later re-join works
    }
    if (s.peer !== peer || s.ended) return;
    this.signal.offer(s, sdp, this.d.settings().callLimitS, true);
  }

  /** The officer's side is gone: keep the caller's side for the grace time ("please wait"). */
  private awaitRejoin(s: CallSession, reason: string): void {
    const graceMs = (this.d.settings().rejoinGraceS ?? DEFAULT_REJOIN_GRACE_S) * 1000;
    const until = Date.now() + graceMs;
    s.graceUntil = until;
    this.setState(s, "rejoining", reason);
    s.after(graceMs, () => {
      if (s.state === "rejoining" && s.graceUntil === until) void this.end("connection_lost", s);
    });
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
    this.d.log.debug({ sessionId: m.sessionId, officer: m.officer }, "answer received");
    const rejoin = s?.bound && !s.remoteSet && s.offerPayload !== undefined && s.mayAct(m.officer, m.callToken);
    if (!s || s.id !== m.sessionId || s.remoteSet || (s.bound && !rejoin) || !s.mayAct(m.officer, m.callToken)) {
      if (s && s.id === m.sessionId) this.refuse(s, m.officer, m.sessionId);
      else this.busy(m.officer, m.sessionId, s ? "busy" : "no_session");
      return;
    }
    s.remoteSet = true;
    s.peer.setAnswer(m.sdp);
    if (rejoin) {
      this.d.log.info({ sessionId: s.id, officer: m.officer }, "console re-joined: answer taken");
      return;
    }
    s.bind(m.officer, m.callToken);
    this.signal.state(s); // every console sees at once who has the call
    this.d.log.info({ sessionId: s.id, officer: m.officer }, "officer connected to the session");
  }

  private onCandidate(m: CenterCandidateMsg): void {
    const s = this.session;
    if (s && s.id === m.sessionId && s.mayAct(m.officer, m.callToken)) s.peer.addCandidate(m.candidate, m.mid);
  }

  private async onPickup(m: PickupMsg): Promise<void> {
    const s = this.target(m.sessionId, m.officer, m.callToken);
    if (!s || s.ended || this.talking(s) || s.answeredAt !== undefined) return;
    s.answeredAt = Date.now();
    // while re-joining, the pickup takes effect once the new connection is up
    if (s.state !== "rejoining") this.setState(s, "answered");
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
    this.d.log.debug({ sessionId: s.id, peerState: st, state: s.state }, "peer state");
    if (s.ended || this.session !== s) return;
    if (st === "connected" && s.state === "offered") this.setState(s, "connected");
    if (st === "connected" && s.state === "rejoining") {
      this.d.log.info({ sessionId: s.id, officer: s.officer }, "console re-joined the call");
      this.setState(s, s.resumeState, "rejoined");
    }
    const peer = s.peer;
    const lost = () => (s.bound ? this.lost(s, peer) : void this.end("connection_lost", s));
    if (st === "failed" || st === "closed") lost();
    if (st === "disconnected") s.after(3000, () => s.peer === peer && peer.peerState === "disconnected" && lost());
  }

  /** A claimed session's connection is gone: wait for its console (once per connection). */
  private lost(s: CallSession, peer: PeerSession): void {
    if (s.ended || s.peer !== peer || s.state === "rejoining") return;
    void this.closePeer(peer);
    this.awaitRejoin(s, "connection_lost");
  }

  private warn(s: CallSession): void {
    if (s.ended) return;
    s.warned = true;
    this.d.speaker.beep(400, 880);
    if (s.state !== "rejoining") this.setState(s, "warning");
  }

  private async reroute(s: CallSession): Promise<void> {
    if (s.ended || s.answeredAt !== undefined || this.talking(s)) return;
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
    this.d.log.info({ sessionId: s.id, reason }, "call session ended");
    await Promise.all([this.closePeer(s.peer), this.d.speaker.stop(), this.d.mic.stop(), this.d.camera.release()]);
  }

  private setState(s: CallSession, state: CallState, reason?: string): void {
    s.state = state;
    this.signal.state(s, reason);
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

  private busy(to: string, sessionId: string | null, reason: BusyMsg["reason"]): void {
    this.signal.busy(to, sessionId, reason, this.session);
  }

  /** After a reconnect, an offer nobody answered is sent again (with its candidates). */
  private onReconnect(): void {
    const s = this.session;
    if (!s) {
      this.signal.clearState();
      return;
    }
    if (s.remoteSet || !s.offerPayload) return;
    this.signal.resend(s);
    this.signal.state(s);
  }
}
