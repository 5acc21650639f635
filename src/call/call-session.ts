import { createHash, timingSafeEqual } from "node:crypto";
import type { PeerSession } from "./peer-session.js";

export type SessionKind = "alarm" | "lookin";
export type CallState = "offered" | "connected" | "answered" | "warning" | "rejoining" | "ended";
export type CenterRole = "primary" | "secondary";

declare module "../bus/events.js" {
  interface BusEvents {
    /** The call's state changed (docs/call.md). */
    "call.state": {
      sessionId: string;
      kind: SessionKind;
      state: CallState;
      incidentId: string | null;
      officer: string | null;
      reason?: string;
      at: number;
    };
  }
}

/** What the call feature reads from the config's `call` section. */
export interface CallSettings {
  enabled: boolean;
  callLimitS: number;
  warningBeforeEndS: number;
  answerTimeoutS: number;
  /** How long the caller's side waits for the claiming console to re-join (default 30). */
  rejoinGraceS?: number;
  secondaryCenterTopic?: string;
  iceServers: string[];
  bindAddress?: string;
  volumes: { speaker: number; micGainDb: number };
  /** Peer connections alive at once (active + closing); a request beyond it gets `busy`. */
  maxPeerSessions?: number;
}

/** One call (or look-in) session: who may take it, who has it, its state and timers. */
export class CallSession {
  state: CallState = "offered";
  /** The officer whose SDP answer was taken (null until then). */
  officer: string | null = null;
  remoteSet = false;
  /** SHA-256 of the answering console's call token: whoever acts on the call must show it. */
  private tokenHash: Buffer | undefined;
  answeredAt: number | undefined;
  endsAt: number;
  /** The offer payload and candidates, re-sent after a reconnect while nobody answered. */
  offerPayload: string | undefined;
  candidates: string[] = [];
  /** The call-limit warning was given. */
  warned = false;
  /** rejoining: the call ends at this time (ms) unless its console re-joins. */
  graceUntil: number | undefined;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    readonly id: string,
    readonly kind: SessionKind,
    readonly incidentId: string | null,
    readonly center: CenterRole,
    /** The officer who asked for it, or null: offered to every console. */
    readonly to: string | null,
    /** The current peer connection (a re-join replaces it; the session stays). */
    public peer: PeerSession,
    readonly createdAt: number,
    limitS: number,
  ) {
    this.endsAt = createdAt + limitS * 1000;
  }

  /** Bind the session to the console that answered: its officer id and its secret token. */
  bind(officer: string, token: string): void {
    this.officer = officer;
    this.tokenHash = createHash("sha256").update(token).digest();
  }

  /** True when `token` is the answering console's token. */
  holds(token: string | undefined): boolean {
    if (!this.tokenHash || token === undefined) return false;
    return timingSafeEqual(this.tokenHash, createHash("sha256").update(token).digest());
  }

  get bound(): boolean {
    return this.tokenHash !== undefined;
  }

  /**
   * Whether `officer` may act on this session (candidates, pickup, hangup): once answered, only
   * the console that answered (same officer and token); before, anyone it was offered to.
   */
  mayAct(officer: string, token?: string): boolean {
    if (this.bound) return this.officer === officer && this.holds(token);
    return this.to === null || this.to === officer;
  }

  get ended(): boolean {
    return this.state === "ended";
  }

  /** Two-way audio is open (answered, or in its last minute). */
  get talking(): boolean {
    return this.state === "answered" || this.state === "warning";
  }

  /** The session for /state, /call and the console. */
  snapshot(): Record<string, unknown> {
    return {
      sessionId: this.id,
      kind: this.kind,
      state: this.state,
      incidentId: this.incidentId,
      center: this.center,
      officer: this.officer,
      endsAt: new Date(this.endsAt).toISOString(),
      ...(this.state === "rejoining" && this.graceUntil
        ? { graceEndsAt: new Date(this.graceUntil).toISOString() }
        : {}),
    };
  }

  /** The state to go back to once the console re-joined. */
  get resumeState(): CallState {
    return this.warned ? "warning" : this.answeredAt !== undefined ? "answered" : "connected";
  }

  after(ms: number, fn: () => void): void {
    const t = setTimeout(
      () => {
        this.timers.delete(t);
        fn();
      },
      Math.max(0, ms),
    );
    this.timers.add(t);
  }

  clearTimers(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}
