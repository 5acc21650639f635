import { randomBytes } from "node:crypto";
import mqtt, { type MqttClient } from "mqtt";
import nodeDataChannel, { type PeerConnection, type Track } from "node-datachannel";

const OFFICER_SSRC = 0x0ff1ce42;

/**
 * A control-center officer in Node: an MQTT client speaking the signaling contract and a
 * node-datachannel peer that answers the pillar's offers and counts the RTP it receives.
 */
export class NodeOfficer {
  client!: MqttClient;
  readonly offers: Record<string, any>[] = [];
  readonly sessions: Record<string, any>[] = [];
  readonly busy: Record<string, any>[] = [];
  readonly received = { video: 0, audio: 0 };
  pc: PeerConnection | undefined;
  private voice = false;
  /** Kept referenced: a Track whose JS object is garbage-collected stops calling onMessage. */
  private tracks: Track[] = [];
  sessionId: string | undefined;
  /**
   * Re-join my call when the pillar says it lost my side (`rejoining`, `connection_lost`), as the
   * console does after a network blip or a reload (docs/call.md "Re-join").
   */
  autoRejoin = false;
  /** This console's secret call token (docs/call.md): sent with the answer and every act on the call. */
  callToken = randomBytes(18).toString("base64url");

  constructor(
    readonly name: string,
    private readonly url: string,
    private readonly pillarId: string,
    /** Answer every offer (addressed to all or to me) at once. */
    private readonly autoAnswer = true,
    private readonly offerTopics: string[] = [],
    /** A persistent session (clean: false): messages published while it is away are kept for it. */
    private readonly persistent = false,
  ) {}

  private topic(suffix: string): string {
    return `pillar/v1/${this.pillarId}/${suffix}`;
  }

  async start(): Promise<this> {
    const clientId = this.persistent
      ? `${this.name}-persistent`
      : `${this.name}-${Math.random().toString(16).slice(2, 8)}`;
    this.client = await mqtt.connectAsync(this.url, {
      clientId,
      clean: !this.persistent,
      reconnectPeriod: 200,
      protocolVersion: 4,
    });
    this.client.on("message", (topic, payload) => {
      let m: Record<string, any>;
      try {
        m = JSON.parse(payload.toString()) as Record<string, any>;
      } catch {
        return; // e.g. a malformed message a test sent on purpose
      }
      if (!m) return;
      if (topic.endsWith("/offer")) {
        if (m.to && m.to !== this.name) return;
        this.offers.push(m);
        if (this.autoAnswer || (this.autoRejoin && m.rejoin === true)) this.answer(m);
      } else if (topic.endsWith("/webrtc/session")) {
        this.sessions.push(m);
        if (this.autoRejoin && m.state === "rejoining" && m.reason === "connection_lost" && m.officer === this.name)
          void this.send("webrtc/request", { officer: this.name, kind: m.kind, sessionId: m.sessionId });
      } else if (topic.endsWith("/webrtc/busy") && m.to === this.name) this.busy.push(m);
      else if (topic.endsWith("/webrtc/candidate/pillar") && m.sessionId === this.sessionId)
        this.pc?.addRemoteCandidate(m.candidate, m.mid);
    });
    await this.client.subscribeAsync([this.topic("webrtc/#"), ...this.offerTopics], { qos: 1 });
    return this;
  }

  /** From the next answer on, this officer has a voice: `sendAudio` speaks into the call. */
  speaks(): this {
    this.voice = true;
    return this;
  }

  /** Answer an offer with a fresh peer connection. */
  answer(offer: Record<string, any>): void {
    this.pc?.close();
    const pc = new nodeDataChannel.PeerConnection(this.name, { iceServers: [], bindAddress: "127.0.0.1" });
    this.pc = pc;
    this.sessionId = offer.sessionId;
    const sessionId = offer.sessionId as string;
    pc.onLocalDescription((sdp, type) => {
      if (type === "answer") void this.send("webrtc/answer", { sessionId, officer: this.name, sdp });
    });
    pc.onLocalCandidate(
      (candidate, mid) => void this.send("webrtc/candidate/center", { sessionId, officer: this.name, candidate, mid }),
    );
    this.tracks = [];
    const count = (track: Track) => {
      this.tracks.push(track);
      const kind = track.type() === "video" ? "video" : "audio";
      track.onMessage((m) => {
        if (m.length > 12 && !(m[1]! >= 192 && m[1]! <= 223)) this.received[kind]++;
      });
    };
    pc.onTrack(count);
    if (this.voice) {
      // An audio track of our own, declared before the answer, so the answer names our SSRC (as a
      // browser's does) and the pillar's libdatachannel routes our packets to its audio track.
      const a = new nodeDataChannel.Audio("audio", "SendRecv");
      a.addOpusCodec(111);
      a.addSSRC(OFFICER_SSRC, "officer-voice", "officer", "voice");
      count(pc.addTrack(a));
    }
    pc.setRemoteDescription(offer.sdp as string, "offer");
  }

  /**
   * Publish as the center does: `issuedAt` now, and this console's `callToken` on the messages
   * that act on a call, unless the payload sets them itself (a test may send a wrong or no token:
   * `callToken: undefined` leaves it out).
   */
  send(suffix: string, payload: Record<string, unknown>): Promise<unknown> {
    const withToken = /^webrtc\/(answer|candidate\/center|pickup|hangup|request)$/.test(suffix);
    const body = {
      ...(withToken ? { callToken: this.callToken } : {}),
      issuedAt: new Date().toISOString(),
      ...payload,
    };
    return this.client.publishAsync(this.topic(suffix), JSON.stringify(body), { qos: 1 });
  }

  sendRaw(suffix: string, payload: string): Promise<unknown> {
    return this.client.publishAsync(this.topic(suffix), payload, { qos: 1 });
  }

  /**
   * Speak into the call: one Opus RTP packet (from any source, e.g. a SimMicrophone in the test)
   * sent on the answered audio track with this officer's payload type. False when no audio track yet.
   */
  sendAudio(rtp: Buffer): boolean {
    if (!this.voice) throw new Error("call speaks() before the answer to send audio");
    const track = this.tracks.find((t) => t.type() === "audio" && t.isOpen());
    if (!track || rtp.length < 12) return false;
    const p = Buffer.from(rtp);
    p[1] = (p[1]! & 0x80) | 111; // the Opus payload type the pillar offers (src/call/peer-session.ts)
    p.writeUInt32BE(OFFICER_SSRC, 8);
    return track.sendMessageBinary(p);
  }

  lastState(sessionId?: string): Record<string, any> | undefined {
    return [...this.sessions].reverse().find((s) => !sessionId || s.sessionId === sessionId);
  }

  async stop(): Promise<void> {
    this.pc?.close();
    this.pc = undefined;
    await this.client?.endAsync(true);
  }
}
