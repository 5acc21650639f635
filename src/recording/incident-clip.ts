import type { ClipSession } from "./clip-session.js";
import type { MediaSample } from "./media-samples.js";

/** The incident clip being written and what its end waits for. */
export interface OpenIncidentClip {
  session: ClipSession;
  incidentId: string;
  /** The incident is still in alarm. */
  open: boolean;
  /** A call of this incident runs. */
  callActive: boolean;
  /** An answered call of this incident ended. */
  callDone: boolean;
  /** Post-roll running: the clip closes at this time (recorder clock, ms). */
  postRollUntil?: number;
}

/**
 * When an incident clip starts and ends: a press opens one (with the pre-roll), a repeated
 * alarm of the same incident keeps it, and the post-roll starts once no call runs and the
 * incident is closed or its answered call ended. Kept apart from the Recorder (media in, clips
 * out, quota) because this is the one rule of the recording that follows the incident and the
 * call, and it reads best on its own.
 */
export class IncidentClipTracker {
  current: OpenIncidentClip | undefined;
  /** Call sessions answered (their end completes an incident's call). */
  private readonly answered = new Set<string>();

  constructor(
    private readonly d: {
      /** A new incident clip session (the recorder emits `record.clip` started). */
      newClip: (incidentId: string, pressAt: number) => ClipSession;
      /** Finish a clip in the background. */
      close: (session: ClipSession) => void;
      /** The buffered media from `at` on (the pre-roll). */
      preRollFrom: (at: number) => MediaSample[];
      preRollS: () => number;
      postRollS: () => number;
      now: () => number;
    },
  ) {}

  onIncident(state: string, incidentId: string | null, at: number): void {
    const cur = this.current;
    if (state === "alarm" && incidentId) {
      if (cur?.incidentId === incidentId) {
        cur.open = true;
        cur.postRollUntil = undefined;
        return;
      }
      if (cur) this.d.close(cur.session);
      const session = this.d.newClip(incidentId, at);
      this.current = { session, incidentId, open: true, callActive: false, callDone: false };
      for (const s of this.d.preRollFrom(at - this.d.preRollS() * 1000)) session.add(s);
      return;
    }
    if (state === "idle" && cur) {
      cur.open = false;
      this.maybeEnd();
    }
  }

  onCall(sessionId: string, state: string, incidentId: string | null): void {
    const cur = this.current;
    if (state === "answered") this.answered.add(sessionId);
    if (!cur || (incidentId !== null && incidentId !== cur.incidentId)) return;
    cur.callActive = state !== "ended";
    if (state === "ended" && this.answered.delete(sessionId)) cur.callDone = true;
    if (cur.callActive) cur.postRollUntil = undefined;
    this.maybeEnd();
  }

  /** Close the clip once its post-roll ran out. */
  tick(now: number): void {
    const cur = this.current;
    if (cur?.postRollUntil !== undefined && now >= cur.postRollUntil) {
      this.current = undefined;
      this.d.close(cur.session);
    }
  }

  /** Post-roll starts once no call runs and the incident is closed or its answered call ended. */
  private maybeEnd(): void {
    const cur = this.current;
    if (!cur || cur.callActive || (cur.open && !cur.callDone) || cur.postRollUntil !== undefined) return;
    cur.postRollUntil = this.d.now() + this.d.postRollS() * 1000;
  }
}
