import type { Logger } from "pino";
import type { PillarBus } from "../bus/events.js";
import { ClipSession } from "./clip-session.js";
import type { ClipStore } from "./clip-store.js";
import { IncidentClipTracker } from "./incident-clip.js";
import type { MediaSample } from "./media-samples.js";
import { PreRollBuffer } from "./pre-roll.js";
import { enforceQuota } from "./retention.js";
import { RtpSampler } from "./rtp-samples.js";

export interface RecordSettings {
  mode: "off" | "incident" | "continuous";
  preRollS: number;
  postRollS: number;
  preRollMaxMb: number;
  fragmentMs: number;
  quotaMb: number;
  retentionDays: number;
  segmentS: number;
}

/** Where the recorder gets its media: the streams the call already has (nothing is encoded twice). */
export interface MediaSources {
  video: { onPacket(l: (p: Buffer) => void): () => void };
  mic: { onRtp(l: (p: Buffer) => void): () => void };
  officer: { onPlay(l: (p: Buffer) => void): () => void };
}

/** Something kept running while the recorder needs it (the camera feed, the microphone). */
export interface Holdable {
  acquire(): Promise<void>;
  release(): Promise<void>;
}

declare module "../bus/events.js" {
  interface BusEvents {
    /** A clip was started or completed (docs/recording.md). */
    "record.clip": {
      clipId: string;
      kind: "incident" | "continuous";
      incidentId: string | null;
      state: "started" | "complete";
      at: number;
    };
  }
}

export interface RecorderDeps {
  bus: PillarBus;
  store: ClipStore;
  sources: MediaSources;
  holds: Holdable[];
  settings: () => RecordSettings;
  video: () => { width: number; height: number; fps: number };
  log: Logger;
  /** Wall clock (tests drive a simulated one). */
  now?: () => number;
}

/**
 * The recorder: keeps the pre-roll in memory and writes incident clips (pre-roll, the call,
 * post-roll) and, in `continuous` mode, a ring of segments under the quota. Media comes from
 * the call's own streams; every decision is made on the recorder's clock (`now`), so a test
 * can simulate hours of recording in seconds. RTP becomes samples in RtpSampler; when an
 * incident clip starts and ends is IncidentClipTracker's rule.
 */
export class Recorder {
  private readonly now: () => number;
  private readonly rtp = new RtpSampler();
  private preRoll!: PreRollBuffer;
  private offs: (() => void)[] = [];
  private timer: NodeJS.Timeout | undefined;
  private held: Holdable[] = [];
  private readonly incidents: IncidentClipTracker;
  private segment: ClipSession | undefined;
  private segmentStartedAt = 0;
  private housekeeping: Promise<unknown> = Promise.resolve();
  private lastEnforce = 0;
  /** Media time of the latest video sample (what a kill right now could lose is after the last fragment). */
  private lastSampleAt = 0;
  full = false;
  /** Sample bytes in the clips finished so far (the bench's write-amplification figure). */
  mediaBytesWritten = 0;
  lastError: string | null = null;
  private writeFault = false;

  constructor(private readonly d: RecorderDeps) {
    this.now = d.now ?? Date.now;
    this.incidents = new IncidentClipTracker({
      newClip: (incidentId, pressAt) => this.session("incident", incidentId, pressAt),
      close: (session) => this.close(session),
      preRollFrom: (at) => this.preRoll.from(at),
      preRollS: () => this.d.settings().preRollS,
      postRollS: () => this.d.settings().postRollS,
      now: () => this.now(),
    });
  }

  async start(): Promise<void> {
    const s = this.d.settings();
    const epoch = this.now();
    this.rtp.startClocks(epoch, this.d.video().fps);
    this.preRoll = new PreRollBuffer(
      // 2 s more than the pre-roll: the press reaches the recorder after its debounce and the bus.
      () => this.d.settings().preRollS * 1000 + 2000,
      () => this.d.settings().preRollMaxMb * 1024 * 1024,
    );
    if (s.mode === "off") return;
    const { sources, bus } = this.d;
    this.offs.push(
      sources.video.onPacket((p) => this.onVideo(p)),
      sources.mic.onRtp((p) => this.onAudio("mic", p)),
      sources.officer.onPlay((p) => this.onAudio("officer", p)),
      bus.on("incident.state", (e) => this.incidents.onIncident(e.state, e.incidentId, e.at)),
      bus.on("call.state", (e) => this.incidents.onCall(e.sessionId, e.state, e.incidentId)),
    );
    this.timer = setInterval(() => this.tick(), Math.min(250, s.fragmentMs));
    for (const h of this.d.holds) {
      await h.acquire();
      this.held.push(h);
    }
    this.enforce();
  }

  async stop(): Promise<void> {
    for (const off of this.offs) off();
    this.offs = [];
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    const open = [this.incidents.current?.session, this.segment].filter((s): s is ClipSession => !!s);
    this.incidents.current = undefined;
    this.segment = undefined;
    await Promise.all(open.map((s) => this.finish(s)));
    await this.housekeeping;
    for (const h of this.held.splice(0)) await h.release();
    this.preRoll?.clear();
  }

  /** For health and the control endpoint. */
  status(): Record<string, unknown> {
    const clips = this.d.store.list();
    const cur = this.incidents.current;
    return {
      mode: this.d.settings().mode,
      recording: cur ? { clipId: cur.session.id, incidentId: cur.incidentId } : null,
      segment: this.segment?.id ?? null,
      bytesUsed: this.d.store.usage(),
      quotaBytes: this.d.settings().quotaMb * 1024 * 1024,
      oldest: clips[0]?.start ?? null,
      clips: clips.length,
      protectedClips: clips.filter((c) => c.kind === "incident" && !c.confirmed).length,
      preRoll: this.preRoll?.size ?? null,
      full: this.full,
      lastError: this.lastError,
      lastSampleAt: this.lastSampleAt ? new Date(this.lastSampleAt).toISOString() : null,
    };
  }

  /** The health report's `recording` section (small: it travels in every heartbeat). */
  health(): Record<string, unknown> {
    const clips = this.d.store.list();
    return {
      mode: this.d.settings().mode,
      recording: this.incidents.current !== undefined,
      bytesUsed: this.d.store.usage(),
      quotaBytes: this.d.settings().quotaMb * 1024 * 1024,
      oldest: clips[0]?.start ?? null,
      protectedClips: clips.filter((c) => c.kind === "incident" && !c.confirmed).length,
      full: this.full,
      lastError: this.lastError,
    };
  }

  /** Video from the latest keyframe at or before `at` up to `at` (the press snapshot). */
  framesUpTo(at: number): MediaSample[] {
    return this.preRoll ? this.preRoll.from(at).filter((s) => s.track === "video" && s.at <= at) : [];
  }

  /** Resolves once every queued write is on disk (tests, the bench). */
  async settled(): Promise<void> {
    await Promise.all([this.incidents.current?.session.settled(), this.segment?.settled(), this.housekeeping]);
  }

  /** Feed the camera's RTP (normally from the feed; public for the simulated long runs). */
  onVideo(p: Buffer): void {
    for (const s of this.rtp.video(p, this.now)) this.ingest(s);
  }

  onAudio(track: "mic" | "officer", p: Buffer): void {
    const s = this.rtp.audio(track, p, this.now);
    if (s) this.ingest(s);
  }

  private ingest(s: MediaSample): void {
    if (s.track === "video") this.lastSampleAt = s.at;
    this.preRoll.push(s);
    this.incidents.current?.session.add(s);
    if (this.d.settings().mode === "continuous" && !this.full) this.continuous(s);
    this.tick();
  }

  private continuous(s: MediaSample): void {
    const segMs = this.d.settings().segmentS * 1000;
    if (this.segment && s.track === "video" && s.key && s.at - this.segmentStartedAt >= segMs) {
      const done = this.segment;
      this.segment = undefined;
      this.housekeeping = this.housekeeping.then(() => this.finish(done));
    }
    if (!this.segment && s.track === "video" && s.key) {
      this.segment = this.session("continuous", null, null);
      this.segmentStartedAt = s.at;
    }
    this.segment?.add(s);
  }

  private session(kind: "incident" | "continuous", incidentId: string | null, pressAt: number | null): ClipSession {
    const s = this.d.settings();
    const clip = new ClipSession({
      store: this.d.store,
      kind,
      incidentId,
      pressAt,
      video: this.d.video(),
      fragmentMs: s.fragmentMs,
      log: this.d.log,
      onError: (message) => this.writeTrouble(message),
    });
    this.d.bus.emit("record.clip", { clipId: clip.id, kind, incidentId, state: "started", at: this.now() });
    return clip;
  }

  private tick(): void {
    const now = this.now();
    this.incidents.tick(now);
    this.incidents.current?.session.tick(now);
    this.segment?.tick(now);
    // Pressure is checked while clips grow too (not only when one ends), so usage stays under the quota.
    if (now - this.lastEnforce >= 2000 && (this.incidents.current || this.segment)) {
      this.lastEnforce = now;
      this.enforce();
    }
  }

  /** A clip write failed or the card fell behind: one `record.write` fault until a clip ends clean. */
  private writeTrouble(message: string): void {
    this.lastError = message;
    if (this.writeFault) return;
    this.writeFault = true;
    this.d.bus.emit("fault.raised", { component: "record", code: "write", message, at: this.now() });
  }

  private close(session: ClipSession): void {
    this.housekeeping = this.housekeeping.then(() => this.finish(session));
  }

  private async finish(session: ClipSession): Promise<void> {
    try {
      const e = await session.finish();
      this.mediaBytesWritten += session.mediaBytes;
      if (session.lastError) this.lastError = session.lastError;
      else if (e && this.writeFault) {
        this.writeFault = false;
        this.d.bus.emit("fault.cleared", { component: "record", code: "write", at: this.now() });
      }
      if (e)
        this.d.bus.emit("record.clip", {
          clipId: e.id,
          kind: e.kind,
          incidentId: e.incidentId,
          state: "complete",
          at: this.now(),
        });
    } catch (err) {
      this.lastError = (err as Error).message;
      this.d.log.error({ err: this.lastError }, "clip could not be finished");
    }
    this.enforce();
  }

  /** Retention and disk pressure; raises/clears `record.full`. */
  enforce(): void {
    this.housekeeping = this.housekeeping.then(async () => {
      const s = this.d.settings();
      const r = await enforceQuota(this.d.store, {
        quotaBytes: s.quotaMb * 1024 * 1024,
        retentionMs: s.retentionDays * 86_400_000,
        now: this.now(),
      }).catch((err: Error) => ({ deleted: [], full: this.full, error: err.message }));
      if ("error" in r) this.lastError = r.error;
      if (r.full !== this.full) {
        this.full = r.full;
        if (r.full) {
          const message = `protected clips exceed the recording quota (${s.quotaMb} MB)`;
          this.d.log.error({ usage: this.d.store.usage() }, message);
          this.d.bus.emit("fault.raised", { component: "record", code: "full", message, at: this.now() });
          if (this.segment) this.close(this.segment);
          this.segment = undefined;
        } else this.d.bus.emit("fault.cleared", { component: "record", code: "full", at: this.now() });
      }
    });
  }
}
