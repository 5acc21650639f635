import { publish } from "./api.js";
import type { BusyMsg, OfferMsg, SessionMsg } from "./model.js";

/** One call session as this page sees it. */
export interface Call {
  sessionId: string;
  pillarId: string;
  kind: "alarm" | "lookin";
  incidentId: string | null;
  /** The latest offer of this session (re-sent or a re-join's). */
  offer?: OfferMsg;
  pc?: RTCPeerConnection;
  /** This tab claimed the call (answered it): it holds the call's token. */
  mine: boolean;
  /** This tab's officer picked up (two-way audio). */
  pickedUp: boolean;
  /** Another officer has the call. */
  takenBy?: string;
  rejoining: boolean;
  /** Another tab of this officer took the call over (with server identity): this one lets go. */
  yielded?: boolean;
  video: MediaStream | null;
  audio: MediaStream | null;
  mic?: MediaStream;
  /** Pillar candidates that came before the answer was made. */
  early: RTCIceCandidateInit[];
  problem?: string;
}

const LIVE = new Set(["offered", "connected", "answered", "warning", "rejoining"]);
const CLAIMED_KEY = "claimedSessions";

/**
 * The page's side of the call signaling (docs/call.md, issue 12 protocol notes): offers are kept
 * until the officer clicks Answer (the answer claims the call; the first console wins, the others
 * show "answered by …"); a call this tab claimed is re-joined after a reload or a network blip by
 * asking the pillar for a new offer of the same session with the tab's token (sessionStorage).
 */
export class Calls {
  readonly byId = new Map<string, Call>();
  private readonly asked = new Map<string, number>();
  /** A refusal that concerns no card (e.g. a look-in while another officer has the pillar). */
  notice: { pillarId: string; who: string } | null = null;
  readonly stats = { frames: 0, firstFrameAt: null as number | null, sessions: 0, rejoins: 0, busy: null as unknown };
  onChange: () => void = () => undefined;

  /** With server identity: this officer's tabs tell each other which call one of them took. */
  private readonly tabs: BroadcastChannel | undefined;

  /**
   * `shared`: the officer is the server's (center accounts): a call picked up by this officer is
   * theirs in any tab or browser (the server keeps their call token), so a new tab re-joins it
   * and the tab that had it lets go. Without (the open demo console), calls are per tab.
   */
  constructor(
    readonly me: string,
    private readonly token: string,
    private readonly shared = false,
  ) {
    if (!shared || typeof BroadcastChannel === "undefined") return;
    this.tabs = new BroadcastChannel(`calls.${me}`);
    this.tabs.onmessage = (e: MessageEvent<{ took?: string }>) => {
      const c = e.data.took ? this.byId.get(e.data.took) : undefined;
      if (!c) return;
      c.yielded = true;
      c.mine = false;
      this.setClaimed(c.sessionId, false);
      this.close(c);
      this.onChange();
    };
  }

  /** The call of an alarm card (its incident) or of a look-in card (its pillar). */
  forIncident(incidentId: string): Call | undefined {
    return [...this.byId.values()].reverse().find((c) => c.incidentId === incidentId);
  }
  lookIns(): Call[] {
    return [...this.byId.values()].filter((c) => c.kind === "lookin" && (c.mine || c.offer?.to === this.me));
  }

  private claimed(): Set<string> {
    try {
      return new Set(JSON.parse(sessionStorage.getItem(CLAIMED_KEY) ?? "[]") as string[]);
    } catch {
      return new Set();
    }
  }
  private setClaimed(sessionId: string, on: boolean): void {
    const s = this.claimed();
    if (on) s.add(sessionId);
    else s.delete(sessionId);
    sessionStorage.setItem(CLAIMED_KEY, JSON.stringify([...s].slice(-20)));
  }

  private call(sessionId: string, pillarId: string, kind: Call["kind"], incidentId: string | null): Call {
    let c = this.byId.get(sessionId);
    if (!c) {
      c = {
        sessionId,
        pillarId,
        kind,
        incidentId,
        mine: this.claimed().has(sessionId),
        pickedUp: false,
        rejoining: false,
        video: null,
        audio: null,
        early: [],
      };
      this.byId.set(sessionId, c);
      if (this.byId.size > 50) this.drop(this.byId.values().next().value!);
    }
    return c;
  }

  onOffer(o: OfferMsg): void {
    if (o.to && o.to !== this.me) return;
    const c = this.call(o.sessionId, o.pillarId, o.kind, o.incidentId);
    c.offer = o;
    c.early = [];
    // A look-in this officer asked for, or a re-join of this tab's call (with server identity:
    // only the tab that asked, the officer's other tabs get the same offer): answered at once.
    const askedHere = !this.shared || Date.now() - (this.asked.get(o.sessionId) ?? 0) < 15_000;
    if (o.to === this.me && (o.kind === "lookin" || (c.mine && askedHere)))
      void this.connect(c, o.kind === "alarm").catch((err: Error) => this.failed(c, err));
    this.onChange();
  }

  onCandidate(m: { sessionId: string; candidate: string; mid: string }): void {
    const c = this.byId.get(m.sessionId);
    const cand = { candidate: m.candidate, sdpMid: m.mid };
    if (c?.pc?.remoteDescription) c.pc.addIceCandidate(cand).catch(() => undefined);
    else if (c && c.early.length < 64) c.early.push(cand);
  }

  onSession(pillarId: string, s: SessionMsg | null, replay: boolean): void {
    if (!s) return;
    if (!LIVE.has(s.state)) {
      const c = this.byId.get(s.sessionId);
      if (c) this.drop(c);
      this.setClaimed(s.sessionId, false);
      this.onChange();
      return;
    }
    const c = this.call(s.sessionId, pillarId, s.kind, s.incidentId);
    // this officer's call, from another tab or a restarted browser: theirs here too (re-joined below)
    if (this.shared && s.officer === this.me && !c.mine && !c.yielded && s.kind === "alarm") c.mine = true;
    c.takenBy = s.officer && (s.officer !== this.me || !c.mine) ? s.officer : undefined;
    if (c.takenBy && c.pc && !c.mine) this.close(c);
    if (s.officer === this.me && c.mine) {
      if (s.state === "answered" || s.state === "warning") c.pickedUp = true;
      c.rejoining = s.state === "rejoining";
      // after a reload (no peer yet) or when the pillar lost us: ask for a new offer of the same session
      if (!c.pc || s.state === "rejoining" || replay) this.rejoin(c);
    } else if (!s.officer && s.state === "offered" && !c.offer && s.kind === "alarm") {
      // an unclaimed alarm call whose offer this page never saw (it just loaded): ask for it again
      this.ask(c, { officer: this.me, kind: "alarm" });
    }
    this.onChange();
  }

  onBusy(b: BusyMsg): void {
    if (b.to !== this.me) return;
    this.stats.busy = b;
    const c = b.sessionId ? this.byId.get(b.sessionId) : undefined;
    if (c) {
      c.takenBy = b.activeOfficer ?? undefined;
      c.problem = b.message;
      if (c.mine && b.reason !== "no_session") {
        c.mine = false;
        this.setClaimed(c.sessionId, false);
      }
      this.close(c);
    } else this.notice = { pillarId: b.pillarId, who: b.activeOfficer ?? "?" };
    this.onChange();
  }

  /** The officer clicks Answer: claim the call (answer), then pick up (two-way audio). */
  async answer(c: Call): Promise<void> {
    if (!c.offer || c.takenBy) return;
    c.mine = true;
    this.setClaimed(c.sessionId, true);
    await this.connect(c, true).catch((err: Error) => this.failed(c, err));
  }

  private failed(c: Call, err: Error): void {
    c.problem = err.message;
    this.onChange();
  }

  /** Look in at a pillar (a session offered to this officer only). */
  lookIn(pillarId: string): void {
    void publish(pillarId, "webrtc/request", { officer: this.me, kind: "lookin", callToken: this.token });
  }

  async hangup(c: Call): Promise<void> {
    await publish(c.pillarId, "webrtc/hangup", { sessionId: c.sessionId, officer: this.me, callToken: this.token });
    this.setClaimed(c.sessionId, false);
    this.drop(c);
    this.onChange();
  }

  private rejoin(c: Call): void {
    if (c.yielded) return;
    if (this.ask(c, { officer: this.me, kind: c.kind, sessionId: c.sessionId, callToken: this.token })) {
      this.stats.rejoins++;
      this.tabs?.postMessage({ took: c.sessionId });
    }
    c.rejoining = true;
  }

  /** A `webrtc/request`, at most one per session every 3 s. */
  private ask(c: Call, payload: Record<string, unknown>): boolean {
    const last = this.asked.get(c.sessionId) ?? 0;
    if (Date.now() - last < 3000) return false;
    this.asked.set(c.sessionId, Date.now());
    void publish(c.pillarId, "webrtc/request", payload);
    return true;
  }

  private async connect(c: Call, pickup: boolean): Promise<void> {
    const o = c.offer!;
    if (c.pc) this.close(c);
    c.mine = true;
    this.setClaimed(c.sessionId, true);
    const pc = new RTCPeerConnection({ iceServers: [] });
    c.pc = pc;
    this.stats.sessions++;
    pc.ontrack = (e) => {
      if (e.track.kind === "video") c.video = new MediaStream([e.track]);
      else c.audio = new MediaStream([e.track]);
      this.onChange();
    };
    pc.onicecandidate = (e) => {
      if (e.candidate)
        void publish(c.pillarId, "webrtc/candidate/center", {
          sessionId: c.sessionId,
          officer: this.me,
          callToken: this.token,
          candidate: e.candidate.candidate,
          mid: e.candidate.sdpMid ?? "0",
        });
    };
    pc.onconnectionstatechange = () => {
      if (pc.connectionState === "connected") c.rejoining = false;
      if (pc.connectionState === "failed" && c.pc === pc && c.mine) this.rejoin(c);
      this.onChange();
    };
    await pc.setRemoteDescription({ type: "offer", sdp: o.sdp });
    const audioTx = pc.getTransceivers().find((t) => t.receiver.track.kind === "audio");
    if (audioTx && pickup) {
      audioTx.direction = "sendrecv";
      try {
        c.mic ??= await navigator.mediaDevices.getUserMedia({
          audio: { echoCancellation: true, noiseSuppression: true },
        });
        await audioTx.sender.replaceTrack(c.mic.getAudioTracks()[0] ?? null);
      } catch (err) {
        c.problem = (err as Error).message;
      }
    }
    await pc.setLocalDescription(await pc.createAnswer());
    await publish(c.pillarId, "webrtc/answer", {
      sessionId: c.sessionId,
      officer: this.me,
      sdp: pc.localDescription!.sdp,
      callToken: this.token,
    });
    for (const cand of c.early.splice(0)) pc.addIceCandidate(cand).catch(() => undefined);
    if (pickup && !c.pickedUp && !o.rejoin) {
      await publish(c.pillarId, "webrtc/pickup", { sessionId: c.sessionId, officer: this.me, callToken: this.token });
      c.pickedUp = true;
    }
    this.onChange();
  }

  private close(c: Call): void {
    c.pc?.close();
    c.pc = undefined;
    c.video = null;
    c.audio = null;
  }

  private drop(c: Call): void {
    this.close(c);
    for (const t of c.mic?.getTracks() ?? []) t.stop();
    this.byId.delete(c.sessionId);
  }
}
