import type { Logger } from "pino";
import type { Microphone, Speaker } from "../../hal/audio.js";
import type { PillarBus } from "../bus/events.js";
import type { FreshnessSettings } from "../commands/freshness.js";
import { uuidv7 } from "../util/uuid-v7.js";
import type { CameraFeed } from "./camera-feed.js";
import { CallSession, type CallSettings, type CallState, type CenterRole, type SessionKind } from "./call-session.js";
import type { PeerSession, PeerState } from "./peer-session.js";
import { CallPeers } from "./call-peers.js";
import { CallVolumes } from "./call-volumes.js";
import { CallSignaler, type SignalingTransport } from "./call-signaler.js";
import { CenterMessages } from "./center-messages.js";
import type { BusyMsg } from "./signaling.js";

export type { SignalingTransport } from "./call-signaler.js";
export { DEFAULT_MAX_PEERS } from "./call-peers.js";

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

/**
 * The call: one WebRTC session at a time between the pillar and an officer, signaled over MQTT
 * (src/call/signaling.ts). A press offers an alarm session at once (video only: the officer
 * sees the caller); the first console to answer claims it (the others get "answered by …");
 * its pickup opens two-way audio. When the officer's side drops, the session waits
 * `rejoinGraceS` for the same console (its callToken) to re-join with a new peer connection.
 * Ends by hang-up from either side, the call limit (warning first), a lost connection not
 * re-joined in time, or the incident's close; an alarm nobody picks up goes to the secondary.
 * Which console may do what to the session is decided in CenterMessages (center-messages.ts).
 */
export class CallService {
  private session: CallSession | undefined;
  private offs: (() => void)[] = [];
  private incident: { state: string; incidentId: string | null } = { state: "idle", incidentId: null };
  /** The volumes `call.volume` reads and sets (also applied at each pickup). */
  readonly volumes: CallVolumes;
  /** Peer connections alive: the active one and those still closing (bounded by maxPeerSessions). */
  private readonly peers: CallPeers;

  private signal!: CallSignaler;

  constructor(private readonly d: CallServiceDeps) {
    const { speaker, mic, log } = d;
    this.volumes = new CallVolumes({
      speaker,
      mic,
      log,
      configured: () => d.settings().volumes,
      session: () => this.session,
    });
    this.peers = new CallPeers({
      settings: () => this.d.settings(),
      camera: this.d.camera,
      log: this.d.log,
      events: {
        candidate: (s, candidate, mid) => this.signal.candidate(s, candidate, mid),
        state: (s, st) => this.onPeerState(s, st),
        audio: (s, p) => (s.talking && !this.d.prompts?.speaking ? this.d.speaker.play(p) : undefined),
      },
    });
  }

  async start(): Promise<void> {
    const { transport: t, bus, camera } = this.d;
    this.signal = new CallSignaler({
      transport: t,
      pillarId: this.d.pillarId,
      secondaryCenterTopic: () => this.d.settings().secondaryCenterTopic,
      log: this.d.log,
    });
    const freshness = () => this.d.freshness?.() ?? { maxAgeS: 60, clockToleranceS: 5, required: false };
    const center = new CenterMessages(
      {
        session: () => this.session,
        incident: () => this.incident,
        peers: this.peers,
        offer: (kind, incidentId, role, to) => this.offer(kind, incidentId, role, to),
        end: (reason, only) => this.end(reason, only),
        rejoin: (s, officer) => this.rejoin(s, officer),
        pickUp: (s, officer) => this.pickUp(s, officer),
        resendOffer: (s) => this.resendOffer(s),
        busy: (to, sessionId, reason) => this.busy(to, sessionId, reason),
      },
      this.signal,
      this.d.log,
    );
    this.offs.push(
      ...this.signal.listen(freshness, center),
      // a self-test's press calls nobody: the installer is at the pillar
      bus.on("incident.state", (s) =>
        s.test ? undefined : this.onIncident(s.state, s.incidentId).catch((err) => this.offerFailed(err)),
      ),
      bus.on("incident.press", (p) =>
        p.test ? undefined : this.onRepeatPress(p.incidentId).catch((err) => this.offerFailed(err)),
      ),
      bus.on("uplink.connected", () => this.onReconnect()),
      camera.onPacket((p) => this.session?.peer.sendVideo(p)),
      this.d.mic.onRtp((p) => (this.session?.talking ? this.session.peer.sendAudio(p) : undefined)),
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
    const peer = this.peers.make(() => s, id);
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
    if (state === "alarm" && incidentId) await this.alarmCall(incidentId);
    else if (state === "idle" && s?.kind === "alarm") await this.end("incident_closed", s);
  }

  /** An alarm call for `incidentId` unless one lives: a look-in (or another incident's call) ends first. */
  private async alarmCall(incidentId: string): Promise<void> {
    const s = this.session;
    if (s?.kind === "alarm" && s.incidentId === incidentId) return;
    if (s) await this.end("alarm", s);
    await this.offer("alarm", incidentId, "primary", null);
  }

  /**
   * A press on an open incident whose call is over (the officer hung up, the call limit, a console
   * that never came back): the caller is asking to talk again, so a new alarm call is offered.
   * A press during a live alarm call changes nothing.
   */
  private async onRepeatPress(incidentId: string): Promise<void> {
    await new Promise((r) => setImmediate(r));
    if (this.incident.incidentId !== incidentId || this.incident.state === "idle") return;
    await this.alarmCall(incidentId);
  }

  /** An alarm offer that failed (camera, WebRTC) is logged; the next press tries again. */
  private offerFailed(err: unknown): void {
    this.d.log.error({ err: (err as Error).message }, "alarm call could not be offered");
  }

  /** Peer connections open now (the active one and any still closing). */
  get peerCount(): number {
    return this.peers.size;
  }

  /**
   * The claiming console asked again (reload, network blip): the same session gets a new peer
   * connection and a new offer (`rejoin: true`, to that officer); the caller's side, the
   * incident, the timers and the binding stay. The newest re-join wins.
   */
  private async rejoin(s: CallSession, officer: string): Promise<void> {
    if (this.peers.size > this.peers.max) return this.busy(officer, s.id, "busy");
    const old = s.peer;
    const peer = this.peers.make(() => s, s.id);
    s.peer = peer;
    s.remoteSet = false;
    s.offerPayload = undefined;
    s.candidates = [];
    void this.peers.close(old);
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

  /** The console that has the call picked it up: two-way audio at the current volumes. */
  private async pickUp(s: CallSession, officer: string): Promise<void> {
    s.answeredAt = Date.now();
    // while re-joining, the pickup takes effect once the new connection is up
    if (s.state !== "rejoining") this.setState(s, "answered");
    this.volumes.apply();
    await Promise.all([this.d.speaker.start(), this.d.mic.start()]);
    this.d.log.info({ sessionId: s.id, officer }, "call answered: two-way audio");
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
    void this.peers.close(peer);
    this.awaitRejoin(s, "connection_lost");
  }

  private warn(s: CallSession): void {
    if (s.ended) return;
    s.warned = true;
    this.d.speaker.beep(400, 880);
    if (s.state !== "rejoining") this.setState(s, "warning");
  }

  private async reroute(s: CallSession): Promise<void> {
    if (s.ended || s.answeredAt !== undefined || s.talking) return;
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
    await Promise.all([this.peers.close(s.peer), this.d.speaker.stop(), this.d.mic.stop(), this.d.camera.release()]);
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
    this.resendOffer(s);
  }

  private resendOffer(s: CallSession): void {
    this.signal.resend(s);
    this.signal.state(s);
  }
}
