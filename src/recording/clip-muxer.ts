import type { FragmentSample, TrackRun } from "./fmp4.js";
import { type MediaSample, TIMESCALE, type TrackName } from "./media-samples.js";

export const TRACK_ID: Record<TrackName, number> = { video: 1, mic: 2, officer: 3 };
const TRACKS: TrackName[] = ["video", "mic", "officer"];

/**
 * Turns the recorder's samples into fragment runs for one clip: times relative to the clip's
 * zero (its first video keyframe), each sample's duration from the next one's time. The last
 * sample of a track waits for the next (its duration is not known yet) unless the clip ends.
 * A gap in a track (camera restarting, audio not flowing) closes the run before it: the next
 * fragment's decode time carries the jump, so no sample gets a giant duration.
 */
export class ClipMuxer {
  private readonly queues: Record<TrackName, MediaSample[]> = { video: [], mic: [], officer: [] };
  private readonly zero: Record<TrackName, number>;
  private readonly defaultDur: Record<TrackName, number>;
  /** Wall-clock time of the clip's first sample and of the last one taken. */
  readonly startAt: number;
  lastAt: number;

  constructor(first: MediaSample, fps: number) {
    const zeroS = first.dts / TIMESCALE[first.track];
    this.zero = {
      video: Math.round(zeroS * TIMESCALE.video),
      mic: Math.round(zeroS * TIMESCALE.mic),
      officer: Math.round(zeroS * TIMESCALE.officer),
    };
    this.defaultDur = { video: Math.round(TIMESCALE.video / fps), mic: 960, officer: 960 };
    this.startAt = first.at;
    this.lastAt = first.at;
  }

  /** Queue a sample; true when it follows a gap (the caller flushes the fragment first). */
  gapBefore(s: MediaSample): boolean {
    const q = this.queues[s.track];
    const prev = q[q.length - 1];
    return prev !== undefined && s.dts - prev.dts > 4 * this.defaultDur[s.track] + TIMESCALE[s.track] / 5;
  }

  add(s: MediaSample): void {
    if (s.dts < this.zero[s.track]) return; // audio from before the first keyframe
    this.queues[s.track].push(s);
    this.lastAt = Math.max(this.lastAt, s.at);
  }

  /** The runs of the next fragment. `all`: also the last sample of each track (clip end, gap). */
  take(all: boolean): TrackRun[] {
    const runs: TrackRun[] = [];
    for (const t of TRACKS) {
      const q = this.queues[t];
      const n = all ? q.length : q.length - 1;
      if (n <= 0) continue;
      const samples: FragmentSample[] = [];
      for (let i = 0; i < n; i++) {
        const s = q[i]!;
        const next = q[i + 1];
        samples.push({
          data: s.data,
          key: s.key || t !== "video",
          duration: next ? next.dts - s.dts : this.defaultDur[t],
        });
      }
      runs.push({ trackId: TRACK_ID[t], baseDecodeTime: q[0]!.dts - this.zero[t], samples });
      this.queues[t] = q.slice(n);
    }
    return runs;
  }

  /** Media time (s) covered so far, by the video track's clock. */
  durationS(): number {
    return (this.lastAt - this.startAt) / 1000;
  }
}
